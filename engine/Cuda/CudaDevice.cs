using System.Text;
using Engine.Cuda.Native;

namespace Engine.Cuda;

/// <summary>What the driver reports about one GPU.</summary>
public sealed record CudaDeviceInfo(int Ordinal, string Name, int Multiprocessors, int ComputeMajor, int ComputeMinor,
    long TotalMemoryBytes, bool SupportsMemoryPools)
{
    public string ComputeCapability => $"{ComputeMajor}.{ComputeMinor}";
}

/// <summary>
/// One GPU and its primary context (the one cuBLAS and cuDNN use too). The context is made
/// current on whichever thread calls in, since .NET may move work between threads.
/// </summary>
public sealed class CudaDevice : IDisposable
{
    private static readonly Lock InitGate = new();
    private static CuResult? _initResult;
    private bool _disposed;

    private CudaDevice(CudaDeviceInfo info, int handle, nint context)
    {
        Info = info;
        Handle = handle;
        Context = context;
    }

    public CudaDeviceInfo Info { get; }
    public int Ordinal => Info.Ordinal;
    internal int Handle { get; }
    internal nint Context { get; }

    /// <summary>Loads the driver and calls cuInit once; later calls repeat the first outcome.</summary>
    public static void Initialize()
    {
        NativeLibraries.LoadDriver();
        lock (InitGate)
        {
            _initResult ??= Driver.cuInit(0);
            Driver.Check(_initResult.Value, "cuInit");
        }
    }

    /// <summary>The driver's CUDA version as "12.2" (from cuDriverGetVersion; needs no device).</summary>
    public static string DriverVersion()
    {
        NativeLibraries.LoadDriver();
        Driver.Check(Driver.cuDriverGetVersion(out var v), "cuDriverGetVersion");
        return $"{v / 1000}.{v % 1000 / 10}";
    }

    public static int Count()
    {
        Initialize();
        Driver.Check(Driver.cuDeviceGetCount(out var n), "cuDeviceGetCount");
        return n;
    }

    /// <summary>Properties of the device with this ordinal, without creating a context.</summary>
    public static unsafe CudaDeviceInfo Query(int ordinal)
    {
        var handle = DeviceHandle(ordinal);
        var name = stackalloc byte[256];
        Driver.Check(Driver.cuDeviceGetName(name, 256, handle), "cuDeviceGetName");
        var length = 0;
        while (length < 256 && name[length] != 0) length++;
        Driver.Check(Driver.cuDeviceTotalMem_v2(out var total, handle), "cuDeviceTotalMem_v2");
        return new CudaDeviceInfo(ordinal, Encoding.UTF8.GetString(name, length),
            Attribute(handle, Driver.AttrMultiprocessorCount, "MULTIPROCESSOR_COUNT"),
            Attribute(handle, Driver.AttrComputeCapabilityMajor, "COMPUTE_CAPABILITY_MAJOR"),
            Attribute(handle, Driver.AttrComputeCapabilityMinor, "COMPUTE_CAPABILITY_MINOR"),
            (long)total,
            Attribute(handle, Driver.AttrMemoryPoolsSupported, "MEMORY_POOLS_SUPPORTED") != 0);
    }

    /// <summary>Retains the device's primary context and makes it current on this thread.</summary>
    public static CudaDevice Open(int ordinal)
    {
        var info = Query(ordinal);
        var handle = DeviceHandle(ordinal);
        Driver.Check(Driver.cuDevicePrimaryCtxRetain(out var ctx, handle), "cuDevicePrimaryCtxRetain");
        var device = new CudaDevice(info, handle, ctx);
        device.MakeCurrent();
        return device;
    }

    /// <summary>Makes this device's context current on the calling thread (cheap when it already is).</summary>
    public void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Driver.Check(Driver.cuCtxGetCurrent(out var current), "cuCtxGetCurrent");
        if (current != Context) Driver.Check(Driver.cuCtxSetCurrent(Context), "cuCtxSetCurrent");
    }

    public (long Free, long Total) MemoryInfo()
    {
        MakeCurrent();
        Driver.Check(Driver.cuMemGetInfo_v2(out var free, out var total), "cuMemGetInfo_v2");
        return ((long)free, (long)total);
    }

    public void Synchronize()
    {
        MakeCurrent();
        Driver.Check(Driver.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // Releasing can only fail if the context is already gone; nothing useful to do then.
        Driver.cuDevicePrimaryCtxRelease_v2(Handle);
    }

    private static int DeviceHandle(int ordinal)
    {
        var count = Count();
        if (ordinal < 0 || ordinal >= count)
            throw new ArgumentOutOfRangeException(nameof(ordinal), ordinal,
                count == 0 ? "no CUDA device is present" : $"GPU {ordinal} does not exist: there {(count == 1 ? "is 1 CUDA device (0)" : $"are {count} CUDA devices (0..{count - 1})")}");
        Driver.Check(Driver.cuDeviceGet(out var handle, ordinal), "cuDeviceGet");
        return handle;
    }

    private static int Attribute(int device, int attribute, string name)
    {
        Driver.Check(Driver.cuDeviceGetAttribute(out var v, attribute, device), $"cuDeviceGetAttribute({name})");
        return v;
    }
}
