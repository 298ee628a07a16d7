using System.Numerics;
using Engine.Graph;
using Engine.Ops.Cpu;

namespace Engine.Ops;

/// <summary>
/// Max pooling's CPU path in NHWC: each output pixel scans its window in the same row-major order
/// as the NCHW loop, all channels of a tap at once, so the maxima and argmax (still the index
/// h * W + w within the channel's plane, stored [N, OH, OW, C]) are exactly the NCHW ones.
/// Backward scatters per sample in output order, as the NCHW path does per plane.
/// </summary>
public sealed partial class MaxPool
{
    private void ForwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (inS, outS) = (n.InShape(0), n.OutShape(0));
        int channels = inS[1], height = inS[2], width = inS[3], outH = outS[2], outW = outS[3];
        var columns = ColumnWindows(width, outW);
        ParallelWork.For(inS[0], (long)height * width * channels, s =>
        {
            var x = n.In(0).Slice(s * height * width * channels, height * width * channels);
            var y = n.Out(0).Slice(s * outH * outW * channels, outH * outW * channels);
            var at = Argmax(n).Slice(s * outH * outW * channels, outH * outW * channels);
            for (int oh = 0, o = 0; oh < outH; oh++)
            {
                int h0 = _geometry.Start(oh), h1 = Math.Min(h0 + kernel, height);
                h0 = Math.Max(h0, 0);
                for (int ow = 0; ow < outW; ow++, o++)
                {
                    var (w0, w1) = columns[ow];
                    var best = y.Slice(o * channels, channels);
                    var bestAt = at.Slice(o * channels, channels);
                    best.Fill(T.NegativeInfinity);
                    bestAt.Fill(h0 * width + w0);
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++)
                        {
                            var pixel = x.Slice((ih * width + iw) * channels, channels);
                            for (int c = 0; c < channels; c++)
                            {
                                var v = pixel[c];
                                if (v > best[c] || T.IsNaN(v)) { best[c] = v; bestAt[c] = ih * width + iw; }
                            }
                        }
                }
            }
        });
    }

    private void BackwardNhwc<T>(CpuNode<T> n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!n.HasInGrad(0)) return;
        bool overwrite = n.OverwriteInGrad(0);
        var (inS, outS) = (n.InShape(0), n.OutShape(0));
        int channels = inS[1], inSample = inS[2] * inS[3] * channels, outSample = outS[2] * outS[3] * channels;
        ParallelWork.For(inS[0], inSample, s =>
        {
            var dy = n.OutGrad(0).Slice(s * outSample, outSample);
            var at = Argmax(n).Slice(s * outSample, outSample);
            var dx = n.InGrad(0).Slice(s * inSample, inSample);
            Span<T> sums = overwrite ? dx : new T[inSample];
            sums.Clear();
            for (int o = 0; o < outSample; o++) sums[at[o] * channels + o % channels] += dy[o];
            if (!overwrite) SpanMath.AddTo<T>(sums, dx);
        });
    }
}
