namespace Engine.Cuda.Native;

/// <summary>A CUDA driver, cuBLAS or cuDNN call returned an error; carries the library's error name and the call.</summary>
public sealed class CudaException : Exception
{
    public CudaException(string library, string call, int code, string errorName, string? detail = null)
        : base($"{call} failed: {errorName} ({code}){(string.IsNullOrEmpty(detail) ? "" : ": " + detail)}")
    {
        Library = library;
        Call = call;
        Code = code;
        ErrorName = errorName;
        Detail = string.IsNullOrEmpty(detail) ? null : detail;
    }

    /// <summary>"CUDA driver", "cuBLAS" or "cuDNN".</summary>
    public string Library { get; }
    /// <summary>The native function that failed (with context such as a kernel name where known).</summary>
    public string Call { get; }
    public int Code { get; }
    /// <summary>The library's symbolic name, e.g. CUDA_ERROR_OUT_OF_MEMORY, CUBLAS_STATUS_INVALID_VALUE, CUDNN_STATUS_BAD_PARAM.</summary>
    public string ErrorName { get; }
    /// <summary>The library's description or log (JIT log, cuDNN's last error), when it gave one.</summary>
    public string? Detail { get; }
}
