using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Ops.Cpu;

/// <summary>
/// Per-channel reductions and maps over an NHWC tensor seen as rows of C channels (one row per
/// pixel of every sample), for batch normalisation in NHWC. A pass walks the rows once with a
/// vector of C accumulators, instead of C strided passes. Rows are split into chunks of a size fixed
/// by C alone, summed per chunk in double and the chunks added in order, so results do not depend
/// on the thread count. Per-element arithmetic is in double, as <see cref="AffineMaps"/>; for float,
/// four channels at a time on AVX (widened to double, the same operations, so the same bits).
/// </summary>
internal static unsafe class ChannelsLast
{
    /// <summary>Rows per chunk: about 16k elements.</summary>
    private static int RowsPerChunk(int channels) => Math.Max(1, (1 << 14) / channels);

    /// <summary>Σ over rows of x[r, c], per channel.</summary>
    public static double[] Sums<T>(ReadOnlySpan<T> x, int channels) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* px = x)
        {
            T* xs = px;
            return Reduce(x.Length / channels, channels, 1, (row, acc) =>
            {
                T* r = xs + (long)row * channels;
                int c = 0;
                if (typeof(T) == typeof(float) && Avx.IsSupported)
                    fixed (double* s1 = acc)
                        for (; c <= channels - 4; c += 4)
                            Avx.Store(s1 + c, Avx.LoadVector256(s1 + c) + Avx.ConvertToVector256Double(Sse.LoadVector128((float*)r + c)));
                for (; c < channels; c++) acc[c] += double.CreateTruncating(r[c]);
            })[0];
        }
    }

    /// <summary>Σ over rows of (x[r, c] - mean[c])², per channel.</summary>
    public static double[] SquaredDeviations<T>(ReadOnlySpan<T> x, int channels, double[] mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* px = x)
        {
            T* xs = px;
            return Reduce(x.Length / channels, channels, 1, (row, acc) =>
            {
                T* r = xs + (long)row * channels;
                int c = 0;
                if (typeof(T) == typeof(float) && Avx.IsSupported)
                    fixed (double* s1 = acc, m = mean)
                        for (; c <= channels - 4; c += 4)
                        {
                            var d = Avx.ConvertToVector256Double(Sse.LoadVector128((float*)r + c)) - Avx.LoadVector256(m + c);
                            Avx.Store(s1 + c, Avx.LoadVector256(s1 + c) + d * d);
                        }
                for (; c < channels; c++)
                {
                    double d = double.CreateTruncating(r[c]) - mean[c];
                    acc[c] += d * d;
                }
            })[0];
        }
    }

    /// <summary>Per channel Σ dy and Σ dy (x - mean).</summary>
    public static (double[] SumDy, double[] SumDyDeviation) GradientSums<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int channels, double[] mean)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* px = x, pdy = dy)
        {
            T* xs = px, dys = pdy;
            var sums = Reduce(x.Length / channels, channels, 2, (row, acc) =>
            {
                T* r = xs + (long)row * channels, g = dys + (long)row * channels;
                int c = 0;
                if (typeof(T) == typeof(float) && Avx.IsSupported)
                    fixed (double* m = mean, s1 = acc, s2 = &acc[channels])
                        for (; c <= channels - 4; c += 4)
                        {
                            var gv = Avx.ConvertToVector256Double(Sse.LoadVector128((float*)g + c));
                            var xv = Avx.ConvertToVector256Double(Sse.LoadVector128((float*)r + c));
                            Avx.Store(s1 + c, Avx.LoadVector256(s1 + c) + gv);
                            Avx.Store(s2 + c, Avx.LoadVector256(s2 + c) + gv * (xv - Avx.LoadVector256(m + c)));
                        }
                for (; c < channels; c++)
                {
                    double gc = double.CreateTruncating(g[c]);
                    acc[c] += gc;
                    acc[channels + c] += gc * (double.CreateTruncating(r[c]) - mean[c]);
                }
            });
            return (sums[0], sums[1]);
        }
    }

    /// <summary>y[r, c] = (x[r, c] - mean[c]) * scale[c] + shift[c] (y may be x).</summary>
    public static void Normalize<T>(ReadOnlySpan<T> x, Span<T> y, int channels, double[] mean, double[] scale, double[] shift)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* px = x, py = y)
        {
            T* xs = px, ys = py;
            ForRows(x.Length / channels, channels, row =>
            {
                T* r = xs + (long)row * channels, o = ys + (long)row * channels;
                int c = 0;
                if (typeof(T) == typeof(float) && Avx.IsSupported)
                    fixed (double* m = mean, a = scale, b = shift)
                        for (; c <= channels - 4; c += 4)
                        {
                            var v = Avx.ConvertToVector256Double(Sse.LoadVector128((float*)r + c));
                            Sse.Store((float*)o + c, Avx.ConvertToVector128Single((v - Avx.LoadVector256(m + c)) * Avx.LoadVector256(a + c) + Avx.LoadVector256(b + c)));
                        }
                for (; c < channels; c++) o[c] = T.CreateTruncating((double.CreateTruncating(r[c]) - mean[c]) * scale[c] + shift[c]);
            });
        }
    }

    /// <summary>dx[r, c] (+)= scale[c] * (dy[r, c] - meanDy[c] - (x[r, c] - mean[c]) * slope[c]): += unless <paramref name="overwrite"/>.</summary>
    public static void InputGradient<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, Span<T> dx, int channels, double[] mean, double[] scale, double[] meanDy,
        double[] slope, bool overwrite) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* px = x, pdy = dy, pdx = dx)
        {
            T* xs = px, dys = pdy, dxs = pdx;
            ForRows(x.Length / channels, channels, row =>
            {
                T* r = xs + (long)row * channels, g = dys + (long)row * channels, o = dxs + (long)row * channels;
                int c = 0;
                if (typeof(T) == typeof(float) && Avx.IsSupported)
                    fixed (double* m = mean, a = scale, md = meanDy, k = slope)
                        for (; c <= channels - 4; c += 4)
                        {
                            var xv = Avx.ConvertToVector256Double(Sse.LoadVector128((float*)r + c));
                            var gv = Avx.ConvertToVector256Double(Sse.LoadVector128((float*)g + c));
                            var v = Avx.LoadVector256(a + c) * (gv - Avx.LoadVector256(md + c) - (xv - Avx.LoadVector256(m + c)) * Avx.LoadVector256(k + c));
                            if (!overwrite) v = Avx.ConvertToVector256Double(Sse.LoadVector128((float*)o + c)) + v;
                            Sse.Store((float*)o + c, Avx.ConvertToVector128Single(v));
                        }
                for (; c < channels; c++)
                {
                    double v = scale[c] * (double.CreateTruncating(g[c]) - meanDy[c] - (double.CreateTruncating(r[c]) - mean[c]) * slope[c]);
                    o[c] = T.CreateTruncating(overwrite ? v : double.CreateTruncating(o[c]) + v);
                }
            });
        }
    }

    /// <summary>Runs body(row) for every row, chunks of rows in parallel.</summary>
    private static void ForRows(int rows, int channels, Action<int> body)
    {
        int per = RowsPerChunk(channels), chunks = (rows + per - 1) / per;
        ParallelWork.For(chunks, (long)per * channels, k =>
        {
            for (int row = k * per, end = Math.Min(rows, row + per); row < end; row++) body(row);
        });
    }

    /// <summary>
    /// <paramref name="arrays"/> per-channel sums: body(row, acc) adds one row into a chunk's
    /// accumulators (arrays * channels long); the chunks are then added in chunk order.
    /// </summary>
    private static double[][] Reduce(int rows, int channels, int arrays, Action<int, double[]> body)
    {
        int per = RowsPerChunk(channels), chunks = (rows + per - 1) / per;
        var partial = new double[chunks][];
        ParallelWork.For(chunks, (long)per * channels, k =>
        {
            var acc = new double[arrays * channels];
            for (int row = k * per, end = Math.Min(rows, row + per); row < end; row++) body(row, acc);
            partial[k] = acc;
        });
        var result = new double[arrays][];
        for (int a = 0; a < arrays; a++)
        {
            result[a] = new double[channels];
            for (int k = 0; k < chunks; k++)
                for (int c = 0; c < channels; c++) result[a][c] += partial[k][a * channels + c];
        }
        return result;
    }
}
