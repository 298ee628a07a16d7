using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Ops.Cpu;

/// <summary>
/// exp over float SIMD lanes: exp(x) = 2^k * exp(r) with k = round(x / ln 2) and
/// r = x - k ln 2 in [-ln2/2, ln2/2] (ln 2 split in two so k ln 2 is exact), exp(r) by Cephes'
/// expf polynomial. Within 2 ulp of the correctly rounded value over the whole float range
/// (measured in VectorExpTests), subnormal results included; 0 below ln(2^-150), +inf is never
/// returned (inputs are clamped at ln(float.MaxValue)); NaN stays NaN.
/// </summary>
internal static class VectorExp
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
    /// <summary>1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits.</summary>
    private const float RoundMagic = 12582912f;
    private const float MaxArgument = 88.72283f, MinArgument = -103.972084f;
    private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
        P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var underflow = Vector512.LessThan(x, Vector512.Create(MinArgument));
        var c = Vector512.MinNative(Vector512.MaxNative(x, Vector512.Create(MinArgument)), Vector512.Create(MaxArgument));
        var t = Vector512.FusedMultiplyAdd(c, Vector512.Create(Log2E), Vector512.Create(RoundMagic));
        var k = t - Vector512.Create(RoundMagic);
        var r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2Hi), c);
        r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2Lo), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        var e = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One);
        // 2^k as two normal factors, so that k down to -150 (subnormal results) needs no special case.
        var ki = t.AsInt32() - Vector512.Create(RoundMagic).AsInt32();
        var k1 = Vector512.ShiftRightArithmetic(ki, 1);
        var s1 = Vector512.ShiftLeft(k1 + Vector512.Create(127), 23).AsSingle();
        var s2 = Vector512.ShiftLeft(ki - k1 + Vector512.Create(127), 23).AsSingle();
        var result = e * s1 * s2;
        // NaN compares false everywhere and was clamped to a number: give it back.
        result = Vector512.ConditionalSelect(Vector512.Equals(x, x), result, x);
        return Vector512.AndNot(result, underflow.AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var underflow = Vector256.LessThan(x, Vector256.Create(MinArgument));
        var c = Vector256.MinNative(Vector256.MaxNative(x, Vector256.Create(MinArgument)), Vector256.Create(MaxArgument));
        var t = Vector256.FusedMultiplyAdd(c, Vector256.Create(Log2E), Vector256.Create(RoundMagic));
        var k = t - Vector256.Create(RoundMagic);
        var r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2Hi), c);
        r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        var e = Vector256.FusedMultiplyAdd(p, r * r, r + Vector256<float>.One);
        var ki = t.AsInt32() - Vector256.Create(RoundMagic).AsInt32();
        var k1 = Vector256.ShiftRightArithmetic(ki, 1);
        var s1 = Vector256.ShiftLeft(k1 + Vector256.Create(127), 23).AsSingle();
        var s2 = Vector256.ShiftLeft(ki - k1 + Vector256.Create(127), 23).AsSingle();
        var result = e * s1 * s2;
        result = Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
        return Vector256.AndNot(result, underflow.AsSingle());
    }

    /// <summary>exp of each element (the same lanes arithmetic, one vector at a time; the tail padded).</summary>
    public static void Exp(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= x.Length - 16; i += 16) Exp(Vector512.Create(x[i..])).CopyTo(y[i..]);
            if (i < x.Length)
            {
                Span<float> pad = stackalloc float[16];
                x[i..].CopyTo(pad);
                Exp(Vector512.Create<float>(pad)).CopyTo(pad);
                pad[..(x.Length - i)].CopyTo(y[i..]);
            }
            return;
        }
        for (; i <= x.Length - 8; i += 8) Exp(Vector256.Create(x[i..])).CopyTo(y[i..]);
        if (i < x.Length)
        {
            Span<float> pad = stackalloc float[8];
            x[i..].CopyTo(pad);
            Exp(Vector256.Create<float>(pad)).CopyTo(pad);
            pad[..(x.Length - i)].CopyTo(y[i..]);
        }
    }
}
