using System.Numerics;
using System.Runtime.InteropServices;

namespace Engine.Ops.Cpu;

/// <summary>Per-element maps of the normalisation layers, evaluated in double with SIMD lanes (float widened and narrowed back).</summary>
internal static class AffineMaps
{
    /// <summary>y = (x - mean) * scale + shift.</summary>
    public static void Normalize<T>(ReadOnlySpan<T> x, Span<T> y, double mean, double scale, double shift)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Map(x, x, y, mean, scale, shift, 0, accumulate: false);

    /// <summary>dx += scale * (dy - meanDy - (x - mean) * invStd * meanDyXhat).</summary>
    public static void AccumulateInputGradient<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, Span<T> dx, double mean, double scale, double meanDy, double slope)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Map(dy, x, dx, mean, scale, meanDy, slope, accumulate: true);

    // Normalize: out = (x - mean) * scale + shift. Gradient: out += scale * (dy - meanDy - (x - mean) * slope).
    private static void Map<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, Span<T> output, double mean, double scale, double shiftOrMeanDy, double slope, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var m = new Vector<double>(mean);
        var a = new Vector<double>(scale);
        var c = new Vector<double>(shiftOrMeanDy);
        var k = new Vector<double>(slope);
        int i = 0;
        if (Vector.IsHardwareAccelerated && typeof(T) == typeof(float))
        {
            var fdy = MemoryMarshal.Cast<T, float>(dy);
            var fx = MemoryMarshal.Cast<T, float>(x);
            var fo = MemoryMarshal.Cast<T, float>(output);
            for (; i <= fx.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(fx[i..]), out var xLo, out var xHi);
                Vector<double> lo, hi;
                if (accumulate)
                {
                    Vector.Widen(new Vector<float>(fdy[i..]), out var gLo, out var gHi);
                    Vector.Widen(new Vector<float>(fo[i..]), out var oLo, out var oHi);
                    lo = oLo + a * (gLo - c - (xLo - m) * k);
                    hi = oHi + a * (gHi - c - (xHi - m) * k);
                }
                else
                {
                    lo = (xLo - m) * a + c;
                    hi = (xHi - m) * a + c;
                }
                Vector.Narrow(lo, hi).CopyTo(fo[i..]);
            }
        }
        else if (Vector.IsHardwareAccelerated && typeof(T) == typeof(double))
        {
            var ddy = MemoryMarshal.Cast<T, double>(dy);
            var dx = MemoryMarshal.Cast<T, double>(x);
            var dout = MemoryMarshal.Cast<T, double>(output);
            for (; i <= dx.Length - Vector<double>.Count; i += Vector<double>.Count)
            {
                var xv = new Vector<double>(dx[i..]);
                var r = accumulate
                    ? new Vector<double>(dout[i..]) + a * (new Vector<double>(ddy[i..]) - c - (xv - m) * k)
                    : (xv - m) * a + c;
                r.CopyTo(dout[i..]);
            }
        }
        for (; i < x.Length; i++)
        {
            double d = double.CreateTruncating(x[i]) - mean;
            output[i] = accumulate
                ? T.CreateTruncating(double.CreateTruncating(output[i]) + scale * (double.CreateTruncating(dy[i]) - shiftOrMeanDy - d * slope))
                : T.CreateTruncating(d * scale + shiftOrMeanDy);
        }
    }
}
