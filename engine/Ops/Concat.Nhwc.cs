using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;

namespace Engine.Ops;

/// <summary>
/// Channel concatenation's CPU path in NHWC: at every pixel the inputs' channel runs follow one
/// another, so an input is not one block per sample and cannot be a view (the executor plans no
/// views in NHWC); each input is copied run by run, and backward copies (or adds) the runs back.
/// </summary>
public sealed partial class Concat
{
    private static void ForwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = n.Out(0);
        int total = n.OutShape(0)[1], pixels = (int)(n.OutShape(0).Numel / total), offset = 0;
        for (int i = 0; i < n.Node.Inputs.Length; i++)
        {
            int channels = n.InShape(i)[1];
            var x = n.In(i);
            for (int p = 0; p < pixels; p++) x.Slice(p * channels, channels).CopyTo(y.Slice(p * total + offset, channels));
            offset += channels;
        }
    }

    private static void BackwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dy = n.OutGrad(0);
        int total = n.OutShape(0)[1], pixels = (int)(n.OutShape(0).Numel / total), offset = 0;
        for (int i = 0; i < n.Node.Inputs.Length; i++)
        {
            int channels = n.InShape(i)[1];
            if (n.HasInGrad(i))
            {
                var dx = n.InGrad(i);
                bool overwrite = n.OverwriteInGrad(i);
                for (int p = 0; p < pixels; p++)
                {
                    var src = dy.Slice(p * total + offset, channels);
                    if (overwrite) src.CopyTo(dx.Slice(p * channels, channels));
                    else SpanMath.AddTo<T>(src, dx.Slice(p * channels, channels));
                }
            }
            offset += channels;
        }
    }
}
