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

    /// <summary>Calls Assert.Ignore with the reason when no GPU is usable.</summary>
    public static void Require()
    {
        if (Reason() is { } why) Assert.Ignore(why);
    }
}
