using System.Numerics;

namespace Engine.Ops.Cpu;

/// <summary>
/// Cache-blocked SIMD matrix multiply on row-major spans:
/// C[m x n] = op(A)[m x k] * op(B)[k x n] (+ C when <c>accumulate</c>), op = transpose or not.
/// Every element of C is summed in the same order whatever the sizes, strides or thread count,
/// so results are bitwise reproducible. <c>parallel</c> splits C into strips over the cores.
/// </summary>
public static unsafe class Gemm
{
    /// <param name="lda">Row stride of A as stored (for a dense matrix: k, or m when transposed).</param>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc, bool accumulate, bool parallel = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"gemm: negative size m={m} n={n} k={k}");
        CheckOperand("A", a.Length, transA ? k : m, transA ? m : k, lda);
        CheckOperand("B", b.Length, transB ? n : k, transB ? k : n, ldb);
        CheckOperand("C", c.Length, m, n, ldc);
        fixed (T* pa = a, pb = b, pc = c)
            GemmDriver<T>.Run(m, n, k, new MatrixOperand<T>(pa, lda, transA), new MatrixOperand<T>(pb, ldb, transB),
                new MatrixOperand<T>(pc, ldc), accumulate, parallel);
    }

    /// <summary>Dense operands (leading dimensions equal to their stored row lengths).</summary>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate, bool parallel = false)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Multiply(transA, transB, m, n, k, a, transA ? m : k, b, transB ? k : n, c, n, accumulate, parallel);

    private static void CheckOperand(string name, int length, int rows, int cols, int ld)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols) throw new ArgumentException($"gemm: leading dimension of {name} is {ld}, less than its {cols} columns");
        if ((long)(rows - 1) * ld + cols > length)
            throw new ArgumentException($"gemm: {name} needs {(long)(rows - 1) * ld + cols} elements for {rows}x{cols} with stride {ld}, span has {length}");
    }
}
