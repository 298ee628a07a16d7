using System.Buffers;
using System.Numerics;
using Engine.Data.Codecs;

namespace Engine.Data.Transforms;

/// <summary>
/// Crop + flip + resize in one pass. Images: separable linear (triangle) filter on pixel centres,
/// widened by the scale factor when shrinking so that downscaling averages instead of aliasing
/// (plain bilinear when enlarging; an exact copy at scale 1). Masks: nearest neighbour on the same
/// pixel-centre grid, so an image and its mask get the same geometric transform.
/// </summary>
public static class Resampler
{
    /// <summary>Writes the box of <paramref name="src"/> as CHW floats in 0..255 into <paramref name="dst"/> (C*outH*outW).</summary>
    public static void Linear(Image8 src, CropBox box, int outHeight, int outWidth, Span<float> dst)
    {
        int c = src.Channels, plane = outHeight * outWidth, rowFloats = outWidth * c;
        if (dst.Length != c * plane) throw new ArgumentException($"output holds {dst.Length} floats, expected {c}x{outHeight}x{outWidth}");
        var xs = Taps.Build(src.Width, box.X * src.Width, box.Width * src.Width, outWidth, box.Flip);
        var ys = Taps.Build(src.Height, box.Y * src.Height, box.Height * src.Height, outHeight, false);
        int rowLo = ys.MinIndex, rows = ys.MaxIndex - rowLo + 1;
        var temp = ArrayPool<float>.Shared.Rent(rows * rowFloats + rowFloats);
        try
        {
            // horizontal pass over the source rows the vertical taps need, interleaved (x * c + ch)
            for (int r = 0; r < rows; r++)
                HorizontalRow(src.Pixels.AsSpan((rowLo + r) * src.Width * c, src.Width * c), c, xs, temp.AsSpan(r * rowFloats, rowFloats));
            // vertical pass: whole rows at a time, then de-interleave into CHW
            var acc = temp.AsSpan(rows * rowFloats, rowFloats);
            for (int y = 0; y < outHeight; y++)
            {
                acc.Clear();
                for (int t = ys.Offset[y]; t < ys.Offset[y + 1]; t++)
                    MultiplyAdd(temp.AsSpan((ys.Index[t] - rowLo) * rowFloats, rowFloats), ys.Weight[t], acc);
                for (int x = 0; x < outWidth; x++)
                    for (int ch = 0; ch < c; ch++)
                        dst[ch * plane + y * outWidth + x] = Math.Clamp(acc[x * c + ch], 0f, 255f);
            }
        }
        finally { ArrayPool<float>.Shared.Return(temp); }
    }

    private static void HorizontalRow(ReadOnlySpan<byte> row, int c, Taps xs, Span<float> output)
    {
        int outWidth = xs.Offset.Length - 1;
        var index = xs.Index;
        var weight = xs.Weight;
        if (c == 3)
            for (int x = 0; x < outWidth; x++)
            {
                float s0 = 0, s1 = 0, s2 = 0;
                for (int t = xs.Offset[x]; t < xs.Offset[x + 1]; t++)
                {
                    int p = index[t] * 3;
                    float w = weight[t];
                    s0 += w * row[p];
                    s1 += w * row[p + 1];
                    s2 += w * row[p + 2];
                }
                output[3 * x] = s0;
                output[3 * x + 1] = s1;
                output[3 * x + 2] = s2;
            }
        else
            for (int x = 0; x < outWidth; x++)
            {
                float s = 0;
                for (int t = xs.Offset[x]; t < xs.Offset[x + 1]; t++) s += weight[t] * row[index[t]];
                output[x] = s;
            }
    }

    private static void MultiplyAdd(ReadOnlySpan<float> source, float weight, Span<float> acc)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var w = new Vector<float>(weight);
            for (; i <= acc.Length - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(acc[i..]) + w * new Vector<float>(source[i..])).CopyTo(acc[i..]);
        }
        for (; i < acc.Length; i++) acc[i] += weight * source[i];
    }

    /// <summary>Nearest-neighbour crop/flip/resize of a label image, mapping each value through <paramref name="labelOf"/> (256 entries).</summary>
    public static void Nearest(IndexedImage src, CropBox box, int outHeight, int outWidth, ReadOnlySpan<int> labelOf, Span<int> dst)
    {
        if (dst.Length != outHeight * outWidth) throw new ArgumentException($"mask output holds {dst.Length} values, expected {outHeight}x{outWidth}");
        if (labelOf.Length != 256) throw new ArgumentException("label table must have 256 entries");
        Span<int> xs = outWidth <= 4096 ? stackalloc int[outWidth] : new int[outWidth];
        NearestIndices(src.Width, box.X * src.Width, box.Width * src.Width, box.Flip, xs);
        Span<int> ys = outHeight <= 4096 ? stackalloc int[outHeight] : new int[outHeight];
        NearestIndices(src.Height, box.Y * src.Height, box.Height * src.Height, false, ys);
        var v = src.Indices;
        for (int y = 0; y < outHeight; y++)
        {
            int row = ys[y] * src.Width;
            for (int x = 0; x < outWidth; x++) dst[y * outWidth + x] = labelOf[v[row + xs[x]]];
        }
    }

    private static void NearestIndices(int srcLength, double start, double length, bool flip, Span<int> result)
    {
        int n = result.Length;
        double scale = length / n;
        for (int i = 0; i < n; i++)
        {
            int o = flip ? n - 1 - i : i;
            result[i] = Math.Clamp((int)Math.Floor(start + (o + 0.5) * scale), 0, srcLength - 1);
        }
    }

    /// <summary>Per output position, the source indices and normalised weights of its filter taps.</summary>
    private sealed class Taps
    {
        public required int[] Offset;   // taps of output i: [Offset[i], Offset[i+1])
        public required int[] Index;
        public required float[] Weight;
        public int MinIndex, MaxIndex;

        public static Taps Build(int srcLength, double start, double length, int outLength, bool flip)
        {
            double scale = length / outLength;
            double radius = Math.Max(1.0, scale);
            int maxTaps = 2 * (int)Math.Ceiling(radius) + 1;
            var offset = new int[outLength + 1];
            var index = new int[outLength * maxTaps];
            var weight = new float[outLength * maxTaps];
            int n = 0, lo = int.MaxValue, hi = int.MinValue;
            for (int i = 0; i < outLength; i++)
            {
                int o = flip ? outLength - 1 - i : i;
                double centre = start + (o + 0.5) * scale - 0.5;
                int first = (int)Math.Ceiling(centre - radius), last = (int)Math.Floor(centre + radius);
                offset[i] = n;
                double total = 0;
                for (int j = first; j <= last; j++)
                {
                    double w = 1 - Math.Abs(j - centre) / radius;
                    if (w <= 0) continue;
                    int k = Math.Clamp(j, 0, srcLength - 1);
                    index[n] = k;
                    weight[n] = (float)w;
                    total += w;
                    lo = Math.Min(lo, k);
                    hi = Math.Max(hi, k);
                    n++;
                }
                if (n == offset[i])   // degenerate box narrower than a pixel: take the nearest one
                {
                    int k = Math.Clamp((int)Math.Round(centre), 0, srcLength - 1);
                    index[n] = k; weight[n] = 1; total = 1; n++;
                    lo = Math.Min(lo, k); hi = Math.Max(hi, k);
                }
                for (int t = offset[i]; t < n; t++) weight[t] = (float)(weight[t] / total);
            }
            offset[outLength] = n;
            return new Taps { Offset = offset, Index = index, Weight = weight, MinIndex = lo, MaxIndex = hi };
        }
    }
}
