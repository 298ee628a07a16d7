using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Engine.Ops.Cpu;

/// <summary>Per-element maps of the normalisation layers, evaluated in double with SIMD lanes (float widened and narrowed back).</summary>
internal static class AffineMaps
{
    /// <summary>y = (x - mean) * scale + shift.</summary>
    public static void Normalize<T>(ReadOnlySpan<T> x, Span<T> y, double mean, double scale, double shift)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Map(x, x, y, mean, scale, shift, 0, MapKind.Normalize);

    /// <summary>dx (+)= scale * (dy - meanDy - (x - mean) * slope): += unless <paramref name="overwrite"/>.</summary>
    public static void InputGradient<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, Span<T> dx, double mean, double scale, double meanDy, double slope, bool overwrite)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Map(dy, x, dx, mean, scale, meanDy, slope, overwrite ? MapKind.Gradient : MapKind.AddGradient);

    private enum MapKind { Normalize, Gradient, AddGradient }

    /// <summary>The float loop below on 512-bit lanes (the same double operations per element, so the same bits); returns where it stopped.</summary>
    private static int Map512(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> output, double mean, double scale, double shiftOrMeanDy, double slope,
        MapKind kind)
    {
        var (m, a, c, k) = (Vector512.Create(mean), Vector512.Create(scale), Vector512.Create(shiftOrMeanDy), Vector512.Create(slope));
        int i = 0;
        for (; i <= x.Length - 16; i += 16)
        {
            var (xLo, xHi) = Vector512.Widen(Vector512.Create(x[i..]));
            Vector512<double> lo, hi;
            if (kind != MapKind.Normalize)
            {
                var (gLo, gHi) = Vector512.Widen(Vector512.Create(dy[i..]));
                lo = a * (gLo - c - (xLo - m) * k);
                hi = a * (gHi - c - (xHi - m) * k);
                if (kind == MapKind.AddGradient)
                {
                    var (oLo, oHi) = Vector512.Widen(Vector512.Create<float>(output[i..]));
                    (lo, hi) = (oLo + lo, oHi + hi);
                }
            }
            else
            {
                lo = (xLo - m) * a + c;
                hi = (xHi - m) * a + c;
            }
            Vector512.Narrow(lo, hi).CopyTo(output[i..]);
        }
        return i;
    }

    // Normalize: out = (x - mean) * scale + shift. Gradient: out (+)= scale * (dy - meanDy - (x - mean) * slope).
    private static void Map<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, Span<T> output, double mean, double scale, double shiftOrMeanDy, double slope, MapKind kind)
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
            if (Vector512.IsHardwareAccelerated) i = Map512(fdy, fx, fo, mean, scale, shiftOrMeanDy, slope, kind);
            for (; i <= fx.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(fx[i..]), out var xLo, out var xHi);
                Vector<double> lo, hi;
                if (kind != MapKind.Normalize)
                {
                    Vector.Widen(new Vector<float>(fdy[i..]), out var gLo, out var gHi);
                    lo = a * (gLo - c - (xLo - m) * k);
                    hi = a * (gHi - c - (xHi - m) * k);
                    if (kind == MapKind.AddGradient)
                    {
                        Vector.Widen(new Vector<float>(fo[i..]), out var oLo, out var oHi);
                        (lo, hi) = (oLo + lo, oHi + hi);
                    }
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
                var r = kind == MapKind.Normalize ? (xv - m) * a + c : a * (new Vector<double>(ddy[i..]) - c - (xv - m) * k);
                if (kind == MapKind.AddGradient) r = new Vector<double>(dout[i..]) + r;
                r.CopyTo(dout[i..]);
            }
        }
        for (; i < x.Length; i++)
        {
            double d = double.CreateTruncating(x[i]) - mean;
            double r = kind == MapKind.Normalize ? d * scale + shiftOrMeanDy : scale * (double.CreateTruncating(dy[i]) - shiftOrMeanDy - d * slope);
            output[i] = T.CreateTruncating(kind == MapKind.AddGradient ? double.CreateTruncating(output[i]) + r : r);
        }
    }
}
