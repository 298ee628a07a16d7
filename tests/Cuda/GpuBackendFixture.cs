using Engine.Cuda;

namespace Engine.Tests.Cuda;

/// <summary>One CUDA backend per test class (opened once, skipped with the reason when no GPU is usable), so any host fallback of that class's tests shows on it.</summary>
public abstract class GpuBackendFixture
{
    private CudaBackend? _gpu;

    [OneTimeSetUp]
    public void Open()
    {
        if (GpuAvailability.Reason() is null) _gpu = CudaBackend.Create(0);
    }

    [OneTimeTearDown]
    public void Close() => _gpu?.Dispose();

    protected CudaBackend Gpu
    {
        get
        {
            GpuAvailability.Require();
            if (_gpu!.Kernels.EntryNames.Count == 0) Assert.Ignore("no PTX is embedded in the Engine assembly (nvcc was absent at build time)");
            return _gpu;
        }
    }
}
