using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Ops.Cpu;

/// <summary>
/// Copies blocks of op(A) and op(B) into the micro-panel layouts the GEMM kernels read,
/// padding partial panels with zeros so that every kernel call computes a whole tile.
/// </summary>
internal static class GemmPacking<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Rows i0..i0+mb, columns p0..p0+kc of op(A) as panels of <paramref name="mr"/> rows:
    /// panel q holds, for each p, the mr values op(A)[i0 + q*mr + r, p0 + p].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(bool transA, ref T a, int lda, int i0, int p0, int mb, int kc, int mr, ref T dst)
    {
        for (int r0 = 0; r0 < mb; r0 += mr)
        {
            int rows = Math.Min(mr, mb - r0);
            ref T panel = ref Unsafe.Add(ref dst, (nint)r0 * kc);
            if (!transA)
            {
                for (int r = 0; r < rows; r++)
                {
                    ref T src = ref Unsafe.Add(ref a, (nint)(i0 + r0 + r) * lda + p0);
                    for (int p = 0; p < kc; p++) Unsafe.Add(ref panel, (nint)p * mr + r) = Unsafe.Add(ref src, p);
                }
                for (int r = rows; r < mr; r++)
                    for (int p = 0; p < kc; p++) Unsafe.Add(ref panel, (nint)p * mr + r) = T.Zero;
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    ref T src = ref Unsafe.Add(ref a, (nint)(p0 + p) * lda + i0 + r0);
                    ref T d = ref Unsafe.Add(ref panel, (nint)p * mr);
                    for (int r = 0; r < rows; r++) Unsafe.Add(ref d, r) = Unsafe.Add(ref src, r);
                    for (int r = rows; r < mr; r++) Unsafe.Add(ref d, r) = T.Zero;
                }
            }
        }
    }

    /// <summary>
    /// Rows p0..p0+kc, columns j0..j0+nb of op(B) as panels of <paramref name="nr"/> columns:
    /// panel q holds, for each p, the nr values op(B)[p0 + p, j0 + q*nr + j].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(bool transB, ref T b, int ldb, int p0, int j0, int kc, int nb, int nr, ref T dst)
    {
        for (int c0 = 0; c0 < nb; c0 += nr)
        {
            int cols = Math.Min(nr, nb - c0);
            ref T panel = ref Unsafe.Add(ref dst, (nint)c0 * kc);
            if (!transB)
            {
                for (int p = 0; p < kc; p++)
                {
                    ref T src = ref Unsafe.Add(ref b, (nint)(p0 + p) * ldb + j0 + c0);
                    ref T d = ref Unsafe.Add(ref panel, (nint)p * nr);
                    if (cols == nr) CopyRow(ref src, ref d, nr);
                    else
                    {
                        for (int j = 0; j < cols; j++) Unsafe.Add(ref d, j) = Unsafe.Add(ref src, j);
                        for (int j = cols; j < nr; j++) Unsafe.Add(ref d, j) = T.Zero;
                    }
                }
            }
            else
            {
                for (int j = 0; j < cols; j++)
                {
                    ref T src = ref Unsafe.Add(ref b, (nint)(j0 + c0 + j) * ldb + p0);
                    for (int p = 0; p < kc; p++) Unsafe.Add(ref panel, (nint)p * nr + j) = Unsafe.Add(ref src, p);
                }
                for (int j = cols; j < nr; j++)
                    for (int p = 0; p < kc; p++) Unsafe.Add(ref panel, (nint)p * nr + j) = T.Zero;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow(ref T src, ref T dst, int count)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + Vector512<T>.Count <= count; j += Vector512<T>.Count)
                Vector512.LoadUnsafe(ref src, (nuint)j).StoreUnsafe(ref dst, (nuint)j);
        if (Vector256.IsHardwareAccelerated)
            for (; j + Vector256<T>.Count <= count; j += Vector256<T>.Count)
                Vector256.LoadUnsafe(ref src, (nuint)j).StoreUnsafe(ref dst, (nuint)j);
        for (; j < count; j++) Unsafe.Add(ref dst, j) = Unsafe.Add(ref src, j);
    }
}
