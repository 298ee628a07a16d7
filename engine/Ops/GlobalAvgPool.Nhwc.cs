using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;

namespace Engine.Ops;

/// <summary>
/// Global average pooling's CPU path in NHWC: per sample, the rows of channels summed in pixel order
/// (each channel's sum in NCHW's order). The output [N, C, 1, 1] is the same in both layouts.
/// </summary>
public sealed partial class GlobalAvgPool
{
    private static void ForwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = n.InShape(0);
        int channels = s[1], plane = s[2] * s[3];
        var count = T.CreateTruncating(plane);
        for (int b = 0; b < s[0]; b++)
        {
            var x = n.In(0).Slice(b * plane * channels, plane * channels);
            var y = n.Out(0).Slice(b * channels, channels);
            y.Clear();
            for (int p = 0; p < plane; p++) SpanMath.AddTo<T>(x.Slice(p * channels, channels), y);
            for (int c = 0; c < channels; c++) y[c] /= count;
        }
    }

    private static void BackwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!n.HasInGrad(0)) return;
        var s = n.InShape(0);
        int channels = s[1], plane = s[2] * s[3];
        var count = T.CreateTruncating(plane);
        bool overwrite = n.OverwriteInGrad(0);
        var dy = n.OutGrad(0);
        var dx = n.InGrad(0);
        for (int i = 0; i < dx.Length; i++)
        {
            var g = dy[i / (plane * channels) * channels + i % channels] / count;
            dx[i] = overwrite ? g : dx[i] + g;
        }
    }
}
