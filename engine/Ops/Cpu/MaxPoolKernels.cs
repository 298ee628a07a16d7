using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Ops.Cpu;

/// <summary>
/// Max pooling's float forward over one plane, eight outputs (of the flattened plane, so small
/// planes fill the lanes too) at a time with AVX2 gathers and no branches: the window's
/// elements in row-major order, each taken when greater than the best so far or NaN, exactly as
/// <see cref="MaxPool"/>'s scalar loop (first maximum on ties, NaN wins).
/// </summary>
internal static unsafe class MaxPoolKernels
{
    public static bool Supported => Avx2.IsSupported;

    public static void ForwardPlane(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, int width, int outW, int kernel, int stride, int padding)
    {
        int height = x.Length / width, outPlane = y.Length;
        Span<int> starts = stackalloc int[16];
        Span<float> bestOut = stackalloc float[8];
        Span<int> atOut = stackalloc int[8];
        var negInf = Vector256.Create(float.NegativeInfinity);
        var (zero, h, w) = (Vector256<int>.Zero, Vector256.Create(height), Vector256.Create(width));
        int oh = 0, ow = 0;
        fixed (float* px = x)
            for (int o = 0; o < outPlane; o += 8)
            {
                int live = Math.Min(8, outPlane - o);
                // Lanes past the plane's end repeat its last window.
                for (int l = 0; l < 8; l++)
                {
                    starts[l] = oh * stride - padding;
                    starts[8 + l] = ow * stride - padding;
                    if (o + l + 1 < outPlane && ++ow == outW) { ow = 0; oh++; }
                }
                var h0 = Vector256.Create<int>(starts);
                var w0 = Vector256.Create<int>(starts[8..]);
                var best = negInf;
                var at = Vector256.Max(h0, zero) * w + Vector256.Max(w0, zero);
                for (int i = 0; i < kernel; i++)
                {
                    var hi = h0 + Vector256.Create(i);
                    var rowOk = Vector256.GreaterThanOrEqual(hi, zero) & Vector256.LessThan(hi, h);
                    for (int j = 0; j < kernel; j++)
                    {
                        var wj = w0 + Vector256.Create(j);
                        var ok = rowOk & Vector256.GreaterThanOrEqual(wj, zero) & Vector256.LessThan(wj, w);
                        var index = hi * w + wj;
                        var v = Avx2.GatherMaskVector256(negInf, px, Vector256.ConditionalSelect(ok, index, zero), ok.AsSingle(), 4);
                        var take = ok.AsSingle() & (Vector256.GreaterThan(v, best) | ~Vector256.Equals(v, v));
                        best = Vector256.ConditionalSelect(take, v, best);
                        at = Vector256.ConditionalSelect(take.AsInt32(), index, at);
                    }
                }
                if (live == 8)
                {
                    best.CopyTo(y[o..]);
                    at.CopyTo(argmax[o..]);
                    continue;
                }
                best.CopyTo(bestOut);
                at.CopyTo(atOut);
                bestOut[..live].CopyTo(y[o..]);
                atOut[..live].CopyTo(argmax[o..]);
            }
    }
}
