using Engine.Cuda.Native;

namespace Engine.Cuda;

/// <summary>
/// Page-locked host memory for staging copies: asynchronous copies need it, and it is faster.
/// Grows on demand. An event records when the last copy from or to it finished, so the host
/// never overwrites bytes a queued copy has yet to read.
/// </summary>
public sealed unsafe class PinnedBuffer : IDisposable
{
    private nint _host;
    private long _bytes;
    private CudaEvent? _lastUse;

    public long Capacity => _bytes;

    /// <summary>A host pointer to at least <paramref name="bytes"/>, once earlier copies involving the buffer have finished.</summary>
    public void* Acquire(long bytes)
    {
        _lastUse?.Synchronize();
        if (bytes > _bytes)
        {
            if (_host != 0) Driver.Check(Driver.cuMemFreeHost(_host), "cuMemFreeHost");
            _host = 0;
            var size = Math.Max(bytes, Math.Max(1 << 20, _bytes * 2));
            Driver.Check(Driver.cuMemHostAlloc(out _host, (nuint)size, 0), "cuMemHostAlloc");
            _bytes = size;
        }
        return (void*)_host;
    }

    /// <summary>Marks the point in <paramref name="stream"/> after which the buffer is free again.</summary>
    public void Release(CudaStream stream)
    {
        _lastUse ??= new CudaEvent(timing: false);
        _lastUse.Record(stream);
    }

    public void Dispose()
    {
        _lastUse?.Synchronize();
        _lastUse?.Dispose();
        _lastUse = null;
        if (_host != 0) Driver.cuMemFreeHost(_host);
        _host = 0;
        _bytes = 0;
    }
}
