using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Engine.Ops.Cpu;

/// <summary>
/// Packing rows of a stored float matrix across GEMM panels is a transpose: eight rows become
/// the eight slots of each panel row. Done eight by eight in AVX registers it runs several times
/// faster than element-by-element strided stores, which dominated convolutions whose weights are
/// large next to their few output pixels (the deep, small layers of a net).
/// </summary>
internal static unsafe class PanelTranspose
{
    public static bool Supported => Avx.IsSupported;

    /// <summary>
    /// Rows r = 0..7 of <paramref name="src"/> (row stride <paramref name="ld"/>), columns 0..depth-1,
    /// to dst[p * dstStride + r].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void EightRows(float* src, long ld, int depth, float* dst, int dstStride)
    {
        int p = 0;
        for (; p + 8 <= depth; p += 8) Block(src + p, ld, dst + (nint)p * dstStride, dstStride);
        for (; p < depth; p++)
            for (int r = 0; r < 8; r++) dst[(nint)p * dstStride + r] = src[r * ld + p];
    }

    /// <summary>dst[q * dstStride + r] = src[r * ld + q] for r, q in 0..7 (dstStride may be negative).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block(float* s, long ld, float* d, nint dstStride) =>
        Store(Avx.LoadVector256(s), Avx.LoadVector256(s + ld), Avx.LoadVector256(s + 2 * ld), Avx.LoadVector256(s + 3 * ld),
            Avx.LoadVector256(s + 4 * ld), Avx.LoadVector256(s + 5 * ld), Avx.LoadVector256(s + 6 * ld), Avx.LoadVector256(s + 7 * ld), d, dstStride);

    /// <summary>Eight values from each of eight rows at any addresses (rows[u] + offset), to dst[q * dstStride + u].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void EightByEight(float** rows, nint offset, float* d, nint dstStride) =>
        Store(Avx.LoadVector256(rows[0] + offset), Avx.LoadVector256(rows[1] + offset), Avx.LoadVector256(rows[2] + offset), Avx.LoadVector256(rows[3] + offset),
            Avx.LoadVector256(rows[4] + offset), Avx.LoadVector256(rows[5] + offset), Avx.LoadVector256(rows[6] + offset), Avx.LoadVector256(rows[7] + offset), d, dstStride);

    /// <summary>Rows r0..r7 stored transposed: dst[q * dstStride + u] = ru[q].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* d, nint dstStride)
    {
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(d + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(d + 2 * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(d + 3 * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(d + 4 * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(d + 5 * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(d + 6 * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(d + 7 * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }
}
