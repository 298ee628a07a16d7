using System.Runtime.InteropServices;

namespace Engine.Cuda.Native;

/// <summary>
/// cuBLAS v2 entry points (cublas_api.h). The handle-less v1 names (cublasSgemm, ...) are never
/// bound. cuBLAS is column-major; see <see cref="Engine.Cuda.Blas"/> for the row-major wrapper.
/// </summary>
internal static unsafe partial class Cublas
{
    private const string Lib = NativeLibraries.Cublas;

    public const int OpN = 0;
    public const int OpT = 1;
    public const int MathDefault = 0;
    public const int MathPedantic = 2;
    public const int MathTf32TensorOp = 3;
    public const int GemmDefault = -1;
    // cudaDataType
    public const int R32F = 0;
    public const int R64F = 1;
    public const int R16F = 2;
    public const int R16BF = 14;
    // cublasComputeType_t: a compute type, never a data type.
    public const int Compute32F = 68;
    public const int Compute32FFastTf32 = 77;
    public const int Compute16F = 64;
    // libraryPropertyType
    public const int MajorVersion = 0;
    public const int MinorVersion = 1;
    public const int PatchLevel = 2;

    [LibraryImport(Lib)] public static partial int cublasCreate_v2(out nint handle);
    [LibraryImport(Lib)] public static partial int cublasDestroy_v2(nint handle);
    [LibraryImport(Lib)] public static partial int cublasSetStream_v2(nint handle, nint stream);
    [LibraryImport(Lib)] public static partial int cublasSetMathMode(nint handle, int mode);
    /// <summary>A workspace of our own, so that captured GEMMs allocate nothing; cublasSetStream_v2 resets it, so set it after.</summary>
    [LibraryImport(Lib)] public static partial int cublasSetWorkspace_v2(nint handle, ulong workspace, nuint bytes);
    [LibraryImport(Lib)] public static partial int cublasGetVersion_v2(nint handle, out int version);
    [LibraryImport(Lib)] public static partial int cublasGetProperty(int type, out int value);
    [LibraryImport(Lib)] public static partial byte* cublasGetStatusName(int status);

    [LibraryImport(Lib)]
    public static partial int cublasGemmEx(nint handle, int transA, int transB, int m, int n, int k,
        void* alpha, ulong a, int aType, int lda, ulong b, int bType, int ldb,
        void* beta, ulong c, int cType, int ldc, int computeType, int algo);

    [LibraryImport(Lib)]
    public static partial int cublasGemmStridedBatchedEx(nint handle, int transA, int transB, int m, int n, int k,
        void* alpha, ulong a, int aType, int lda, long strideA, ulong b, int bType, int ldb, long strideB,
        void* beta, ulong c, int cType, int ldc, long strideC, int batchCount, int computeType, int algo);

    public static void Check(int status, string call)
    {
        if (status != 0) throw new CudaException("cuBLAS", call, status, StatusName(status));
    }

    public static string StatusName(int status)
    {
        try
        {
            if (NativeLibraries.TryLoadCublas(out _) && cublasGetStatusName(status) is var p && p != null
                && Marshal.PtrToStringUTF8((nint)p) is { Length: > 0 } name && !name.Contains("UNKNOWN", StringComparison.Ordinal))
                return name;
        }
        catch (EntryPointNotFoundException) { }
        return ErrorNames.ForCublas(status);
    }

    /// <summary>"12.9.1" from the library's properties; needs no device.</summary>
    public static string Version()
    {
        Check(cublasGetProperty(MajorVersion, out var major), "cublasGetProperty(MAJOR_VERSION)");
        Check(cublasGetProperty(MinorVersion, out var minor), "cublasGetProperty(MINOR_VERSION)");
        Check(cublasGetProperty(PatchLevel, out var patch), "cublasGetProperty(PATCH_LEVEL)");
        return $"{major}.{minor}.{patch}";
    }
}
