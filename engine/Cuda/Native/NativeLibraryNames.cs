namespace Engine.Cuda.Native;

/// <summary>
/// The file names of the CUDA libraries on one OS, preferred first. Windows puts the major
/// version into the name (cublas64_13.dll) where Linux puts it after ".so".
/// </summary>
/// <param name="CudnnRequiredParts">cuDNN 9's sub-libraries, which its shim loads lazily and aborts the process when it cannot; in dependency order.</param>
/// <param name="NvrtcBuiltinsPattern">NVRTC's builtins library, loaded by NVRTC by name from its own folder.</param>
/// <param name="Nccl">Null on Windows: NVIDIA ships NCCL for Linux only, so multi-GPU collectives are Linux only.</param>
public sealed record NativeLibraryNames(
    NativeLibrarySpec Driver,
    NativeLibrarySpec Cublas,
    NativeLibrarySpec CublasLt,
    NativeLibrarySpec Cudnn,
    IReadOnlyList<string> CudnnRequiredParts,
    IReadOnlyList<string> CudnnOptionalParts,
    NativeLibrarySpec Nvrtc,
    string NvrtcBuiltinsPattern,
    NativeLibrarySpec? Nccl)
{
    public static readonly NativeLibraryNames Linux = new(
        new("CUDA driver library", ["libcuda.so.1"]),
        new("cuBLAS", ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11"]),
        new("cuBLASLt", ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11"]),
        new("cuDNN 9", ["libcudnn.so.9"]),
        ["libcudnn_graph.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9"],
        ["libcudnn_engines_precompiled.so.9", "libcudnn_engines_runtime_compiled.so.9", "libcudnn_heuristic.so.9", "libcudnn_adv.so.9"],
        new("NVRTC", ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"]),
        "libnvrtc-builtins.so.*",
        new("NCCL", ["libnccl.so.2"]));

    public static readonly NativeLibraryNames Windows = new(
        new("CUDA driver library", ["nvcuda.dll"]),
        new("cuBLAS", ["cublas64_13.dll", "cublas64_12.dll", "cublas64_11.dll"]),
        new("cuBLASLt", ["cublasLt64_13.dll", "cublasLt64_12.dll", "cublasLt64_11.dll"]),
        new("cuDNN 9", ["cudnn64_9.dll"]),
        ["cudnn_graph64_9.dll", "cudnn_ops64_9.dll", "cudnn_cnn64_9.dll"],
        ["cudnn_engines_precompiled64_9.dll", "cudnn_engines_runtime_compiled64_9.dll", "cudnn_heuristic64_9.dll", "cudnn_adv64_9.dll"],
        new("NVRTC", ["nvrtc64_130_0.dll", "nvrtc64_120_0.dll", "nvrtc64_112_0.dll"]),
        "nvrtc-builtins64_*.dll",
        null);

    public const string NcclUnavailable = "NCCL is not available on Windows (NVIDIA ships it for Linux only); multi-GPU collectives need Linux";

    public static NativeLibraryNames For(OsFamily os) => os == OsFamily.Windows ? Windows : Linux;

    public static NativeLibraryNames Current { get; } = For(SearchPlatform.CurrentOs);

    /// <summary>The cuBLASLt file of the same version as a cuBLAS file name (cuBLAS needs exactly that one), or null for an unknown name.</summary>
    public string? CublasLtFor(string cublasFileName)
    {
        for (int i = 0; i < Cublas.FileNames.Count; i++)
            if (string.Equals(Cublas.FileNames[i], cublasFileName, StringComparison.OrdinalIgnoreCase))
                return CublasLt.FileNames[i];
        return null;
    }
}
