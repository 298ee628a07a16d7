using Engine.Graph;
using Engine.Tensors;

namespace Engine.Cuda;

/// <summary>Device memory of a CUDA backend, addressed in bytes (slices carry their element type).</summary>
public sealed class CudaBuffer : Graph.Buffer
{
    private readonly DeviceAllocator _allocator;
    private readonly long _blockBytes;
    private bool _disposed;

    internal CudaBuffer(DeviceAllocator allocator, long count, DataType type)
    {
        _allocator = allocator;
        Type = type;
        Bytes = count * type.Size();
        Ptr = allocator.Allocate(Math.Max(Bytes, 4), out _blockBytes);
    }

    public DevicePtr Ptr { get; }

    /// <summary>The device address <paramref name="byteOffset"/> bytes in.</summary>
    public DevicePtr At(long byteOffset) => Ptr.Offset(byteOffset);

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
