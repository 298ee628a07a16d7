using Engine.Cuda.Native;

namespace Engine.Cuda.DnnGraph;

/// <summary>
/// The six functions of cuDNN's backend API, as status codes. <see cref="NativeBackendApi"/> calls
/// cuDNN; tests substitute a recorder to see which attributes the builder sets, in which order.
/// </summary>
public unsafe interface IBackendApi
{
    int Create(BackendDescriptorType type, out nint descriptor);
    int Destroy(nint descriptor);
    int Finalize(nint descriptor);
    int SetAttribute(nint descriptor, BackendAttribute name, BackendAttributeType type, long count, void* elements);
    int GetAttribute(nint descriptor, BackendAttribute name, BackendAttributeType type, long requested, out long count, void* elements);
    int Execute(nint handle, nint plan, nint variantPack);
}

/// <summary>The backend API of the loaded libcudnn.</summary>
public sealed unsafe class NativeBackendApi : IBackendApi
{
    public static readonly NativeBackendApi Instance = new();

    private NativeBackendApi() { }

    public int Create(BackendDescriptorType type, out nint descriptor) => CudnnBackend.cudnnBackendCreateDescriptor((int)type, out descriptor);
    public int Destroy(nint descriptor) => CudnnBackend.cudnnBackendDestroyDescriptor(descriptor);
    public int Finalize(nint descriptor) => CudnnBackend.cudnnBackendFinalize(descriptor);
    public int SetAttribute(nint descriptor, BackendAttribute name, BackendAttributeType type, long count, void* elements) =>
        CudnnBackend.cudnnBackendSetAttribute(descriptor, (int)name, (int)type, count, elements);
    public int GetAttribute(nint descriptor, BackendAttribute name, BackendAttributeType type, long requested, out long count, void* elements) =>
        CudnnBackend.cudnnBackendGetAttribute(descriptor, (int)name, (int)type, requested, out count, elements);
    public int Execute(nint handle, nint plan, nint variantPack) => CudnnBackend.cudnnBackendExecute(handle, plan, variantPack);
}
