using Engine.Cuda;

namespace Engine.Ops;

public sealed partial class Relu
{
    public override void ForwardCuda(CudaNode n)
    {
        long count = n.InShape(0).Numel;
        var a = new KernelArgs();
        a.Add(n.Out(0)); a.Add(n.In(0)); a.Add(count);
        n.Launch("relu_fwd_f32", n.ElementwiseGrid(count), CudaNode.BlockSize, ref a);
    }

    public override void BackwardCuda(CudaNode n)
    {
        if (!n.HasInGrad(0)) return;
        long count = n.InShape(0).Numel;
        var a = new KernelArgs();
        a.Add(n.InGrad(0)); a.Add(n.Out(0)); a.Add(n.OutGrad(0)); a.Add(count);
        n.Launch("relu_bwd_f32", n.ElementwiseGrid(count), CudaNode.BlockSize, ref a);
    }
}
