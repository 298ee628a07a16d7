using Engine.Cuda.Native;

namespace Engine.Cuda;

/// <summary>
/// A device-side int32 flag (a kernel's "bad label" slot) copied to pinned host memory in
/// stream order and examined at the backend's next synchronisation point, so that detecting
/// bad input costs no extra wait.
/// </summary>
internal sealed unsafe class DeferredCheck : IDisposable
{
    private readonly Func<int, Exception?> _verify;
    private nint _host;

    public DeferredCheck(Func<int, Exception?> verify)
    {
        _verify = verify;
        Driver.Check(Driver.cuMemHostAlloc(out _host, 64, 0), "cuMemHostAlloc");
    }

    /// <summary>Whether a copy is queued and not yet examined.</summary>
    public bool Pending { get; private set; }

    /// <summary>Queues the copy of the flag; the caller registers this check with the backend if it was not pending.</summary>
    public void Capture(DevicePtr flag, CudaStream stream)
    {
        Queue(flag, stream);
        Pending = true;
    }

    /// <summary>Queues the copy only (a captured step: the graph repeats it, and <see cref="MarkQueued"/> follows each replay).</summary>
    public void Queue(DevicePtr flag, CudaStream stream) =>
        Driver.Check(Driver.cuMemcpyDtoHAsync_v2((void*)_host, flag.Address, 4, stream.Handle), "cuMemcpyDtoHAsync_v2");

    /// <summary>A replayed graph queued the copy again.</summary>
    public void MarkQueued() => Pending = true;

    /// <summary>Examines the flag; the stream must have passed the copy.</summary>
    public void Verify()
    {
        if (!Pending) return;
        Pending = false;
        if (_verify(*(int*)_host) is { } e) throw e;
    }

    public void Dispose()
    {
        if (_host != 0) Driver.cuMemFreeHost(_host);
        _host = 0;
    }
}
