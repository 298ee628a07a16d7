using System.Runtime.InteropServices;

namespace Engine.Cuda.Native;

/// <summary>CUresult (cuda.h); only the values the engine reacts to are named.</summary>
public enum CuResult
{
    Success = 0,
    InvalidValue = 1,
    OutOfMemory = 2,
    NotInitialized = 3,
    NoDevice = 100,
    NoBinaryForGpu = 209,
    InvalidPtx = 218,
    UnsupportedPtxVersion = 222,
    NotFound = 500,
    NotReady = 600,
    NotSupported = 801,
    StreamCaptureUnsupported = 900,
    StreamCaptureInvalidated = 901,
    CapturedEvent = 907,
}

/// <summary>
/// The CUDA driver API entry points the engine calls (cuda.h). Memory functions are bound to
/// their _v2 exports: the unversioned ones are the old 32-bit ABI. Handles are nint, device
/// pointers ulong (CUdeviceptr), size_t nuint.
/// </summary>
internal static unsafe partial class Driver
{
    private const string Lib = NativeLibraries.Driver;

    // CUdevice_attribute
    public const int AttrMaxThreadsPerBlock = 1;
    public const int AttrClockRate = 13;
    public const int AttrMultiprocessorCount = 16;
    public const int AttrPciBusId = 33;
    public const int AttrComputeCapabilityMajor = 75;
    public const int AttrComputeCapabilityMinor = 76;
    public const int AttrMemoryPoolsSupported = 115;

    // CUjit_option
    public const int JitInfoLogBuffer = 3;
    public const int JitInfoLogBufferSizeBytes = 4;
    public const int JitErrorLogBuffer = 5;
    public const int JitErrorLogBufferSizeBytes = 6;
    public const int JitLogVerbose = 12;

    public const uint StreamNonBlocking = 1;
    public const uint EventDefault = 0;
    public const uint EventDisableTiming = 2;
    public const int CaptureModeGlobal = 0;
    public const int CaptureModeThreadLocal = 1;
    public const int CaptureModeRelaxed = 2;
    // CUstreamCaptureStatus
    public const int CaptureStatusNone = 0;
    public const int CaptureStatusActive = 1;
    public const int CaptureStatusInvalidated = 2;

    [LibraryImport(Lib)] public static partial CuResult cuInit(uint flags);
    [LibraryImport(Lib)] public static partial CuResult cuDriverGetVersion(out int version);
    [LibraryImport(Lib)] public static partial CuResult cuDeviceGetCount(out int count);
    [LibraryImport(Lib)] public static partial CuResult cuDeviceGet(out int device, int ordinal);
    [LibraryImport(Lib)] public static partial CuResult cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(Lib)] public static partial CuResult cuDeviceGetAttribute(out int value, int attribute, int device);
    [LibraryImport(Lib)] public static partial CuResult cuDeviceTotalMem_v2(out nuint bytes, int device);

    [LibraryImport(Lib)] public static partial CuResult cuDevicePrimaryCtxRetain(out nint context, int device);
    [LibraryImport(Lib)] public static partial CuResult cuDevicePrimaryCtxRelease_v2(int device);
    [LibraryImport(Lib)] public static partial CuResult cuCtxSetCurrent(nint context);
    [LibraryImport(Lib)] public static partial CuResult cuCtxGetCurrent(out nint context);
    [LibraryImport(Lib)] public static partial CuResult cuCtxSynchronize();

    [LibraryImport(Lib)] public static partial CuResult cuMemAlloc_v2(out ulong dptr, nuint bytes);
    [LibraryImport(Lib)] public static partial CuResult cuMemFree_v2(ulong dptr);
    [LibraryImport(Lib)] public static partial CuResult cuMemGetInfo_v2(out nuint free, out nuint total);
    [LibraryImport(Lib)] public static partial CuResult cuMemAllocAsync(out ulong dptr, nuint bytes, nint stream);
    [LibraryImport(Lib)] public static partial CuResult cuMemFreeAsync(ulong dptr, nint stream);
    [LibraryImport(Lib)] public static partial CuResult cuMemHostAlloc(out nint host, nuint bytes, uint flags);
    [LibraryImport(Lib)] public static partial CuResult cuMemFreeHost(nint host);
    [LibraryImport(Lib)] public static partial CuResult cuMemcpyHtoD_v2(ulong dst, void* src, nuint bytes);
    [LibraryImport(Lib)] public static partial CuResult cuMemcpyDtoH_v2(void* dst, ulong src, nuint bytes);
    [LibraryImport(Lib)] public static partial CuResult cuMemcpyDtoD_v2(ulong dst, ulong src, nuint bytes);
    [LibraryImport(Lib)] public static partial CuResult cuMemcpyHtoDAsync_v2(ulong dst, void* src, nuint bytes, nint stream);
    [LibraryImport(Lib)] public static partial CuResult cuMemcpyDtoHAsync_v2(void* dst, ulong src, nuint bytes, nint stream);
    [LibraryImport(Lib)] public static partial CuResult cuMemcpyDtoDAsync_v2(ulong dst, ulong src, nuint bytes, nint stream);
    [LibraryImport(Lib)] public static partial CuResult cuMemsetD32_v2(ulong dst, uint value, nuint count);
    [LibraryImport(Lib)] public static partial CuResult cuMemsetD8_v2(ulong dst, byte value, nuint count);
    [LibraryImport(Lib)] public static partial CuResult cuMemsetD32Async(ulong dst, uint value, nuint count, nint stream);
    [LibraryImport(Lib)] public static partial CuResult cuMemsetD8Async(ulong dst, byte value, nuint count, nint stream);

    [LibraryImport(Lib)] public static partial CuResult cuModuleLoadDataEx(out nint module, void* image, uint numOptions, int* options, void** optionValues);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)] public static partial CuResult cuModuleGetFunction(out nint function, nint module, string name);
    [LibraryImport(Lib)] public static partial CuResult cuModuleUnload(nint module);
    [LibraryImport(Lib)]
    public static partial CuResult cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedMemBytes, nint stream, void** kernelParams, void** extra);

    [LibraryImport(Lib)] public static partial CuResult cuStreamCreate(out nint stream, uint flags);
    [LibraryImport(Lib)] public static partial CuResult cuStreamSynchronize(nint stream);
    /// <summary>Success when the stream's work is done, <see cref="CuResult.NotReady"/> while it runs.</summary>
    [LibraryImport(Lib)] public static partial CuResult cuStreamQuery(nint stream);
    [LibraryImport(Lib)] public static partial CuResult cuStreamDestroy_v2(nint stream);
    [LibraryImport(Lib)] public static partial CuResult cuEventCreate(out nint evt, uint flags);
    [LibraryImport(Lib)] public static partial CuResult cuEventRecord(nint evt, nint stream);
    [LibraryImport(Lib)] public static partial CuResult cuEventSynchronize(nint evt);
    [LibraryImport(Lib)] public static partial CuResult cuEventDestroy_v2(nint evt);

    [LibraryImport(Lib)] public static partial CuResult cuStreamBeginCapture_v2(nint stream, int mode);
    [LibraryImport(Lib)] public static partial CuResult cuStreamEndCapture(nint stream, out nint graph);
    [LibraryImport(Lib)] public static partial CuResult cuStreamIsCapturing(nint stream, out int captureStatus);
    [LibraryImport(Lib)] public static partial CuResult cuGraphInstantiateWithFlags(out nint graphExec, nint graph, ulong flags);
    [LibraryImport(Lib)] public static partial CuResult cuGraphLaunch(nint graphExec, nint stream);
    [LibraryImport(Lib)] public static partial CuResult cuGraphExecDestroy(nint graphExec);
    [LibraryImport(Lib)] public static partial CuResult cuGraphDestroy(nint graph);

    [LibraryImport(Lib)] public static partial CuResult cuGetErrorName(CuResult error, out byte* name);
    [LibraryImport(Lib)] public static partial CuResult cuGetErrorString(CuResult error, out byte* text);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial CuResult cuGetProcAddress_v2(string symbol, out nint function, int cudaVersion, ulong flags, out int symbolStatus);

    /// <summary>cuEventElapsedTime, looked up once: CUDA 12.8+ headers call it _v2 and a future driver may drop the plain export.</summary>
    public static CuResult EventElapsedTime(out float milliseconds, nint start, nint end)
    {
        var fn = (delegate* unmanaged<float*, nint, nint, CuResult>)ElapsedTimeAddress.Value;
        float ms;
        var r = fn(&ms, start, end);
        milliseconds = ms;
        return r;
    }

    private static readonly Lazy<nint> ElapsedTimeAddress = new(() =>
    {
        var lib = NativeLibraries.LoadDriver();
        if (NativeLibrary.TryGetExport(lib, "cuEventElapsedTime", out var plain)) return plain;
        if (NativeLibrary.TryGetExport(lib, "cuEventElapsedTime_v2", out var v2)) return v2;
        const string call = "cuGetProcAddress_v2(\"cuEventElapsedTime\", 12080)";
        Check(cuGetProcAddress_v2("cuEventElapsedTime", out var found, 12080, 0, out var status), call);
        if (found == 0)
            throw new CudaException("CUDA driver", call, status,
                status == 2 ? "CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT" : "CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND");
        return found;
    });

    /// <summary>Throws a <see cref="CudaException"/> carrying the driver's error name unless <paramref name="result"/> is success.</summary>
    public static void Check(CuResult result, string call)
    {
        if (result != CuResult.Success) throw Error(result, call);
    }

    public static CudaException Error(CuResult result, string call) =>
        new("CUDA driver", call, (int)result, ErrorName(result), ErrorText(result));

    /// <summary>The driver's own name for a code, or our table's when the driver cannot say.</summary>
    public static string ErrorName(CuResult result)
    {
        try
        {
            if (NativeLibraries.TryLoadDriver(out _) && cuGetErrorName(result, out var p) == CuResult.Success && p != null)
                return Marshal.PtrToStringUTF8((nint)p) ?? ErrorNames.ForDriver((int)result);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { }
        return ErrorNames.ForDriver((int)result);
    }

    private static string? ErrorText(CuResult result)
    {
        try
        {
            if (NativeLibraries.TryLoadDriver(out _) && cuGetErrorString(result, out var p) == CuResult.Success && p != null)
                return Marshal.PtrToStringUTF8((nint)p);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { }
        return null;
    }
}
