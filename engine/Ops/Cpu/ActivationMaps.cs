using System.Numerics;
using System.Runtime.InteropServices;

namespace Engine.Ops.Cpu;

/// <summary>
/// The activations of the fused ops, in place over a span, with exactly the arithmetic of the
/// <see cref="Relu"/> and <see cref="Mish"/> ops (so fused and unfused nets agree bit for bit).
/// </summary>
internal static class ActivationMaps
{
    /// <summary>z = act(z).</summary>
    public static void Apply<T>(ActivationKind act, Span<T> z) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (act == ActivationKind.Mish)
        {
            if (typeof(T) == typeof(float)) { var f = MemoryMarshal.Cast<T, float>(z); VectorMish.Forward(f, f); return; }
            for (int i = 0; i < z.Length; i++) z[i] = z[i] * T.Tanh(Mish.Softplus(z[i]));
            return;
        }
        int j = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
            for (; j <= z.Length - Vector<T>.Count; j += Vector<T>.Count)
                Vector.Max(new Vector<T>(z[j..]), Vector<T>.Zero).CopyTo(z[j..]);
        for (; j < z.Length; j++) z[j] = T.Max(z[j], T.Zero);
    }

    /// <summary>zToDz = dy * act'(z): the gradient at the activation's input, overwriting z.</summary>
    public static void Gradient<T>(ActivationKind act, ReadOnlySpan<T> dy, Span<T> zToDz) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (act == ActivationKind.Mish)
        {
            if (typeof(T) == typeof(float))
            {
                var f = MemoryMarshal.Cast<T, float>(zToDz);
                VectorMish.Gradient(f, MemoryMarshal.Cast<T, float>(dy), f, accumulate: false);
                return;
            }
            for (int i = 0; i < zToDz.Length; i++) zToDz[i] = dy[i] * Mish.Derivative(zToDz[i]);
            return;
        }
        int j = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
            for (; j <= zToDz.Length - Vector<T>.Count; j += Vector<T>.Count)
            {
                var pass = Vector.GreaterThan(new Vector<T>(zToDz[j..]), Vector<T>.Zero);
                Vector.ConditionalSelect(pass, new Vector<T>(dy[j..]), Vector<T>.Zero).CopyTo(zToDz[j..]);
            }
        for (; j < zToDz.Length; j++) zToDz[j] = zToDz[j] > T.Zero ? dy[j] : T.Zero;
    }
}
