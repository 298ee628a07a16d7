using Engine.Cuda;

namespace Engine.Ops;

/// <remarks>
/// The kernels skip indices outside the output plane where the CPU reference throws; indices
/// come from MaxPool, which only produces valid ones.
/// </remarks>
public sealed partial class MaxUnpool
{
    public override void ForwardCuda(CudaNode n)
    {
        var x = n.InShape(0);
        int planes = x[0] * x[1], inPlane = x[2] * x[3], outPlane = OutHeight * OutWidth;
        n.Stream.Fill32(n.Out(0), 0, n.OutShape(0).Numel);
        var a = new KernelArgs();
        a.Add(n.Out(0)); a.Add(n.In(0)); a.Add(n.In(1)); a.Add(planes); a.Add(inPlane); a.Add(outPlane);
        n.Launch("maxunpool_fwd_f32", n.ThreadGrid(x.Numel), CudaNode.BlockSize, ref a);
    }

    public override void BackwardCuda(CudaNode n)
    {
        if (!n.HasInGrad(0)) return;
        var x = n.InShape(0);
        var a = new KernelArgs();
        a.Add(n.InGrad(0)); a.Add(n.OutGrad(0)); a.Add(n.In(1)); a.Add(x[0] * x[1]); a.Add(x[2] * x[3]); a.Add(OutHeight * OutWidth);
        n.Launch("maxunpool_bwd_f32", n.ThreadGrid(x.Numel), CudaNode.BlockSize, ref a);
    }
}
