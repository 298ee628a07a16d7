namespace Engine.Cuda.Native;

/// <summary>
/// Names of the error codes we are most likely to meet, for when the library's own
/// name function is unavailable (the library failed to load, or the code is unknown to it).
/// Values from cuda.h (11.8), cublas_api.h and cuDNN 9's cudnn_graph.h.
/// </summary>
public static class ErrorNames
{
    private static readonly Dictionary<int, string> Driver = new()
    {
        [0] = "CUDA_SUCCESS", [1] = "CUDA_ERROR_INVALID_VALUE", [2] = "CUDA_ERROR_OUT_OF_MEMORY",
        [3] = "CUDA_ERROR_NOT_INITIALIZED", [4] = "CUDA_ERROR_DEINITIALIZED", [34] = "CUDA_ERROR_STUB_LIBRARY",
        [46] = "CUDA_ERROR_DEVICE_UNAVAILABLE", [100] = "CUDA_ERROR_NO_DEVICE", [101] = "CUDA_ERROR_INVALID_DEVICE",
        [200] = "CUDA_ERROR_INVALID_IMAGE", [201] = "CUDA_ERROR_INVALID_CONTEXT", [209] = "CUDA_ERROR_NO_BINARY_FOR_GPU",
        [218] = "CUDA_ERROR_INVALID_PTX", [221] = "CUDA_ERROR_JIT_COMPILER_NOT_FOUND",
        [222] = "CUDA_ERROR_UNSUPPORTED_PTX_VERSION", [400] = "CUDA_ERROR_INVALID_HANDLE", [500] = "CUDA_ERROR_NOT_FOUND",
        [600] = "CUDA_ERROR_NOT_READY", [700] = "CUDA_ERROR_ILLEGAL_ADDRESS", [701] = "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
        [702] = "CUDA_ERROR_LAUNCH_TIMEOUT", [716] = "CUDA_ERROR_MISALIGNED_ADDRESS", [719] = "CUDA_ERROR_LAUNCH_FAILED",
        [801] = "CUDA_ERROR_NOT_SUPPORTED", [803] = "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
        [804] = "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE", [900] = "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED",
        [901] = "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", [906] = "CUDA_ERROR_STREAM_CAPTURE_IMPLICIT",
        [907] = "CUDA_ERROR_CAPTURED_EVENT", [999] = "CUDA_ERROR_UNKNOWN",
    };

    private static readonly Dictionary<int, string> Cublas = new()
    {
        [0] = "CUBLAS_STATUS_SUCCESS", [1] = "CUBLAS_STATUS_NOT_INITIALIZED", [3] = "CUBLAS_STATUS_ALLOC_FAILED",
        [7] = "CUBLAS_STATUS_INVALID_VALUE", [8] = "CUBLAS_STATUS_ARCH_MISMATCH", [11] = "CUBLAS_STATUS_MAPPING_ERROR",
        [13] = "CUBLAS_STATUS_EXECUTION_FAILED", [14] = "CUBLAS_STATUS_INTERNAL_ERROR", [15] = "CUBLAS_STATUS_NOT_SUPPORTED",
        [16] = "CUBLAS_STATUS_LICENSE_ERROR",
    };

    private static readonly Dictionary<int, string> Cudnn = new()
    {
        [0] = "CUDNN_STATUS_SUCCESS", [1001] = "CUDNN_STATUS_NOT_INITIALIZED",
        [1002] = "CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH", [1004] = "CUDNN_STATUS_DEPRECATED",
        [1008] = "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED", [2000] = "CUDNN_STATUS_BAD_PARAM",
        [2002] = "CUDNN_STATUS_BAD_PARAM_NULL_POINTER", [3000] = "CUDNN_STATUS_NOT_SUPPORTED",
        [3007] = "CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH", [4000] = "CUDNN_STATUS_INTERNAL_ERROR",
        [4004] = "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED", [5000] = "CUDNN_STATUS_EXECUTION_FAILED",
    };

    /// <summary>cuDNN 9 groups its codes by thousands: the category of an unlisted code.</summary>
    private static readonly Dictionary<int, string> CudnnCategory = new()
    {
        [1] = "CUDNN_STATUS_NOT_INITIALIZED", [2] = "CUDNN_STATUS_BAD_PARAM", [3] = "CUDNN_STATUS_NOT_SUPPORTED",
        [4] = "CUDNN_STATUS_INTERNAL_ERROR", [5] = "CUDNN_STATUS_EXECUTION_FAILED",
    };

    public static string ForDriver(int code) => Driver.TryGetValue(code, out var n) ? n : $"CUDA_ERROR_{code}";
    public static string ForCublas(int code) => Cublas.TryGetValue(code, out var n) ? n : $"CUBLAS_STATUS_{code}";

    public static string ForCudnn(int code) =>
        Cudnn.TryGetValue(code, out var n) ? n
        : CudnnCategory.TryGetValue(code / 1000, out var c) ? $"{c} (sub-code {code})"
        : $"CUDNN_STATUS_{code}";
}
