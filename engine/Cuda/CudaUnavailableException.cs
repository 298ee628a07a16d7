namespace Engine.Cuda;

/// <summary>The requested GPU cannot be used; the one-line message says why (no driver, no device, missing library).</summary>
public sealed class CudaUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
