using Engine.Cuda;
using Engine.Graph;

namespace Engine.Inference;

/// <summary>Where a <see cref="Predictor"/> runs: the CPU (the default) or a CUDA GPU by number.</summary>
public readonly record struct Device(int? GpuOrdinal)
{
    public static Device Cpu => default;
    public static Device Gpu(int ordinal = 0) => new(ordinal);

    /// <summary>A float32 backend on this device.</summary>
    /// <exception cref="CudaUnavailableException">The GPU cannot be used (no driver, no such device, ...).</exception>
    public Backend CreateBackend() => GpuOrdinal is int ordinal ? CudaBackend.Create(ordinal) : new CpuBackend<float>();

    public override string ToString() => GpuOrdinal is int ordinal ? $"gpu {ordinal}" : "cpu";
}
