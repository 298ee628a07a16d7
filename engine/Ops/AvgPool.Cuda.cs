using Engine.Cuda;

namespace Engine.Ops;

public sealed partial class AvgPool
{
    public override void ForwardCuda(CudaNode n) => Launch(n, "avgpool_fwd_f32", n.Out(0), n.In(0), n.OutShape(0).Numel);

    public override void BackwardCuda(CudaNode n)
    {
        if (n.HasInGrad(0)) Launch(n, "avgpool_bwd_f32", n.InGrad(0), n.OutGrad(0), n.InShape(0).Numel);
    }

    /// <summary>Both kernels take (dst, src, NC, H, W, OH, OW, kh, kw, sh, sw, ph, pw, countIncludePad), one thread per dst element.</summary>
    private void Launch(CudaNode n, string kernel, DevicePtr dst, DevicePtr src, long threads)
    {
        var (x, y) = (n.InShape(0), n.OutShape(0));
        var a = new KernelArgs();
        a.Add(dst); a.Add(src);
        a.Add(x[0] * x[1]); a.Add(x[2]); a.Add(x[3]); a.Add(y[2]); a.Add(y[3]);
        a.Add(Kernel); a.Add(Kernel); a.Add(Stride); a.Add(Stride); a.Add(Padding); a.Add(Padding);
        a.Add(CountIncludePad ? 1 : 0);
        n.Launch(kernel, n.ThreadGrid(threads), CudaNode.BlockSize, ref a);
    }
}
