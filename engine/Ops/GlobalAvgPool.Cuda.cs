using Engine.Cuda;

namespace Engine.Ops;

public sealed partial class GlobalAvgPool
{
    public override void ForwardCuda(CudaNode n)
    {
        var x = n.InShape(0);
        int planes = x[0] * x[1];
        var a = new KernelArgs();
        a.Add(n.Out(0)); a.Add(n.In(0)); a.Add(planes); a.Add(x[2] * x[3]);
        // One warp per plane, 8 planes per 256-thread block.
        n.Launch("global_avgpool_fwd_f32", n.Clamp((planes + 7) / 8), CudaNode.BlockSize, ref a);
    }

    public override void BackwardCuda(CudaNode n)
    {
        if (!n.HasInGrad(0)) return;
        var x = n.InShape(0);
        var a = new KernelArgs();
        a.Add(n.InGrad(0)); a.Add(n.OutGrad(0)); a.Add(x[0] * x[1]); a.Add(x[2] * x[3]);
        n.Launch("global_avgpool_bwd_f32", n.ThreadGrid(x.Numel), CudaNode.BlockSize, ref a);
    }
}
