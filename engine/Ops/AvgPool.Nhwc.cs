using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;

namespace Engine.Ops;

/// <summary>
/// Average pooling's CPU path in NHWC: the NCHW loops with the channel loop innermost, so each
/// channel's sums run in the same order (results equal NCHW's bit for bit).
/// </summary>
public sealed partial class AvgPool
{
    private void ForwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (inS, outS) = (n.InShape(0), n.OutShape(0));
        int channels = inS[1], height = inS[2], width = inS[3], outH = outS[2], outW = outS[3];
        int inSample = height * width * channels, outSample = outH * outW * channels;
        ParallelWork.For(inS[0], inSample, s =>
        {
            var x = n.In(0).Slice(s * inSample, inSample);
            var y = n.Out(0).Slice(s * outSample, outSample);
            for (int oh = 0, o = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++, o++)
                {
                    var (h0, h1, w0, w1, divisor) = Window(oh, ow, height, width);
                    var sum = y.Slice(o * channels, channels);
                    sum.Clear();
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++) SpanMath.AddTo<T>(x.Slice((ih * width + iw) * channels, channels), sum);
                    var d = T.CreateTruncating(divisor);
                    for (int c = 0; c < channels; c++) sum[c] /= d;
                }
        });
    }

    private void BackwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!n.HasInGrad(0)) return;
        bool overwrite = n.OverwriteInGrad(0);
        var (inS, outS) = (n.InShape(0), n.OutShape(0));
        int channels = inS[1], height = inS[2], width = inS[3], outH = outS[2], outW = outS[3];
        int inSample = height * width * channels, outSample = outH * outW * channels;
        ParallelWork.For(inS[0], inSample, s =>
        {
            var dy = n.OutGrad(0).Slice(s * outSample, outSample);
            var dx = n.InGrad(0).Slice(s * inSample, inSample);
            var sum = new T[channels];
            for (int ih = 0; ih < height; ih++)
            {
                var (oh0, oh1) = _geometry.WindowsContaining(ih, outH);
                for (int iw = 0; iw < width; iw++)
                {
                    var (ow0, ow1) = _geometry.WindowsContaining(iw, outW);
                    Array.Clear(sum);
                    for (int oh = oh0; oh <= oh1; oh++)
                        for (int ow = ow0; ow <= ow1; ow++)
                        {
                            var d = T.CreateTruncating(Window(oh, ow, height, width).Divisor);
                            var g = dy.Slice((oh * outW + ow) * channels, channels);
                            for (int c = 0; c < channels; c++) sum[c] += g[c] / d;
                        }
                    var target = dx.Slice((ih * width + iw) * channels, channels);
                    for (int c = 0; c < channels; c++) target[c] = overwrite ? sum[c] : target[c] + sum[c];
                }
            }
        });
    }
}
