using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Engine.Ops.Cpu;

/// <summary>
/// Sums over spans accumulated in double with SIMD lanes (float elements widened to double), for
/// the per-channel statistics of the normalisation layers. A plain scalar sum is bound by the
/// latency of one add per element; the lanes make it several times faster and change only the
/// order of double-precision additions.
/// </summary>
internal static class Reductions
{
    /// <summary>Σ x.</summary>
    public static double Sum<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
        => Accumulate(x, x, 0, Term.Value).A;

    /// <summary>Σ (x - mean)².</summary>
    public static double SumSquaredDeviations<T>(ReadOnlySpan<T> x, double mean) where T : unmanaged, IFloatingPointIeee754<T>
        => Accumulate(x, x, mean, Term.SquaredDeviation).A;

    /// <summary>(Σ dy, Σ dy (x - mean)).</summary>
    public static (double SumDy, double SumDyDeviation) SumAndDeviationDot<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, double mean)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Accumulate(dy, x, mean, Term.DyAndDeviationDot);

    private enum Term { Value, SquaredDeviation, DyAndDeviationDot }

    /// <summary>A over a (and B, for <see cref="Term.DyAndDeviationDot"/>) with b the x of the deviations.</summary>
    private static (double A, double B) Accumulate<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, double mean, Term term)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sumA = Vector<double>.Zero;
        var sumB = Vector<double>.Zero;
        var m = new Vector<double>(mean);
        int i = 0;
        double wideA = 0, wideB = 0;
        if (Vector.IsHardwareAccelerated && typeof(T) == typeof(float))
        {
            var fa = MemoryMarshal.Cast<T, float>(a);
            var fb = MemoryMarshal.Cast<T, float>(b);
            if (Vector512.IsHardwareAccelerated) (i, wideA, wideB) = Accumulate512(fa, fb, mean, term);
            for (; i <= fa.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(fa[i..]), out var aLo, out var aHi);
                Vector.Widen(new Vector<float>(fb[i..]), out var bLo, out var bHi);
                Add(ref sumA, ref sumB, aLo, bLo, m, term);
                Add(ref sumA, ref sumB, aHi, bHi, m, term);
            }
        }
        else if (Vector.IsHardwareAccelerated && typeof(T) == typeof(double))
        {
            var da = MemoryMarshal.Cast<T, double>(a);
            var db = MemoryMarshal.Cast<T, double>(b);
            for (; i <= da.Length - Vector<double>.Count; i += Vector<double>.Count)
                Add(ref sumA, ref sumB, new Vector<double>(da[i..]), new Vector<double>(db[i..]), m, term);
        }
        double totalA = wideA + Vector.Sum(sumA), totalB = wideB + Vector.Sum(sumB);
        for (; i < a.Length; i++)
        {
            double va = double.CreateTruncating(a[i]), d = double.CreateTruncating(b[i]) - mean;
            switch (term)
            {
                case Term.Value: totalA += va; break;
                case Term.SquaredDeviation: totalA += d * d; break;
                default: totalA += va; totalB += va * d; break;
            }
        }
        return (totalA, totalB);
    }

    /// <summary>The float loop on 512-bit lanes, 16 elements at a time: (elements done, A, B).</summary>
    private static (int Done, double A, double B) Accumulate512(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double mean, Term term)
    {
        var (sumA, sumB, m) = (Vector512<double>.Zero, Vector512<double>.Zero, Vector512.Create(mean));
        int i = 0;
        for (; i <= a.Length - 16; i += 16)
        {
            var (aLo, aHi) = Vector512.Widen(Vector512.Create(a[i..]));
            switch (term)
            {
                case Term.Value: sumA += aLo + aHi; break;
                case Term.SquaredDeviation: { var (dLo, dHi) = (aLo - m, aHi - m); sumA += dLo * dLo + dHi * dHi; break; }
                default:
                    var (bLo, bHi) = Vector512.Widen(Vector512.Create(b[i..]));
                    sumA += aLo + aHi;
                    sumB += aLo * (bLo - m) + aHi * (bHi - m);
                    break;
            }
        }
        return (i, Vector512.Sum(sumA), Vector512.Sum(sumB));
    }

    private static void Add(ref Vector<double> sumA, ref Vector<double> sumB, Vector<double> a, Vector<double> b, Vector<double> mean, Term term)
    {
        switch (term)
        {
            case Term.Value: sumA += a; break;
            case Term.SquaredDeviation: { var d = b - mean; sumA += d * d; break; }
            default: sumA += a; sumB += a * (b - mean); break;
        }
    }
}
