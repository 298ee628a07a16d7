using System.Diagnostics;
using System.Globalization;
using Engine.Cuda.Native;
using Engine.Distributed;
using Engine.Graph;

namespace Engine.Cuda;

/// <summary>
/// Gradient all-reduce and weight broadcast between the ranks' GPUs with NCCL, on the backend's
/// stream. The communicator is made from a unique id that rank 0 broadcasts over the ranks' host
/// collectives (MPI). Each call waits for its stream until the collective timeout, then aborts
/// the communicator, so a stalled peer ends the run instead of hanging it. Not yet run on GPUs
/// (no multi-GPU machine in CI); the host path through MPI is what is tested.
/// </summary>
public sealed class NcclCollectives : IDeviceCollectives
{
    private readonly CudaBackend _backend;
    private readonly TimeSpan _timeout;
    private nint _comm;

    private NcclCollectives(CudaBackend backend, nint comm, TimeSpan timeout)
    {
        _backend = backend;
        _comm = comm;
        _timeout = timeout;
    }

    /// <summary>Loads NCCL (a missing one is a <see cref="CudaLibraryNotFoundException"/> naming where it looked) and joins the ranks of <paramref name="group"/>.</summary>
    public static unsafe NcclCollectives Create(CudaBackend backend, ICollectives group, TimeSpan timeout)
    {
        NativeLibraries.LoadNccl();
        var id = new Nccl.UniqueId();
        if (group.Rank == 0) Check(Nccl.ncclGetUniqueId(out id), "ncclGetUniqueId");
        group.Broadcast(new Span<byte>(id.Bytes, Nccl.UniqueId.Size), 0, "NCCL unique id");
        backend.Device.MakeCurrent();
        Check(Nccl.ncclCommInitRank(out var comm, group.Size, id, group.Rank), "ncclCommInitRank");
        return new NcclCollectives(backend, comm, timeout);
    }

    public void ScaledAllReduceSum(BufferSlice slice, double scale, string what)
    {
        if (slice.Count == 0) return;
        _backend.Device.MakeCurrent();
        var ptr = CudaBackend.Ptr(slice);
        var args = new KernelArgs();
        args.Add(ptr); args.Add((float)scale); args.Add(slice.Count);
        _backend.LaunchElementwise("scale_f32", slice.Count, ref args);
        Check(Nccl.ncclAllReduce(ptr.Address, ptr.Address, (nuint)slice.Count, Nccl.Float32, Nccl.Sum, _comm, _backend.Stream.Handle), "ncclAllReduce");
        Wait(what);
    }

    public void Broadcast(BufferSlice slice, int root, string what)
    {
        if (slice.Count == 0) return;
        _backend.Device.MakeCurrent();
        var ptr = CudaBackend.Ptr(slice);
        Check(Nccl.ncclBroadcast(ptr.Address, ptr.Address, (nuint)slice.Count, Nccl.Float32, root, _comm, _backend.Stream.Handle), "ncclBroadcast");
        Wait(what);
    }

    /// <summary>Polls the stream until the collective is done; past the timeout (or on an NCCL error) aborts the communicator and throws.</summary>
    private void Wait(string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var status = Driver.cuStreamQuery(_backend.Stream.Handle);
            if (status == CuResult.Success) return;
            if (status != CuResult.NotReady) Driver.Check(status, "cuStreamQuery");
            Check(Nccl.ncclCommGetAsyncError(_comm, out int asyncError), "ncclCommGetAsyncError");
            if (asyncError is not (Nccl.Success or Nccl.InProgress))
                Fail($"NCCL {what} failed: {Nccl.ErrorString(asyncError)}");
            if (clock.Elapsed > _timeout)
                Fail($"NCCL {what} did not complete within {_timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s: a rank's GPU stalled or its process died");
            Thread.Yield();
        }
    }

    private void Fail(string message)
    {
        Nccl.ncclCommAbort(_comm);
        _comm = 0;
        throw new CollectiveException(message);
    }

    private static void Check(int result, string call)
    {
        if (result != Nccl.Success) throw new CollectiveException($"{call} failed: {Nccl.ErrorString(result)}");
    }

    public void Dispose()
    {
        if (_comm == 0) return;
        Nccl.ncclCommDestroy(_comm);
        _comm = 0;
    }
}
