using Engine.Cuda;

namespace Engine.Ops;

/// <summary>
/// bnact kernels: statistics (or the running ones) into scratch as [mean | invstd], apply +
/// activation into the (possibly strided) output; backward recomputes z from x in two launches,
/// the per-channel sums (which also accumulate the parameter gradients), then dx.
/// </summary>
public sealed partial class BatchNormActivation
{
    private static (int N, int C, int HW) Layout(CudaNode n)
    {
        var s = n.InShape(0);
        return (s[0], s[1], s.Rank == 4 ? s[2] * s[3] : 1);
    }

    private int ActCode => Activation == ActivationKind.Mish ? 1 : 0;

    public override void ForwardCuda(CudaNode n)
    {
        var (batch, channels, hw) = Layout(n);
        var stats = n.Scratch(0, 2L * channels * sizeof(float));
        var invStd = stats.Offset(channels * sizeof(float));
        var s = new KernelArgs();
        s.Add(stats); s.Add(invStd);
        if (n.Training)
        {
            if ((long)batch * hw < 2)
                throw Bad($"{n.Node.Name}: training needs more than one value per channel, got input {n.InShape(0)}");
            s.Add(n.State(0)); s.Add(n.State(1)); s.Add(n.In(0));
            s.Add(batch); s.Add(channels); s.Add(hw); s.Add((float)Eps); s.Add((float)Momentum);
            n.Launch("bnact_stats_f32", n.Clamp(channels), CudaNode.BlockSize, ref s);
        }
        else
        {
            s.Add(n.State(0)); s.Add(n.State(1)); s.Add(channels); s.Add((float)Eps);
            n.Launch("bnact_running_stats_f32", n.ThreadGrid(channels), CudaNode.BlockSize, ref s);
        }

        Apply(n);
    }

    /// <summary>Forward's second launch alone, with the statistics forward left in scratch.</summary>
    public override void RecomputeCuda(CudaNode n) => Apply(n);

    private void Apply(CudaNode n)
    {
        var (batch, channels, hw) = Layout(n);
        var stats = n.Scratch(0, 2L * channels * sizeof(float));
        var a = new KernelArgs();
        a.Add(n.Out(0)); a.Add(n.OutSampleStride(0)); a.Add(n.In(0)); a.Add(stats); a.Add(stats.Offset(channels * sizeof(float))); a.Add(n.Param(0)); a.Add(n.Param(1));
        a.Add(batch); a.Add(channels); a.Add(hw); a.Add(ActCode);
        n.Launch("bnact_fwd_f32", n.ElementwiseGrid(n.InShape(0).Numel), CudaNode.BlockSize, ref a);
    }

    public override bool CudaOverwritesInputGradient(int input) => true;

    public override void BackwardCuda(CudaNode n)
    {
        var (batch, channels, hw) = Layout(n);
        var stats = n.Scratch(0, 2L * channels * sizeof(float));
        var invStd = stats.Offset(channels * sizeof(float));
        var sums = n.Scratch(1, 2L * channels * sizeof(float));
        long stride = n.OutSampleStride(0);

        var r = new KernelArgs();
        r.Add(sums); r.Add(n.ParamGrad(0)); r.Add(n.ParamGrad(1)); r.Add(n.In(0)); r.Add(n.OutGrad(0)); r.Add(stride);
        r.Add(stats); r.Add(invStd); r.Add(n.Param(0)); r.Add(n.Param(1));
        r.Add(batch); r.Add(channels); r.Add(hw); r.Add(ActCode);
        n.Launch("bnact_bwd_reduce_f32", n.Clamp(channels), CudaNode.BlockSize, ref r);
        if (!n.HasInGrad(0)) return;

        var d = new KernelArgs();
        d.Add(n.InGrad(0)); d.Add(n.In(0)); d.Add(n.OutGrad(0)); d.Add(stride); d.Add(stats); d.Add(invStd); d.Add(n.Param(0)); d.Add(n.Param(1));
        d.Add(n.Training ? sums : DevicePtr.Null);
        d.Add(batch); d.Add(channels); d.Add(hw); d.Add(ActCode); d.Add(n.OverwriteInGrad(0) ? 0 : 1);
        n.Launch("bnact_bwd_dx_f32", n.ElementwiseGrid(n.InShape(0).Numel), CudaNode.BlockSize, ref d);
    }
}
