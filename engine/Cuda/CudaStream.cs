using Engine.Cuda.Native;

namespace Engine.Cuda;

/// <summary>
/// A non-blocking stream: the order in which one executor's work runs. Kernel launches, copies
/// and library calls all go onto it; nothing synchronises unless asked (or <see cref="SyncDebug"/>).
/// </summary>
public sealed class CudaStream : IDisposable
{
    private nint _handle;

    private CudaStream(CudaDevice device, nint handle)
    {
        Device = device;
        _handle = handle;
    }

    public CudaDevice Device { get; }
    internal nint Handle => _handle != 0 ? _handle : throw new ObjectDisposedException(nameof(CudaStream));

    /// <summary>Synchronise after every launch so that a failing kernel is named at its launch (slow; for debugging).</summary>
    public bool SyncDebug { get; set; }

    public static CudaStream Create(CudaDevice device)
    {
        device.MakeCurrent();
        Driver.Check(Driver.cuStreamCreate(out var s, Driver.StreamNonBlocking), "cuStreamCreate");
        return new CudaStream(device, s);
    }

    public void Synchronize() => Driver.Check(Driver.cuStreamSynchronize(Handle), "cuStreamSynchronize");

    /// <summary>Queues <paramref name="function"/> with the given arguments (see <see cref="KernelArgs"/>).</summary>
    public unsafe void Launch(CudaFunction function, Dim3 grid, Dim3 block, scoped ref KernelArgs args, uint sharedBytes = 0)
    {
        if (grid.X == 0 || grid.Y == 0 || grid.Z == 0) return; // nothing to do: empty tensors
        var pointers = stackalloc void*[Math.Max(1, args.Count)];
        args.FillPointers(pointers);
        var r = Driver.cuLaunchKernel(function.Handle, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z,
            sharedBytes, Handle, pointers, null);
        if (r != CuResult.Success) throw Driver.Error(r, $"cuLaunchKernel({function.Name}, grid {grid}, block {block})");
        if (SyncDebug)
        {
            r = Driver.cuStreamSynchronize(Handle);
            if (r != CuResult.Success) throw Driver.Error(r, $"kernel {function.Name} (grid {grid}, block {block}), reported by cuStreamSynchronize");
        }
    }

    /// <summary>Fills <paramref name="count"/> 32-bit words with <paramref name="value"/> (0 for float or int zero).</summary>
    public void Fill32(DevicePtr dst, uint value, long count)
    {
        if (count == 0) return;
        Driver.Check(Driver.cuMemsetD32Async(dst.Address, value, (nuint)count, Handle), "cuMemsetD32Async");
    }

    public void CopyDeviceToDevice(DevicePtr dst, DevicePtr src, long bytes)
    {
        if (bytes == 0) return;
        Driver.Check(Driver.cuMemcpyDtoDAsync_v2(dst.Address, src.Address, (nuint)bytes, Handle), "cuMemcpyDtoDAsync_v2");
    }

    /// <summary>Starts recording this stream's work into a CUDA graph instead of running it.</summary>
    public void BeginCapture(int mode = Driver.CaptureModeThreadLocal) =>
        Driver.Check(Driver.cuStreamBeginCapture_v2(Handle, mode), "cuStreamBeginCapture_v2");

    /// <summary>CU_STREAM_CAPTURE_STATUS_NONE, _ACTIVE or _INVALIDATED (an illegal call during the capture).</summary>
    public int CaptureStatus
    {
        get
        {
            Driver.Check(Driver.cuStreamIsCapturing(Handle, out var status), "cuStreamIsCapturing");
            return status;
        }
    }

    /// <summary>Ends a capture (also an invalidated one, which then throws) and instantiates the recorded work for replay.</summary>
    public CudaGraph EndCapture()
    {
        Driver.Check(Driver.cuStreamEndCapture(Handle, out var graph), "cuStreamEndCapture");
        try
        {
            Driver.Check(Driver.cuGraphInstantiateWithFlags(out var exec, graph, 0), "cuGraphInstantiateWithFlags");
            return new CudaGraph(graph, exec);
        }
        catch
        {
            Driver.cuGraphDestroy(graph);
            throw;
        }
    }

    public void Dispose()
    {
        if (_handle == 0) return;
        Driver.cuStreamDestroy_v2(_handle);
        _handle = 0;
    }
}

/// <summary>Work captured from a stream, replayable with one launch.</summary>
public sealed class CudaGraph : IDisposable
{
    private nint _graph;
    private nint _exec;

    internal CudaGraph(nint graph, nint exec)
    {
        _graph = graph;
        _exec = exec;
    }

    public void Launch(CudaStream stream) => Driver.Check(Driver.cuGraphLaunch(_exec, stream.Handle), "cuGraphLaunch");

    public void Dispose()
    {
        if (_exec != 0) Driver.cuGraphExecDestroy(_exec);
        if (_graph != 0) Driver.cuGraphDestroy(_graph);
        _exec = _graph = 0;
    }
}

/// <summary>A point in a stream; with timing, two of them measure the GPU time between.</summary>
public sealed class CudaEvent : IDisposable
{
    private nint _handle;

    public CudaEvent(bool timing = true)
    {
        Driver.Check(Driver.cuEventCreate(out _handle, timing ? Driver.EventDefault : Driver.EventDisableTiming), "cuEventCreate");
    }

    public void Record(CudaStream stream) => Driver.Check(Driver.cuEventRecord(_handle, stream.Handle), "cuEventRecord");
    public void Synchronize() => Driver.Check(Driver.cuEventSynchronize(_handle), "cuEventSynchronize");

    /// <summary>Milliseconds of GPU time from <paramref name="start"/> to <paramref name="end"/>, both recorded and complete.</summary>
    public static float ElapsedMs(CudaEvent start, CudaEvent end)
    {
        end.Synchronize();
        Driver.Check(Driver.EventElapsedTime(out var ms, start._handle, end._handle), "cuEventElapsedTime");
        return ms;
    }

    public void Dispose()
    {
        if (_handle == 0) return;
        Driver.cuEventDestroy_v2(_handle);
        _handle = 0;
    }
}
