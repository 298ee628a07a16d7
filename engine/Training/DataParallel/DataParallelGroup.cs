using System.Runtime.InteropServices;
using Engine.Distributed;
using Engine.Graph;
using Engine.Training.Metrics;

namespace Engine.Training.DataParallel;

/// <summary>
/// What a data-parallel rank does beyond a one-process run: start from rank 0's weights (checked
/// equal everywhere by a checksum), and after each backward turn its gradients into the global
/// batch's: each rank's gradient (the mean over its examples' counted labels) weighted by its share
/// of the counted labels, summed over ranks. On the CPU this is one all-reduce over the contiguous
/// parameter-gradient buffer after backward; overlapping it with backward (buckets on a stream) is
/// a GPU concern. The optimizer then runs identically on every rank. Device buffers go through
/// <paramref name="device"/> (NCCL) when given, else through host memory and <paramref name="group"/>.
/// </summary>
public sealed class DataParallelGroup(ICollectives group, IDeviceCollectives? device = null)
{
    public ICollectives Group { get; } = group;
    public int Rank => Group.Rank;
    public int Size => Group.Size;
    public bool IsWriter => Group.Rank == 0;

    /// <summary>Refuses to start unless every rank has the same value of each fact (net, data size, batch, ...); names the first rank and fact that differ.</summary>
    public void Agree(IReadOnlyList<(string Fact, string Value)> facts)
    {
        var all = Group.AllGather((long)Fingerprint.Of(string.Join('\n', facts.Select(f => $"{f.Fact}={f.Value}"))), "agreement on the run");
        if (all.All(h => h == all[0])) return;
        // Some rank differs: every rank sees that and looks fact by fact for the first that differs.
        foreach (var (fact, value) in facts)
        {
            var each = Group.AllGather((long)Fingerprint.Of(value), $"agreement on {fact}");
            for (int r = 1; r < each.Length; r++)
                if (each[r] != each[0])
                    throw new CollectiveException($"rank {r} disagrees with rank 0 on {fact} (this is rank {Rank}: {value}); every rank must run the same command on the same data");
        }
        throw new CollectiveException("the ranks' settings differ, but no single fact does (their order differs); every rank must run the same command");
    }

    /// <summary>Copies rank 0's weights and states to every rank and checks that all now hold the same bits.</summary>
    public void ShareWeights(ParameterBuffers parameters)
    {
        BroadcastBuffer(parameters, parameters.Values, parameters.Count, "initial weights");
        BroadcastBuffer(parameters, parameters.States, parameters.Graph.States.Count, "initial running statistics");
        CheckSameWeights(parameters, "after the broadcast of rank 0's weights");
    }

    /// <summary>All-gathers a checksum of the weights and states; a rank whose bits differ from rank 0's stops the run.</summary>
    public void CheckSameWeights(ParameterBuffers parameters, string when)
    {
        var sums = Group.AllGather((long)(Fingerprint.Of(parameters.GetValues()) ^ Fingerprint.Of(parameters.GetStates()) * 31), "weight checksum");
        for (int r = 1; r < sums.Length; r++)
            if (sums[r] != sums[0])
                throw new CollectiveException($"rank {r}'s weights differ from rank 0's {when} (checksums {sums[r]:x16} vs {sums[0]:x16})");
    }

    /// <summary>
    /// After backward: the global loss (mean over every rank's counted labels) and the gradients of
    /// the global batch on every rank; <paramref name="stop"/> becomes true on all ranks when any asked to stop.
    /// </summary>
    /// <param name="counted">The labels this rank's loss averaged over (the batch for classification, the non-ignored pixels for segmentation).</param>
    public double ReduceStep(ParameterBuffers parameters, double localLoss, long counted, ref bool stop)
    {
        Span<double> totals = [localLoss * counted, counted, stop ? 1 : 0];
        Group.AllReduceSum(totals, "step loss");
        stop = totals[2] > 0;
        double share = totals[1] > 0 ? counted / totals[1] : 0;
        ScaledSum(parameters.Backend, new BufferSlice(parameters.Grads, 0, parameters.TrainableCount), share, "gradients");
        return totals[1] > 0 ? totals[0] / totals[1] : 0;
    }

    /// <summary>Keeps plain batch norm's running statistics equal on every rank by rank 0's (as PyTorch's DDP broadcasts buffers).</summary>
    public void ShareStates(ParameterBuffers parameters) =>
        BroadcastBuffer(parameters, parameters.States, parameters.Graph.States.Count, "running statistics");

    /// <summary>The meter over every rank's examples.</summary>
    public Meter Global(Meter local)
    {
        var totals = local.Totals();
        Group.AllReduceSum(totals, "metrics");
        return local.WithTotals(totals);
    }

    private void ScaledSum(Backend backend, BufferSlice slice, double scale, string what)
    {
        if (slice.Count == 0) return;
        switch (backend)
        {
            case CpuBackend<double>:
            {
                var span = CpuBackend<double>.F(slice);
                for (int i = 0; i < span.Length; i++) span[i] *= scale;
                Group.AllReduceSum(span, what);
                break;
            }
            case CpuBackend<float>:
            {
                var span = CpuBackend<float>.F(slice);
                float s = (float)scale;
                for (int i = 0; i < span.Length; i++) span[i] *= s;
                Group.AllReduceSum(span, what);
                break;
            }
            default:
            {
                if (device is not null) { device.ScaledAllReduceSum(slice, scale, what); break; }
                // Device memory without a device collective: through the host.
                var host = new float[slice.Count];
                backend.Download(slice, host);
                float s = (float)scale;
                for (int i = 0; i < host.Length; i++) host[i] *= s;
                Group.AllReduceSum(host, what);
                backend.Upload(slice, host);
                break;
            }
        }
    }

    private void BroadcastBuffer(ParameterBuffers parameters, Graph.Buffer buffer, long count, string what)
    {
        if (count == 0) return;
        var slice = new BufferSlice(buffer, 0, count);
        switch (parameters.Backend)
        {
            case CpuBackend<double>: Group.Broadcast(CpuBackend<double>.F(slice), 0, what); break;
            case CpuBackend<float>: Group.Broadcast(CpuBackend<float>.F(slice), 0, what); break;
            default:
            {
                if (device is not null) { device.Broadcast(slice, 0, what); break; }
                var host = new float[count];
                parameters.Backend.Download(slice, host);
                Group.Broadcast(host, 0, what);
                parameters.Backend.Upload(slice, host);
                break;
            }
        }
    }
}
