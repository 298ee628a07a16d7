using Engine.Cuda;

namespace Engine.Ops;

/// <summary>The kernels recompute the CPU's hash mask: keep iff the 24-bit hash &gt;= ceil(p * 2^24).</summary>
public sealed partial class Dropout
{
    /// <summary>The integer form of HashUniform(...) &gt;= p (HashUniform is k / 2^24).</summary>
    public uint Threshold => (uint)Math.Ceiling(P * 16777216.0);

    public override void ForwardCuda(CudaNode n)
    {
        long count = n.InShape(0).Numel;
        if (!n.Training || P == 0)
        {
            n.Stream.CopyDeviceToDevice(n.Out(0), n.In(0), count * sizeof(float));
            return;
        }
        Launch(n, "dropout_fwd_f32", n.Out(0), n.In(0), count);
    }

    public override void BackwardCuda(CudaNode n)
    {
        if (!n.HasInGrad(0)) return;
        long count = n.InShape(0).Numel;
        if (!n.Training || P == 0) CudaMath.Accumulate(n, n.InGrad(0), n.OutGrad(0), 1f, count);
        else Launch(n, "dropout_bwd_f32", n.InGrad(0), n.OutGrad(0), count);
    }

    /// <summary>(dst, src, seed, node, step (device), indexBase, threshold, scale, n): the kernel forms <see cref="Stream"/> from the step in device memory.</summary>
    private void Launch(CudaNode n, string kernel, DevicePtr dst, DevicePtr src, long count)
    {
        var a = new KernelArgs();
        a.Add(dst); a.Add(src);
        a.Add(n.Seed); a.Add((ulong)n.Node.Index); a.Add(n.StepScalar); a.Add((ulong)(n.ExampleOffset * (count / n.InShape(0)[0])));
        a.Add(Threshold); a.Add((float)Scale); a.Add(count);
        n.Launch(kernel, n.ElementwiseGrid(count), CudaNode.BlockSize, ref a);
    }
}
