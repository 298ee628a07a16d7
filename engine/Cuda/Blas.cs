using Engine.Cuda.Native;

namespace Engine.Cuda;

/// <summary>
/// A cuBLAS handle bound to one stream, with GEMM on row-major matrices. cuBLAS is
/// column-major, and a row-major matrix read column-major is its transpose, so row-major
/// C = op(A)·op(B) is computed as the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: swap the operands and
/// the sizes m and n, keep the transpose flags. The handle works in a workspace of ours, fixed for
/// its life, so that GEMMs in a captured step allocate nothing.
/// </summary>
public sealed unsafe class Blas : IDisposable
{
    private nint _handle;
    private readonly int _computeType;
    private readonly DeviceAllocator _allocator;
    private DevicePtr _workspace;
    private readonly long _workspaceBlock;

    /// <summary>cuBLAS' recommended workspace: 32 MiB on Hopper (sm_90) and later, 4 MiB before.</summary>
    public static long WorkspaceBytes(int computeMajor) => computeMajor >= 9 ? 32L << 20 : 4L << 20;

    public Blas(CudaStream stream, DeviceAllocator allocator, bool tf32)
    {
        NativeLibraries.LoadCublas();
        stream.Device.MakeCurrent();
        _allocator = allocator;
        Cublas.Check(Cublas.cublasCreate_v2(out _handle), "cublasCreate_v2");
        Cublas.Check(Cublas.cublasSetStream_v2(_handle, stream.Handle), "cublasSetStream_v2");
        _workspace = allocator.Allocate(WorkspaceBytes(stream.Device.Info.ComputeMajor), out _workspaceBlock);
        Cublas.Check(Cublas.cublasSetWorkspace_v2(_handle, _workspace.Address, (nuint)_workspaceBlock), "cublasSetWorkspace_v2");
        Cublas.Check(Cublas.cublasSetMathMode(_handle, tf32 ? Cublas.MathTf32TensorOp : Cublas.MathDefault), "cublasSetMathMode");
        _computeType = tf32 ? Cublas.Compute32FFastTf32 : Cublas.Compute32F;
    }

    /// <summary>
    /// Row-major, densely stored: C[m×n] = alpha · op(A) · op(B) + beta · C, where op(A) is m×k
    /// (A stored k×m when <paramref name="transA"/>) and op(B) is k×n (B stored n×k when <paramref name="transB"/>).
    /// </summary>
    public void Gemm(bool transA, bool transB, int m, int n, int k, float alpha, DevicePtr a, DevicePtr b, float beta, DevicePtr c)
    {
        if (m == 0 || n == 0) return;
        var (op, lda, ldb) = Plan(transA, transB, m, n, k);
        Cublas.Check(Cublas.cublasGemmEx(_handle, op.B, op.A, n, m, k, &alpha,
                b.Address, Cublas.R32F, ldb, a.Address, Cublas.R32F, lda,
                &beta, c.Address, Cublas.R32F, n, _computeType, Cublas.GemmDefault),
            $"cublasGemmEx(row-major {m}x{n}x{k}{(transA ? ", Aᵀ" : "")}{(transB ? ", Bᵀ" : "")})");
    }

    /// <summary><see cref="Gemm"/> over <paramref name="batch"/> matrices at fixed element strides.</summary>
    public void GemmStridedBatched(bool transA, bool transB, int m, int n, int k, float alpha, DevicePtr a, long strideA,
        DevicePtr b, long strideB, float beta, DevicePtr c, long strideC, int batch)
    {
        if (m == 0 || n == 0 || batch == 0) return;
        var (op, lda, ldb) = Plan(transA, transB, m, n, k);
        Cublas.Check(Cublas.cublasGemmStridedBatchedEx(_handle, op.B, op.A, n, m, k, &alpha,
                b.Address, Cublas.R32F, ldb, strideB, a.Address, Cublas.R32F, lda, strideA,
                &beta, c.Address, Cublas.R32F, n, strideC, batch, _computeType, Cublas.GemmDefault),
            $"cublasGemmStridedBatchedEx(row-major {m}x{n}x{k}, batch {batch})");
    }

    /// <summary>cuBLAS' transpose flags and leading dimensions for the row-major product; public for tests.</summary>
    internal static ((int A, int B) Op, int Lda, int Ldb) Plan(bool transA, bool transB, int m, int n, int k) =>
        ((transA ? Cublas.OpT : Cublas.OpN, transB ? Cublas.OpT : Cublas.OpN), transA ? m : k, transB ? k : n);

    public void Dispose()
    {
        if (_handle == 0) return;
        Cublas.cublasDestroy_v2(_handle);
        _handle = 0;
        _allocator.Free(_workspace, _workspaceBlock);
        _workspace = DevicePtr.Null;
    }
}
