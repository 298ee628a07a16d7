using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Engine.Ops.Cpu;

/// <summary>
/// Single-threaded, cache-blocked matrix multiply on row-major spans:
/// C[m x n] = op(A)[m x k] * op(B)[k x n] (+ C when <c>accumulate</c>), op = transpose or not.
/// GotoBLAS / BLIS structure: blocks of op(A) and op(B) are packed into micro-panels
/// (zero-padded to whole tiles) so that the SIMD micro-kernel streams contiguous memory,
/// a KC-deep A panel stays in L1 and a KC x NB block of B in L2.
/// Every element of C is summed in the same order whatever the sizes, so results are
/// reproducible; callers parallelise over independent products (e.g. the images of a batch).
/// </summary>
public static class Gemm
{
    /// <param name="lda">Row stride of A as stored (k when not transposed, m when transposed, for a dense matrix).</param>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"gemm: negative size m={m} n={n} k={k}");
        CheckOperand("A", a.Length, transA ? k : m, transA ? m : k, lda);
        CheckOperand("B", b.Length, transB ? n : k, transB ? k : n, ldb);
        CheckOperand("C", c.Length, m, n, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
            return;
        }
        GemmDriver<T>.Run(transA, transB, m, n, k, ref MemoryMarshal.GetReference(a), lda,
            ref MemoryMarshal.GetReference(b), ldb, ref MemoryMarshal.GetReference(c), ldc, accumulate);
    }

    /// <summary>Dense operands (leading dimensions equal to their stored row lengths).</summary>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Multiply(transA, transB, m, n, k, a, transA ? m : k, b, transB ? k : n, c, n, accumulate);

    private static void CheckOperand(string name, int length, int rows, int cols, int ld)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new ArgumentException($"gemm: leading dimension of {name} is {ld}, less than its {cols} columns");
        if ((long)(rows - 1) * ld + cols > length)
            throw new ArgumentException($"gemm: {name} needs {(long)(rows - 1) * ld + cols} elements for {rows}x{cols} with stride {ld}, span has {length}");
    }
}

internal static class GemmDriver<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly int MR = GemmKernels<T>.MR;
    private static readonly int NR = GemmKernels<T>.NR;
    // Depth of one packed block: an MR x KC panel of A (plus streamed B) stays in L1.
    private static readonly int KC = 1024 / Unsafe.SizeOf<T>();
    // Columns of a packed B block: KC x NB is about 1 MiB, resident in L2.
    private static readonly int NB = Math.Max(NR, (1 << 20) / (KC * Unsafe.SizeOf<T>()) / NR * NR);
    // Rows of a packed A block.
    private static readonly int MB = 64 * MR;

    [ThreadStatic] private static T[]? _packA;
    [ThreadStatic] private static T[]? _packB;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(bool transA, bool transB, int m, int n, int k, ref T a, int lda, ref T b, int ldb, ref T c, int ldc, bool accumulate)
    {
        int mrr = MR, nrr = NR;
        var packA = _packA ??= new T[MB * KC];
        var packB = _packB ??= new T[NB * KC];
        Span<T> edge = stackalloc T[mrr * nrr];
        ref T pa = ref MemoryMarshal.GetArrayDataReference(packA);
        ref T pb = ref MemoryMarshal.GetArrayDataReference(packB);
        ref T edgeRef = ref MemoryMarshal.GetReference(edge);

        for (int i0 = 0; i0 < m; i0 += MB)
        {
            int mb = Math.Min(MB, m - i0);
            for (int p0 = 0; p0 < k; p0 += KC)
            {
                int kc = Math.Min(KC, k - p0);
                bool overwrite = !accumulate && p0 == 0;
                GemmPacking<T>.PackA(transA, ref a, lda, i0, p0, mb, kc, mrr, ref pa);
                for (int j0 = 0; j0 < n; j0 += NB)
                {
                    int nb = Math.Min(NB, n - j0);
                    GemmPacking<T>.PackB(transB, ref b, ldb, p0, j0, kc, nb, nrr, ref pb);
                    for (int ir = 0; ir < mb; ir += mrr)
                    {
                        int mr = Math.Min(mrr, mb - ir);
                        ref T ap = ref Unsafe.Add(ref pa, (nint)ir * kc);
                        ref T cRow = ref Unsafe.Add(ref c, (nint)(i0 + ir) * ldc + j0);
                        for (int jr = 0; jr < nb; jr += nrr)
                        {
                            int nr = Math.Min(nrr, nb - jr);
                            ref T bp = ref Unsafe.Add(ref pb, (nint)jr * kc);
                            if (mr == mrr && nr == nrr)
                            {
                                GemmKernels<T>.Tile(kc, ref ap, ref bp, ref Unsafe.Add(ref cRow, jr), ldc, overwrite);
                                continue;
                            }
                            GemmKernels<T>.Tile(kc, ref ap, ref bp, ref edgeRef, nrr, overwrite: true);
                            for (int i = 0; i < mr; i++)
                            {
                                ref T dst = ref Unsafe.Add(ref cRow, (nint)i * ldc + jr);
                                for (int j = 0; j < nr; j++)
                                {
                                    T v = Unsafe.Add(ref edgeRef, i * nrr + j);
                                    Unsafe.Add(ref dst, j) = overwrite ? v : Unsafe.Add(ref dst, j) + v;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
