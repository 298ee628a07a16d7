using System.Runtime.InteropServices;
using Engine.Cuda.Native;

namespace Engine.Cuda;

/// <summary>
/// Explicit host/device copies in stream order, staged through pinned memory in chunks.
/// Uploads return once the data is staged (the copy itself runs later in the stream), using a
/// small ring of staging buffers so that a few uploads can be in flight behind queued work
/// without the host waiting; downloads wait for the stream, since the caller wants the values.
/// </summary>
public sealed unsafe class HostTransfer : IDisposable
{
    private const long ChunkBytes = 16L << 20;
    private const int RingSize = 4;
    private readonly CudaStream _stream;
    private readonly PinnedBuffer[] _ring = Enumerable.Range(0, RingSize).Select(_ => new PinnedBuffer()).ToArray();
    private int _next;

    public HostTransfer(CudaStream stream) { _stream = stream; }

    /// <summary>The next staging buffer of the ring; it waits only if that buffer's last copy is still queued.</summary>
    private PinnedBuffer Staging => _ring[_next];
    private void Advance() => _next = (_next + 1) % RingSize;

    public void Upload<T>(DevicePtr dst, ReadOnlySpan<T> src) where T : unmanaged =>
        Upload(dst, MemoryMarshal.AsBytes(src));

    public void Download<T>(DevicePtr src, Span<T> dst) where T : unmanaged =>
        Download(src, MemoryMarshal.AsBytes(dst));

    /// <summary>Uploads doubles as floats (the GPU computes in float32), converting while staging.</summary>
    public void UploadAsFloat(DevicePtr dst, ReadOnlySpan<double> src)
    {
        long floatsPerChunk = ChunkBytes / sizeof(float);
        for (long start = 0; start < src.Length; start += floatsPerChunk)
        {
            int n = (int)Math.Min(floatsPerChunk, src.Length - start);
            var staged = new Span<float>(Staging.Acquire(n * sizeof(float)), n);
            var part = src.Slice((int)start, n);
            for (int i = 0; i < n; i++) staged[i] = (float)part[i];
            Driver.Check(Driver.cuMemcpyHtoDAsync_v2(dst.Offset(start * sizeof(float)).Address, Unsafe(staged), (nuint)(n * sizeof(float)), _stream.Handle),
                "cuMemcpyHtoDAsync_v2");
            Staging.Release(_stream);
            Advance();
        }
    }

    /// <summary>Downloads floats into doubles.</summary>
    public void DownloadAsDouble(DevicePtr src, Span<double> dst)
    {
        long floatsPerChunk = ChunkBytes / sizeof(float);
        for (long start = 0; start < dst.Length; start += floatsPerChunk)
        {
            int n = (int)Math.Min(floatsPerChunk, dst.Length - start);
            var staged = new Span<float>(Staging.Acquire(n * sizeof(float)), n);
            Driver.Check(Driver.cuMemcpyDtoHAsync_v2(Unsafe(staged), src.Offset(start * sizeof(float)).Address, (nuint)(n * sizeof(float)), _stream.Handle),
                "cuMemcpyDtoHAsync_v2");
            _stream.Synchronize();
            var part = dst.Slice((int)start, n);
            for (int i = 0; i < n; i++) part[i] = staged[i];
        }
    }

    private void Upload(DevicePtr dst, ReadOnlySpan<byte> src)
    {
        for (long start = 0; start < src.Length; start += ChunkBytes)
        {
            int n = (int)Math.Min(ChunkBytes, src.Length - start);
            var staged = new Span<byte>(Staging.Acquire(n), n);
            src.Slice((int)start, n).CopyTo(staged);
            Driver.Check(Driver.cuMemcpyHtoDAsync_v2(dst.Offset(start).Address, Unsafe(staged), (nuint)n, _stream.Handle), "cuMemcpyHtoDAsync_v2");
            Staging.Release(_stream);
            Advance();
        }
    }

    private void Download(DevicePtr src, Span<byte> dst)
    {
        for (long start = 0; start < dst.Length; start += ChunkBytes)
        {
            int n = (int)Math.Min(ChunkBytes, dst.Length - start);
            var staged = new Span<byte>(Staging.Acquire(n), n);
            Driver.Check(Driver.cuMemcpyDtoHAsync_v2(Unsafe(staged), src.Offset(start).Address, (nuint)n, _stream.Handle), "cuMemcpyDtoHAsync_v2");
            _stream.Synchronize();
            staged.CopyTo(dst.Slice((int)start, n));
        }
    }

    // The staging memory is pinned by the driver, so a raw pointer to it stays valid.
    private static void* Unsafe<T>(Span<T> pinned) where T : unmanaged => System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetReference(pinned));

    public void Dispose()
    {
        foreach (var b in _ring) b.Dispose();
    }
}
