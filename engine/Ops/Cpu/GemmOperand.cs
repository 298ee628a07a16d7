using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Ops.Cpu;

/// <summary>
/// A matrix the GEMM can pack into its micro-panel layouts. It may be virtual (the im2col
/// matrix of a batch of images, read straight from the images), so the GEMM never needs it
/// stored. Partial panels are padded with zeros so the micro-kernel always computes whole tiles.
/// </summary>
internal unsafe interface IGemmOperand<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// As the left operand: rows i0..i0+mb, columns p0..p0+kc as panels of <paramref name="mr"/>
    /// rows; panel q holds, for each p, the mr values (i0 + q*mr + r, p0 + p).
    /// </summary>
    void PackA(int i0, int mb, int p0, int kc, int mr, T* dst);

    /// <summary>
    /// As the right operand: rows p0..p0+kc, columns j0..j0+nb as panels of <paramref name="nr"/>
    /// columns; panel q holds, for each p, the nr values (p0 + p, j0 + q*nr + j).
    /// </summary>
    void PackB(int p0, int kc, int j0, int nb, int nr, T* dst);

    /// <summary>
    /// As the right operand, whether every half panel (nr/2 columns starting at a multiple of
    /// nr/2) lies contiguous in each row, so the micro-kernel can read it where it is instead of
    /// from a packed copy: element (p, j + t) is at <see cref="HalfPanel"/>(j) + offset(p) + t.
    /// </summary>
    bool ReadsInPlace(int nr);

    /// <summary>Where half panel j (a multiple of nr/2) starts, for row offset 0.</summary>
    T* HalfPanel(int j);

    /// <summary>The offsets of rows p0..p0+kc (see <see cref="ReadsInPlace"/>).</summary>
    void RowOffsets(int p0, int kc, nint* offsets);
}

/// <summary>A matrix whose rows can be copied out contiguously (for the dot-product GEMM).</summary>
internal unsafe interface IRowSource<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Rows r0..r0+rows, columns c0..c0+count, row r to dst + (r - r0) * dstStride.</summary>
    void CopyRows(int r0, int rows, int c0, int count, T* dst, int dstStride);
}

/// <summary>Zero-fill and strided copies used by the packers.</summary>
internal static unsafe class PackCopy<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(T* src, T* dst, int count, int dstStride)
    {
        if (dstStride != 1)
        {
            for (int i = 0; i < count; i++) dst[(nint)i * dstStride] = src[i];
            return;
        }
        if (Vector256.IsHardwareAccelerated && count >= Vector128<T>.Count)
        {
            CopyOverlapping(src, dst, count);
            return;
        }
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + Vector512<T>.Count <= count; j += Vector512<T>.Count) Vector512.Store(Vector512.Load(src + j), dst + j);
        if (Vector256.IsHardwareAccelerated)
            for (; j + Vector256<T>.Count <= count; j += Vector256<T>.Count) Vector256.Store(Vector256.Load(src + j), dst + j);
        for (; j < count; j++) dst[j] = src[j];
    }

    /// <summary>
    /// count >= one 128-bit vector: whole vectors, then one more ending at the last element
    /// (overlapping what is already copied), so short runs (an image row of 4 or 12 pixels)
    /// take two or three moves instead of an element loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyOverlapping(T* src, T* dst, int count)
    {
        int w256 = Vector256<T>.Count, w128 = Vector128<T>.Count;
        if (count < w256)
        {
            Vector128.Store(Vector128.Load(src), dst);
            Vector128.Store(Vector128.Load(src + count - w128), dst + count - w128);
            return;
        }
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + Vector512<T>.Count <= count; j += Vector512<T>.Count) Vector512.Store(Vector512.Load(src + j), dst + j);
        for (; j + w256 <= count; j += w256) Vector256.Store(Vector256.Load(src + j), dst + j);
        if (j < count) Vector256.Store(Vector256.Load(src + count - w256), dst + count - w256);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Zero(T* dst, int count, int dstStride)
    {
        if (dstStride != 1)
        {
            for (int i = 0; i < count; i++) dst[(nint)i * dstStride] = T.Zero;
            return;
        }
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + Vector512<T>.Count <= count; j += Vector512<T>.Count) Vector512.Store(Vector512<T>.Zero, dst + j);
        if (Vector256.IsHardwareAccelerated)
            for (; j + Vector256<T>.Count <= count; j += Vector256<T>.Count) Vector256.Store(Vector256<T>.Zero, dst + j);
        for (; j < count; j++) dst[j] = T.Zero;
    }
}
