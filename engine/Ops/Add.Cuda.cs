using Engine.Cuda;

namespace Engine.Ops;

public sealed partial class Add
{
    public override void ForwardCuda(CudaNode n)
    {
        long count = n.OutShape(0).Numel;
        var a = new KernelArgs();
        a.Add(n.Out(0)); a.Add(n.In(0)); a.Add(n.In(1)); a.Add(count);
        n.Launch("add_f32", n.ElementwiseGrid(count), CudaNode.BlockSize, ref a);
    }

    public override void BackwardCuda(CudaNode n)
    {
        long count = n.OutShape(0).Numel;
        for (int k = 0; k < 2; k++)
            if (n.HasInGrad(k)) CudaMath.Accumulate(n, n.InGrad(k), n.OutGrad(0), 1f, count);
    }
}
