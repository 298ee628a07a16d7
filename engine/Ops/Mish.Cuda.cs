using Engine.Cuda;

namespace Engine.Ops;

/// <summary>A strided output (a slice of a concatenation) goes through the kernels' 2-D forms, one row per sample.</summary>
public sealed partial class Mish
{
    public override void ForwardCuda(CudaNode n)
    {
        long count = n.InShape(0).Numel;
        var a = new KernelArgs();
        if (Strided(n, out long perSample, out long stride))
        {
            a.Add(n.Out(0)); a.Add(stride); a.Add(n.In(0)); a.Add(perSample); a.Add(n.Batch); a.Add(perSample);
            n.Launch("mish_fwd_2d_f32", n.ElementwiseGrid(count), CudaNode.BlockSize, ref a);
            return;
        }
        a.Add(n.Out(0)); a.Add(n.In(0)); a.Add(count);
        n.Launch("mish_fwd_f32", n.ElementwiseGrid(count), CudaNode.BlockSize, ref a);
    }

    public override void RecomputeCuda(CudaNode n) => ForwardCuda(n);

    public override void BackwardCuda(CudaNode n)
    {
        if (!n.HasInGrad(0)) return;
        long count = n.InShape(0).Numel;
        var a = new KernelArgs();
        if (Strided(n, out long perSample, out long stride))
        {
            a.Add(n.InGrad(0)); a.Add(perSample); a.Add(n.In(0)); a.Add(perSample); a.Add(n.OutGrad(0)); a.Add(stride);
            a.Add(n.Batch); a.Add(perSample);
            n.Launch("mish_bwd_2d_f32", n.ElementwiseGrid(count), CudaNode.BlockSize, ref a);
            return;
        }
        a.Add(n.InGrad(0)); a.Add(n.In(0)); a.Add(n.OutGrad(0)); a.Add(count);
        n.Launch("mish_bwd_f32", n.ElementwiseGrid(count), CudaNode.BlockSize, ref a);
    }

    private static bool Strided(CudaNode n, out long perSample, out long stride)
    {
        perSample = n.InShape(0).Numel / n.Batch;
        stride = n.OutSampleStride(0);
        return stride != perSample;
    }
}
