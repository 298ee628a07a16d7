using Engine.Tensors;
using Engine.Cuda;
using Engine.Graph;

namespace Bench;

/// <summary>
/// The GPU side of the benches: device buffers, kernel launches on the backend's stream, and
/// timing with events after an L2 flush (llm.c dev/cuda style), so every run starts cold.
/// </summary>
internal sealed class Gpu : IDisposable
{
    private const long FlushBytes = 256L << 20; // well above the H100's 50 MB L2
    private readonly List<CudaBuffer> _owned = [];
    private readonly CudaBuffer _flush;
    private readonly CudaEvent _start, _end;

    public Gpu(int ordinal)
    {
        Backend = CudaBackend.Create(ordinal); // loads the driver: create events after it
        _flush = (CudaBuffer)Backend.Allocate(FlushBytes / 4, DataType.F32);
        _start = new CudaEvent();
        _end = new CudaEvent();
    }

    public CudaBackend Backend { get; }
    public CudaStream Stream => Backend.Stream;
    public int Multiprocessors => Backend.Device.Info.Multiprocessors;

    public DevicePtr Floats(ReadOnlySpan<float> values)
    {
        var b = Buffer(values.Length, false);
        Backend.Upload(BufferSlice.Whole(b), values);
        return b.Ptr;
    }

    public DevicePtr Ints(ReadOnlySpan<int> values)
    {
        var b = Buffer(values.Length, true);
        Backend.Upload(BufferSlice.Whole(b), values);
        return b.Ptr;
    }

    public DevicePtr Zeros(long count, bool isInt = false)
    {
        var b = Buffer(count, isInt);
        Stream.Fill32(b.Ptr, 0, count);
        return b.Ptr;
    }

    public void Zero(DevicePtr p, long count) => Stream.Fill32(p, 0, count);

    public float[] ReadFloats(DevicePtr p, long count) => Read<float>(p, count);
    public int[] ReadInts(DevicePtr p, long count) => Read<int>(p, count);

    public void Launch(string kernel, long gridBlocks, int block, scoped ref KernelArgs args, uint sharedBytes = 0) =>
        Stream.Launch(Backend.Kernels.Get(kernel), (uint)Math.Clamp(gridBlocks, 1, 32L * Multiprocessors), (uint)block, ref args, sharedBytes);

    /// <summary>kernels/ABI.md's elementwise grid: ceil(n / 1024) blocks of 256, capped.</summary>
    public static long ElementwiseGrid(long n) => (n + 1023) / 1024;

    /// <summary>Mean and best microseconds of <paramref name="run"/> over <paramref name="repeats"/> cold-cache runs.</summary>
    public (double Mean, double Best) Time(Action run, int repeats)
    {
        run(); // warm-up: module load, JIT
        Stream.Synchronize();
        double sum = 0, best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            Stream.Fill32(_flush.Ptr, (uint)i, FlushBytes / 4);
            _start.Record(Stream);
            run();
            _end.Record(Stream);
            double us = CudaEvent.ElapsedMs(_start, _end) * 1000.0;
            sum += us;
            best = Math.Min(best, us);
        }
        return (sum / repeats, best);
    }

    /// <summary>Device-to-device copy bandwidth in GB/s (bytes read + written), the yardstick for the kernels.</summary>
    public double CopyBandwidth(long bytes = 1L << 30)
    {
        var a = Buffer(bytes / 4, false);
        var b = Buffer(bytes / 4, false);
        var (_, best) = Time(() => Stream.CopyDeviceToDevice(b.Ptr, a.Ptr, bytes), 10);
        Free(a);
        Free(b);
        return 2.0 * bytes / (best * 1e3);
    }

    /// <summary>Frees every buffer made since the last call (between cases).</summary>
    public void FreeAll()
    {
        Stream.Synchronize();
        foreach (var b in _owned) b.Dispose();
        _owned.Clear();
        Backend.Allocator.ReleaseCached();
    }

    private CudaBuffer Buffer(long count, bool isInt)
    {
        var b = (CudaBuffer)Backend.Allocate(count, isInt ? DataType.I32 : DataType.F32);
        _owned.Add(b);
        return b;
    }

    private void Free(CudaBuffer b)
    {
        _owned.Remove(b);
        b.Dispose();
    }

    private T[] Read<T>(DevicePtr p, long count) where T : unmanaged
    {
        var owner = _owned.First(b => p.Address >= b.Ptr.Address && p.Address < b.Ptr.Address + (ulong)(b.Count * 4));
        var slice = new BufferSlice(owner, (long)(p.Address - owner.Ptr.Address), count, typeof(T) == typeof(int) ? DataType.I32 : DataType.F32);
        var r = new T[count];
        switch (r)
        {
            case float[] f: Backend.Download(slice, f); break;
            case int[] n: Backend.Download(slice, n); break;
        }
        return r;
    }

    public void Dispose()
    {
        FreeAll();
        _flush.Dispose();
        _start.Dispose();
        _end.Dispose();
        Backend.Dispose();
    }
}
