using Engine.Cuda;

namespace Engine.Ops;

public sealed partial class MaxPool
{
    /// <summary>The argmax indices: the second output when the op has one, else node scratch kept for backward.</summary>
    private DevicePtr Indices(CudaNode n) => WithIndices ? n.Out(1) : n.SavedScratch;

    public override void ForwardCuda(CudaNode n)
    {
        var (x, y) = (n.InShape(0), n.OutShape(0));
        long outputs = y.Numel;
        var a = new KernelArgs();
        a.Add(n.Out(0)); a.Add(Indices(n)); a.Add(n.In(0));
        a.Add(x[0] * x[1]); a.Add(x[2]); a.Add(x[3]); a.Add(y[2]); a.Add(y[3]);
        a.Add(Kernel); a.Add(Kernel); a.Add(Stride); a.Add(Stride); a.Add(Padding); a.Add(Padding);
        n.Launch("maxpool_fwd_f32", n.ThreadGrid(outputs), CudaNode.BlockSize, ref a);
    }

    public override void BackwardCuda(CudaNode n)
    {
        if (!n.HasInGrad(0)) return;
        var (x, y) = (n.InShape(0), n.OutShape(0));
        var a = new KernelArgs();
        a.Add(n.InGrad(0)); a.Add(n.OutGrad(0)); a.Add(Indices(n));
        a.Add(x[0] * x[1]); a.Add(x[2]); a.Add(x[3]); a.Add(y[2]); a.Add(y[3]);
        a.Add(Kernel); a.Add(Kernel); a.Add(Stride); a.Add(Stride); a.Add(Padding); a.Add(Padding);
        n.Launch("maxpool_bwd_f32", n.ThreadGrid(x.Numel), CudaNode.BlockSize, ref a);
    }
}
