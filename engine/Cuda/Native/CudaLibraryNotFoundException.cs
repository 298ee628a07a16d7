namespace Engine.Cuda.Native;

/// <summary>A CUDA library (driver, cuBLAS, cuDNN) could not be found or loaded; the message names what was searched.</summary>
public sealed class CudaLibraryNotFoundException(string message) : Exception(message);
