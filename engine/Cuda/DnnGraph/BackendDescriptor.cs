using Engine.Cuda.Native;

namespace Engine.Cuda.DnnGraph;

/// <summary>
/// One cuDNN backend descriptor: typed setters, finalize, getters. Every failing call throws a
/// <see cref="CudaException"/> naming the function, the descriptor type and the attribute; a failed
/// finalize also lists the attributes that were set (cuDNN's own message names what it missed).
/// </summary>
public sealed unsafe class BackendDescriptor : IDisposable
{
    private readonly IBackendApi _api;
    private readonly List<BackendAttribute> _set = [];
    private nint _handle;

    public BackendDescriptor(IBackendApi api, BackendDescriptorType type)
    {
        _api = api;
        Type = type;
        Check(api.Create(type, out _handle), $"cudnnBackendCreateDescriptor({CudnnBackendNames.Of(type)})");
    }

    public BackendDescriptorType Type { get; }
    public nint Handle => _handle;
    public bool Finalized { get; private set; }

    public BackendDescriptor Set(BackendAttribute name, long value) => Set(name, BackendAttributeType.Int64, 1, &value);
    public BackendDescriptor Set(BackendAttribute name, ReadOnlySpan<long> values)
    {
        fixed (long* p = values) return Set(name, BackendAttributeType.Int64, values.Length, p);
    }
    public BackendDescriptor Set(BackendAttribute name, float value) => Set(name, BackendAttributeType.Float, 1, &value);
    /// <summary>An enum-valued attribute (data type, convolution mode, heuristic mode): a C int.</summary>
    public BackendDescriptor SetEnum(BackendAttribute name, BackendAttributeType type, int value) => Set(name, type, 1, &value);
    public BackendDescriptor SetHandle(BackendAttribute name, nint handle) => Set(name, BackendAttributeType.Handle, 1, &handle);
    public BackendDescriptor Set(BackendAttribute name, BackendDescriptor d)
    {
        var h = d.Handle;
        return Set(name, BackendAttributeType.BackendDescriptor, 1, &h);
    }
    public BackendDescriptor Set(BackendAttribute name, ReadOnlySpan<BackendDescriptor> ds)
    {
        var hs = new nint[ds.Length];
        for (int i = 0; i < ds.Length; i++) hs[i] = ds[i].Handle;
        fixed (nint* p = hs) return Set(name, BackendAttributeType.BackendDescriptor, hs.Length, p);
    }
    public BackendDescriptor SetPointer(BackendAttribute name, ulong address) => Set(name, BackendAttributeType.VoidPtr, 1, &address);
    public BackendDescriptor SetPointers(BackendAttribute name, ReadOnlySpan<ulong> addresses)
    {
        fixed (ulong* p = addresses) return Set(name, BackendAttributeType.VoidPtr, addresses.Length, p);
    }

    public BackendDescriptor Set(BackendAttribute name, BackendAttributeType type, long count, void* elements)
    {
        Check(_api.SetAttribute(_handle, name, type, count, elements), $"cudnnBackendSetAttribute({CudnnBackendNames.Of(Type)}, {CudnnBackendNames.Of(name)})");
        _set.Add(name);
        return this;
    }

    public BackendDescriptor Finalize()
    {
        int status = _api.Finalize(_handle);
        if (status != 0)
            Check(status, $"cudnnBackendFinalize({CudnnBackendNames.Of(Type)}; set: {string.Join(", ", _set.Select(CudnnBackendNames.Of))})");
        Finalized = true;
        return this;
    }

    /// <summary>cudnnBackendFinalize's status without throwing: an execution plan's "this engine cannot do that" is an answer, not an error.</summary>
    public int TryFinalize()
    {
        int status = _api.Finalize(_handle);
        Finalized = status == 0;
        return status;
    }

    public long GetInt64(BackendAttribute name)
    {
        long value = 0;
        Check(_api.GetAttribute(_handle, name, BackendAttributeType.Int64, 1, out _, &value), GetCall(name));
        return value;
    }

    /// <summary>How many elements <paramref name="name"/> holds (a get asking for none).</summary>
    public long Count(BackendAttribute name, BackendAttributeType type)
    {
        Check(_api.GetAttribute(_handle, name, type, 0, out var count, null), GetCall(name));
        return count;
    }

    /// <summary>Fills <paramref name="into"/> (descriptors created by the caller, as cuDNN wants) and returns how many were filled.</summary>
    public int GetDescriptors(BackendAttribute name, ReadOnlySpan<BackendDescriptor> into)
    {
        var hs = new nint[into.Length];
        for (int i = 0; i < into.Length; i++) hs[i] = into[i].Handle;
        long count;
        fixed (nint* p = hs)
            Check(_api.GetAttribute(_handle, name, BackendAttributeType.BackendDescriptor, hs.Length, out count, p), GetCall(name));
        return (int)Math.Min(count, into.Length);
    }

    public int[] GetEnums(BackendAttribute name, BackendAttributeType type, int max)
    {
        var values = new int[max];
        long count;
        fixed (int* p = values) Check(_api.GetAttribute(_handle, name, type, max, out count, p), GetCall(name));
        return values[..(int)Math.Clamp(count, 0, max)];
    }

    private string GetCall(BackendAttribute name) => $"cudnnBackendGetAttribute({CudnnBackendNames.Of(Type)}, {CudnnBackendNames.Of(name)})";

    internal static void Check(int status, string call) => Cudnn.Check(status, call);

    public void Dispose()
    {
        if (_handle != 0) _api.Destroy(_handle);
        _handle = 0;
    }
}
