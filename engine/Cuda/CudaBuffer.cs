using Engine.Graph;

namespace Engine.Cuda;

/// <summary>Device memory of a CUDA backend: float32 values or int32 indices/labels, 4 bytes each.</summary>
public sealed class CudaBuffer : Graph.Buffer
{
    public const int ElementBytes = 4;
    private readonly DeviceAllocator _allocator;
    private readonly long _blockBytes;
    private bool _disposed;

    internal CudaBuffer(DeviceAllocator allocator, long count, bool isInt)
    {
        _allocator = allocator;
        Count = count;
        IsInt = isInt;
        Ptr = allocator.Allocate(count * ElementBytes, out _blockBytes);
    }

    public DevicePtr Ptr { get; }

    /// <summary>The device address of element <paramref name="index"/>.</summary>
    public DevicePtr At(long index) => Ptr.Offset(index * ElementBytes);

    public override void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _allocator.Free(Ptr, _blockBytes);
        }
        base.Dispose();
    }
}
