using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;

namespace Engine.Ops;

/// <summary>Nearest upsampling's CPU path in NHWC: whole pixels (rows of channels) copied; backward sums each block in NCHW's order.</summary>
public sealed partial class UpsampleNearest
{
    private void ForwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = n.InShape(0);
        int channels = s[1], height = s[2], width = s[3], outH = height * scale, outW = width * scale;
        var x = n.In(0);
        var y = n.Out(0);
        for (int b = 0; b < s[0]; b++)
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                    x.Slice(((b * height + oh / scale) * width + ow / scale) * channels, channels)
                        .CopyTo(y.Slice(((b * outH + oh) * outW + ow) * channels, channels));
    }

    private void BackwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!n.HasInGrad(0)) return;
        var s = n.InShape(0);
        int channels = s[1], height = s[2], width = s[3], outH = height * scale, outW = width * scale;
        var dy = n.OutGrad(0);
        var dx = n.InGrad(0);
        bool overwrite = n.OverwriteInGrad(0);
        var sum = new T[channels];
        for (int b = 0; b < s[0]; b++)
            for (int ih = 0; ih < height; ih++)
                for (int iw = 0; iw < width; iw++)
                {
                    Array.Clear(sum);
                    for (int dh = 0; dh < scale; dh++)
                        for (int dw = 0; dw < scale; dw++)
                            SpanMath.AddTo<T>(dy.Slice(((b * outH + ih * scale + dh) * outW + iw * scale + dw) * channels, channels), sum);
                    var target = dx.Slice(((b * height + ih) * width + iw) * channels, channels);
                    if (overwrite) sum.CopyTo(target);
                    else SpanMath.AddTo<T>(sum, target);
                }
    }
}
