using Engine.Cuda;
using Engine.Cuda.Native;

namespace Engine.Tests.Cuda;

/// <summary>Why GPU tests cannot run here, or null when a device is usable.</summary>
public static class GpuAvailability
{
    private static readonly Lazy<string?> Cached = new(() =>
    {
        try
        {
            return CudaDevice.Count() > 0 ? null : "the CUDA driver reports no devices";
        }
        catch (CudaLibraryNotFoundException e)
        {
            return e.Message;
        }
        catch (CudaException e)
        {
            return $"no usable GPU: {e.Message}";
        }
    });

    public static string? Reason() => Cached.Value;

    /// <summary>
    /// Whether device 0 is the fake driver of tests/Cuda/FakeDriver (kernels in a CPU emulator),
    /// which runs only the kernels of kernels/ABI.md and has no PTX compiler (its graphs replay what
    /// a stream captured, on the host).
    /// </summary>
    public static bool IsFake => Reason() is null && CudaDevice.Query(0).Name.StartsWith("Fake CUDA device", StringComparison.Ordinal);

    /// <summary>Ignores the test on the fake driver as well as without a GPU.</summary>
    public static void RequireRealGpu(string why)
    {
        Require();
        if (IsFake) Assert.Ignore($"the fake CUDA driver cannot do this: the test {why}");
    }

    /// <summary>Calls Assert.Ignore with the reason when no GPU is usable.</summary>
    public static void Require()
    {
        if (Reason() is { } why) Assert.Ignore(why);
    }
}
