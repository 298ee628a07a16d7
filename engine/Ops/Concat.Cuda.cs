using Engine.Cuda;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>Any rank: viewed as [N, C, inner] with inner the product of the dimensions after the channels.</summary>
public sealed partial class Concat
{
    public override void ForwardCuda(CudaNode n)
    {
        var y = n.OutShape(0);
        int offset = 0;
        for (int i = 0; i < n.InputCount; i++)
        {
            var x = n.InShape(i);
            if (!n.InputIsViewOfOutput(i)) Launch(n, "concat_fwd_f32", n.Out(0), n.In(i), x, y[1], offset);
            offset += x[1];
        }
    }

    public override void BackwardCuda(CudaNode n)
    {
        var y = n.OutShape(0);
        int offset = 0;
        for (int i = 0; i < n.InputCount; i++)
        {
            var x = n.InShape(i);
            if (n.HasInGrad(i) && !n.InputIsViewOfOutput(i)) Launch(n, "concat_bwd_f32", n.InGrad(i), n.OutGrad(0), x, y[1], offset);
            offset += x[1];
        }
    }

    /// <summary>(dst, src, N, Cx, inner, Cy, cOffset): forward copies x into its channel slice of y, backward adds the slice of dy into dx.</summary>
    private static void Launch(CudaNode n, string kernel, DevicePtr dst, DevicePtr src, Shape x, int outChannels, int offset)
    {
        long inner = x.Numel / ((long)x[0] * x[1]);
        var a = new KernelArgs();
        a.Add(dst); a.Add(src); a.Add(x[0]); a.Add(x[1]); a.Add(inner); a.Add(outChannels); a.Add(offset);
        n.Launch(kernel, n.ElementwiseGrid(x.Numel), CudaNode.BlockSize, ref a);
    }
}
