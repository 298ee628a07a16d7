using System.Numerics;

namespace Engine.Ops.Cpu;

/// <summary>Small vectorised span loops shared by the CPU references.</summary>
public static class SpanMath
{
    public static void AddScalar<T>(Span<T> values, T add) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var v = new Vector<T>(add);
            for (; i + Vector<T>.Count <= values.Length; i += Vector<T>.Count) (new Vector<T>(values[i..]) + v).CopyTo(values[i..]);
        }
        for (; i < values.Length; i++) values[i] += add;
    }

    public static void AddTo<T>(ReadOnlySpan<T> src, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
            for (; i + Vector<T>.Count <= src.Length; i += Vector<T>.Count) (new Vector<T>(src[i..]) + new Vector<T>(dst[i..])).CopyTo(dst[i..]);
        for (; i < src.Length; i++) dst[i] += src[i];
    }

    public static T Sum<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T s = T.Zero;
        for (int i = 0; i < values.Length; i++) s += values[i];
        return s;
    }
}
