namespace Engine.Graph;

/// <summary>
/// Collectives on a backend's own buffers, without a trip through host memory (NCCL on CUDA
/// device memory). Data-parallel training uses one when the backend has it.
/// </summary>
public interface IDeviceCollectives : IDisposable
{
    /// <summary>Every rank's <paramref name="slice"/> times <paramref name="scale"/>, summed over ranks, on every rank.</summary>
    void ScaledAllReduceSum(BufferSlice slice, double scale, string what);
    /// <summary>Every rank ends with <paramref name="root"/>'s elements.</summary>
    void Broadcast(BufferSlice slice, int root, string what);
}
