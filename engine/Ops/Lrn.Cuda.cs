using Engine.Cuda;

namespace Engine.Ops;

public sealed partial class Lrn
{
    public override void ForwardCuda(CudaNode n)
    {
        var a = new KernelArgs();
        a.Add(n.Out(0)); a.Add(n.In(0));
        Launch(n, "lrn_fwd_f32", ref a);
    }

    public override void BackwardCuda(CudaNode n)
    {
        if (!n.HasInGrad(0)) return;
        var a = new KernelArgs();
        a.Add(n.InGrad(0)); a.Add(n.OutGrad(0)); a.Add(n.In(0));
        Launch(n, "lrn_bwd_f32", ref a);
    }

    /// <summary>Both kernels end with (N, C, HW, size, alpha, beta, k), one thread per element.</summary>
    private void Launch(CudaNode n, string kernel, ref KernelArgs a)
    {
        var x = n.InShape(0);
        int plane = x.Rank == 4 ? x[2] * x[3] : 1;
        a.Add(x[0]); a.Add(x[1]); a.Add(plane); a.Add(Size);
        a.Add((float)Alpha); a.Add((float)Beta); a.Add((float)K);
        n.Launch(kernel, n.ThreadGrid(x.Numel), CudaNode.BlockSize, ref a);
    }
}
