using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Ops.Cpu;

/// <summary>
/// Mish over float SIMD lanes with one exp: with e = exp(x) and n = e (e + 2) = (1 + e)^2 - 1,
/// tanh(softplus(x)) = n / (n + 2), so mish(x) = x n / (n + 2) and
/// mish'(x) = n / (n + 2) + 4 x e (1 + e) / (n + 2)^2. Above x = 20 (where n / (n + 2) is 1 in
/// float, as the reference's softplus threshold) mish = x and mish' = 1; far below, e underflows
/// smoothly (subnormals), so mish ~ x e keeps its relative accuracy down to about -87.
/// The float path of <see cref="Mish"/> and of the fused BN + Mish; double keeps the scalar reference.
/// </summary>
internal static class VectorMish
{
    private const float Threshold = 20f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Value(Vector512<float> x)
    {
        var e = VectorExp.Exp(Vector512.MinNative(x, Vector512.Create(Threshold)));
        var n = e * (e + Vector512.Create(2f));
        var y = x * n / (n + Vector512.Create(2f));
        return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(Threshold)), x, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Derivative(Vector512<float> x)
    {
        var e = VectorExp.Exp(Vector512.MinNative(x, Vector512.Create(Threshold)));
        var n = e * (e + Vector512.Create(2f));
        var q = Vector512<float>.One / (n + Vector512.Create(2f));
        var slope = Vector512.Create(4f) * x * e * (e + Vector512<float>.One) * q;
        var d = Vector512.FusedMultiplyAdd(slope, q, n * q);
        return Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(Threshold)), Vector512<float>.One, d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Value(Vector256<float> x)
    {
        var e = VectorExp.Exp(Vector256.MinNative(x, Vector256.Create(Threshold)));
        var n = e * (e + Vector256.Create(2f));
        var y = x * n / (n + Vector256.Create(2f));
        return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(Threshold)), x, y);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Derivative(Vector256<float> x)
    {
        var e = VectorExp.Exp(Vector256.MinNative(x, Vector256.Create(Threshold)));
        var n = e * (e + Vector256.Create(2f));
        var q = Vector256<float>.One / (n + Vector256.Create(2f));
        var slope = Vector256.Create(4f) * x * e * (e + Vector256<float>.One) * q;
        var d = Vector256.FusedMultiplyAdd(slope, q, n * q);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(Threshold)), Vector256<float>.One, d);
    }

    /// <summary>y = mish(x); y may be x itself.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= x.Length - 16; i += 16) Value(Vector512.Create(x[i..])).CopyTo(y[i..]);
        for (; i <= x.Length - 8; i += 8) Value(Vector256.Create(x[i..])).CopyTo(y[i..]);
        if (i == x.Length) return;
        Span<float> pad = stackalloc float[8];
        x[i..].CopyTo(pad);
        Value(Vector256.Create<float>(pad)).CopyTo(pad);
        pad[..(x.Length - i)].CopyTo(y[i..]);
    }

    /// <summary>dx = dy * mish'(x), or dx += when <paramref name="accumulate"/>; dx may be x itself.</summary>
    public static void Gradient(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, bool accumulate)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= x.Length - 16; i += 16)
            {
                var g = Vector512.Create(dy[i..]) * Derivative(Vector512.Create(x[i..]));
                if (accumulate) g = Vector512.Create<float>(dx[i..]) + g;
                g.CopyTo(dx[i..]);
            }
        for (; i <= x.Length - 8; i += 8)
        {
            var g = Vector256.Create(dy[i..]) * Derivative(Vector256.Create(x[i..]));
            if (accumulate) g = Vector256.Create<float>(dx[i..]) + g;
            g.CopyTo(dx[i..]);
        }
        if (i == x.Length) return;
        int rest = x.Length - i;
        Span<float> pad = stackalloc float[16];
        x[i..].CopyTo(pad);
        dy[i..].CopyTo(pad[8..]);
        var t = Vector256.Create<float>(pad[8..]) * Derivative(Vector256.Create<float>(pad));
        t.CopyTo(pad);
        for (int j = 0; j < rest; j++) dx[i + j] = accumulate ? dx[i + j] + pad[j] : pad[j];
    }
}
