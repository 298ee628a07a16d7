using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;

namespace Engine.Ops;

/// <summary>Adaptive average pooling's CPU path in NHWC: the NCHW bins, all channels of a pixel at once, the same order of additions.</summary>
public sealed partial class AdaptiveAvgPool
{
    private void ForwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = n.InShape(0);
        int channels = s[1], h = s[2], w = s[3];
        for (int b = 0; b < s[0]; b++)
        {
            var x = n.In(0).Slice(b * h * w * channels, h * w * channels);
            for (int i = 0; i < OutHeight; i++)
            {
                var (r0, r1) = Bin(i, h, OutHeight);
                for (int j = 0; j < OutWidth; j++)
                {
                    var (c0, c1) = Bin(j, w, OutWidth);
                    var y = n.Out(0).Slice(((b * OutHeight + i) * OutWidth + j) * channels, channels);
                    y.Clear();
                    for (int r = r0; r < r1; r++)
                        for (int c = c0; c < c1; c++) SpanMath.AddTo<T>(x.Slice((r * w + c) * channels, channels), y);
                    var area = T.CreateTruncating((r1 - r0) * (c1 - c0));
                    for (int k = 0; k < channels; k++) y[k] /= area;
                }
            }
        }
    }

    private void BackwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!n.HasInGrad(0)) return;
        var s = n.InShape(0);
        int channels = s[1], h = s[2], w = s[3];
        var share = new T[channels];
        for (int b = 0; b < s[0]; b++)
        {
            var dx = n.InGrad(0).Slice(b * h * w * channels, h * w * channels);
            for (int i = 0; i < OutHeight; i++)
            {
                var (r0, r1) = Bin(i, h, OutHeight);
                for (int j = 0; j < OutWidth; j++)
                {
                    var (c0, c1) = Bin(j, w, OutWidth);
                    var dy = n.OutGrad(0).Slice(((b * OutHeight + i) * OutWidth + j) * channels, channels);
                    var area = T.CreateTruncating((r1 - r0) * (c1 - c0));
                    for (int k = 0; k < channels; k++) share[k] = dy[k] / area;
                    for (int r = r0; r < r1; r++)
                        for (int c = c0; c < c1; c++) SpanMath.AddTo<T>(share, dx.Slice((r * w + c) * channels, channels));
                }
            }
        }
    }
}
