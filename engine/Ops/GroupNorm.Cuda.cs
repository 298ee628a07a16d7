using Engine.Cuda;

namespace Engine.Ops;

/// <summary>groupnorm kernels: statistics per (sample, group) saved by forward; backward in two launches.</summary>
public sealed partial class GroupNorm
{
    private static (int N, int C, int HW) Layout(CudaNode n)
    {
        var s = n.InShape(0);
        return (s[0], s[1], s.Rank == 4 ? s[2] * s[3] : 1);
    }

    public override void ForwardCuda(CudaNode n)
    {
        var (batch, channels, hw) = Layout(n);
        int groups = batch * Groups;
        var stats = n.Scratch(0, 2L * groups * sizeof(float)); // mean, then rstd
        var a = new KernelArgs();
        a.Add(n.Out(0)); a.Add(stats); a.Add(stats.Offset(groups * sizeof(float))); a.Add(n.In(0)); a.Add(n.Param(0)); a.Add(n.Param(1));
        a.Add(batch); a.Add(channels); a.Add(hw); a.Add(Groups); a.Add((float)Eps);
        n.Launch("groupnorm_fwd_f32", n.Clamp(groups), CudaNode.BlockSize, ref a);
    }

    public override void BackwardCuda(CudaNode n)
    {
        var (batch, channels, hw) = Layout(n);
        int groups = batch * Groups;
        var stats = n.Scratch(0, 2L * groups * sizeof(float));
        var rstd = stats.Offset(groups * sizeof(float));
        var sums = n.Scratch(1, 2L * batch * channels * sizeof(float));

        var a = new KernelArgs();
        a.Add(n.HasInGrad(0) ? n.InGrad(0) : DevicePtr.Null); a.Add(sums); a.Add(n.OutGrad(0)); a.Add(n.In(0));
        a.Add(stats); a.Add(rstd); a.Add(n.Param(0));
        a.Add(batch); a.Add(channels); a.Add(hw); a.Add(Groups);
        n.Launch("groupnorm_bwd_f32", n.Clamp(groups), CudaNode.BlockSize, ref a);

        var p = new KernelArgs();
        p.Add(n.ParamGrad(0)); p.Add(n.ParamGrad(1)); p.Add(sums); p.Add(rstd); p.Add(batch); p.Add(channels); p.Add(Groups);
        n.Launch("groupnorm_param_grad_f32", n.ThreadGrid(channels), CudaNode.BlockSize, ref p);
    }
}
