using System.Numerics;
using Engine.Cuda.Native;

namespace Engine.Cuda;

/// <summary>
/// A caching, stream-ordered allocator: freed blocks go onto a free list per size class and are
/// handed out again without a driver call. All users of the blocks run on one stream, so a block
/// freed after queued work may be reused by later queued work without waiting. Backing memory
/// comes from cuMemAllocAsync where the device has memory pools, else cuMemAlloc.
/// </summary>
public sealed class DeviceAllocator : IDisposable
{
    public const long MinBlock = 512;

    private readonly CudaStream _stream;
    private readonly bool _async;
    private readonly Dictionary<long, Stack<ulong>> _free = [];
    private readonly Lock _gate = new();
    private bool _disposed;

    public DeviceAllocator(CudaStream stream)
    {
        _stream = stream;
        _async = stream.Device.Info.SupportsMemoryPools;
    }

    public long BytesInUse { get; private set; }
    public long BytesCached { get; private set; }
    public long PeakBytesInUse { get; private set; }
    /// <summary>Blocks handed out and given back so far (a captured step must do neither).</summary>
    public long Allocations { get; private set; }
    public long Frees { get; private set; }

    /// <summary>Requests above this (an executor's arena, parameter buffers) are served to the next 2 MiB, not a size class.</summary>
    public const long LargeBlock = 64L << 20;

    /// <summary>
    /// The block size serving a request: at least <see cref="MinBlock"/>, then four classes per
    /// power of two (1.25, 1.5, 1.75, 2 times), so at most a quarter is wasted; large blocks,
    /// allocated once per executor, to the next 2 MiB.
    /// </summary>
    public static long SizeClass(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes <= MinBlock) return MinBlock;
        if (bytes > LargeBlock) return (bytes + (2L << 20) - 1) / (2L << 20) * (2L << 20);
        int p = 63 - BitOperations.LeadingZeroCount((ulong)(bytes - 1)); // 2^p < bytes <= 2^(p+1)
        long step = 1L << (p - 2);
        return (bytes + step - 1) / step * step;
    }

    /// <summary>A block of at least <paramref name="bytes"/>; give it back with <see cref="Free"/> and the same size class.</summary>
    public DevicePtr Allocate(long bytes, out long blockBytes)
    {
        blockBytes = SizeClass(bytes);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Allocations++;
            if (_free.TryGetValue(blockBytes, out var list) && list.Count > 0)
            {
                BytesCached -= blockBytes;
                Use(blockBytes);
                return new DevicePtr(list.Pop());
            }
            var r = Backing(blockBytes, out var ptr);
            if (r == CuResult.OutOfMemory && BytesCached > 0)
            {
                ReleaseCachedLocked();
                r = Backing(blockBytes, out ptr);
            }
            if (r == CuResult.OutOfMemory)
                throw new CudaException("CUDA driver", _async ? "cuMemAllocAsync" : "cuMemAlloc_v2", (int)r, Driver.ErrorName(r),
                    $"GPU {_stream.Device.Ordinal} has no room for {Mib(blockBytes)} more ({Mib(BytesInUse)} in use by this executor); lower the batch size");
            Driver.Check(r, _async ? "cuMemAllocAsync" : "cuMemAlloc_v2");
            Use(blockBytes);
            return new DevicePtr(ptr);
        }
    }

    public void Free(DevicePtr ptr, long blockBytes)
    {
        if (ptr.IsNull) return;
        lock (_gate)
        {
            if (_disposed) return; // the memory went with the allocator
            Frees++;
            if (!_free.TryGetValue(blockBytes, out var list)) _free[blockBytes] = list = new Stack<ulong>();
            list.Push(ptr.Address);
            BytesInUse -= blockBytes;
            BytesCached += blockBytes;
        }
    }

    /// <summary>Returns every cached block to the driver (after the stream's queued work is done).</summary>
    public void ReleaseCached()
    {
        lock (_gate) ReleaseCachedLocked();
    }

    private void ReleaseCachedLocked()
    {
        _stream.Device.MakeCurrent();
        foreach (var list in _free.Values)
            while (list.Count > 0)
            {
                var p = list.Pop();
                Driver.Check(_async ? Driver.cuMemFreeAsync(p, _stream.Handle) : Driver.cuMemFree_v2(p), _async ? "cuMemFreeAsync" : "cuMemFree_v2");
            }
        BytesCached = 0;
        _stream.Synchronize();
    }

    private CuResult Backing(long bytes, out ulong ptr)
    {
        _stream.Device.MakeCurrent();
        return _async ? Driver.cuMemAllocAsync(out ptr, (nuint)bytes, _stream.Handle) : Driver.cuMemAlloc_v2(out ptr, (nuint)bytes);
    }

    private void Use(long bytes)
    {
        BytesInUse += bytes;
        PeakBytesInUse = Math.Max(PeakBytesInUse, BytesInUse);
    }

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):F1} MiB";

    /// <summary>Frees the cached blocks. Blocks still held by buffers are freed with the context.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            ReleaseCachedLocked();
            _disposed = true;
        }
    }
}
