using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Ops.Cpu;

/// <summary>
/// The float path of the fused BN + activation over one (sample, channel) plane, one sweep each:
/// forward z = (x - mean) * scale + shift then act(z); backward z again, dz = dy * act'(z) and
/// both of BatchNorm's reductions. z is computed in double and rounded to float exactly as
/// <see cref="AffineMaps.Normalize{T}"/> does, and the activation is <see cref="VectorMish"/> /
/// max(z, 0) as the unfused ops compute it, so a fused float forward equals the unfused one bit for
/// bit (backward's double sums run in another order).
/// </summary>
internal static class NormActivationKernels
{
    /// <summary>y = act((x - mean) * scale + shift).</summary>
    public static void Forward(ActivationKind act, ReadOnlySpan<float> x, Span<float> y, double mean, double scale, double shift)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var (m, a, c) = (Vector512.Create(mean), Vector512.Create(scale), Vector512.Create(shift));
            for (; i <= x.Length - 16; i += 16)
            {
                var (xLo, xHi) = Vector512.Widen(Vector512.Create(x[i..]));
                var z = Vector512.Narrow((xLo - m) * a + c, (xHi - m) * a + c);
                (act == ActivationKind.Mish ? VectorMish.Value(z) : Vector512.Max(z, Vector512<float>.Zero)).CopyTo(y[i..]);
            }
        }
        var (m4, a4, c4) = (Vector256.Create(mean), Vector256.Create(scale), Vector256.Create(shift));
        Span<float> pad = stackalloc float[8];
        for (; i < x.Length; i += 8)
        {
            bool whole = i + 8 <= x.Length;
            if (!whole) { pad.Clear(); x[i..].CopyTo(pad); }
            var (xLo, xHi) = Vector256.Widen(whole ? Vector256.Create(x[i..]) : Vector256.Create<float>(pad));
            var z = Vector256.Narrow((xLo - m4) * a4 + c4, (xHi - m4) * a4 + c4);
            var r = act == ActivationKind.Mish ? VectorMish.Value(z) : Vector256.Max(z, Vector256<float>.Zero);
            if (whole) r.CopyTo(y[i..]);
            else { r.CopyTo(pad); pad[..(x.Length - i)].CopyTo(y[i..]); }
        }
    }

    /// <summary>dz = dy * act'(z) with z as <see cref="Forward"/> computes it; returns (Σ dz, Σ dz (x - mean)) in double.</summary>
    public static (double SumDz, double SumDzDeviation) Gradient(ActivationKind act, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dz,
        double mean, double scale, double shift)
    {
        int i = 0;
        double sumDz = 0, sumDzDeviation = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var (m, a, c) = (Vector512.Create(mean), Vector512.Create(scale), Vector512.Create(shift));
            var (s, sd) = (Vector512<double>.Zero, Vector512<double>.Zero);
            for (; i <= x.Length - 16; i += 16)
            {
                var (xLo, xHi) = Vector512.Widen(Vector512.Create(x[i..]));
                var z = Vector512.Narrow((xLo - m) * a + c, (xHi - m) * a + c);
                var g = Vector512.Create(dy[i..]);
                g = act == ActivationKind.Mish ? g * VectorMish.Derivative(z)
                    : Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512<float>.Zero), g, Vector512<float>.Zero);
                g.CopyTo(dz[i..]);
                var (gLo, gHi) = Vector512.Widen(g);
                s += gLo + gHi;
                sd += gLo * (xLo - m) + gHi * (xHi - m);
            }
            (sumDz, sumDzDeviation) = (Vector512.Sum(s), Vector512.Sum(sd));
        }
        var (m4, a4, c4) = (Vector256.Create(mean), Vector256.Create(scale), Vector256.Create(shift));
        var (s4, sd4) = (Vector256<double>.Zero, Vector256<double>.Zero);
        Span<float> pad = stackalloc float[16];
        for (; i < x.Length; i += 8)
        {
            bool whole = i + 8 <= x.Length;
            // A padded lane has dy = 0, so dz = 0 there and adds nothing to the sums.
            if (!whole) { pad.Clear(); x[i..].CopyTo(pad); dy[i..].CopyTo(pad[8..]); }
            var (xLo, xHi) = Vector256.Widen(whole ? Vector256.Create(x[i..]) : Vector256.Create<float>(pad));
            var z = Vector256.Narrow((xLo - m4) * a4 + c4, (xHi - m4) * a4 + c4);
            var g = whole ? Vector256.Create(dy[i..]) : Vector256.Create<float>(pad[8..]);
            g = act == ActivationKind.Mish ? g * VectorMish.Derivative(z)
                : Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<float>.Zero), g, Vector256<float>.Zero);
            if (whole) g.CopyTo(dz[i..]);
            else { g.CopyTo(pad); pad[..(x.Length - i)].CopyTo(dz[i..]); }
            var (gLo, gHi) = Vector256.Widen(g);
            s4 += gLo + gHi;
            sd4 += gLo * (xLo - m4) + gHi * (xHi - m4);
        }
        return (sumDz + Vector256.Sum(s4), sumDzDeviation + Vector256.Sum(sd4));
    }
}
