namespace Engine.Cuda;

/// <summary>Small building blocks many GPU paths share, over kernels of the elementwise module.</summary>
public static class CudaMath
{
    /// <summary>y += alpha * x over <paramref name="count"/> floats (axpy_f32).</summary>
    public static void Accumulate(CudaNode n, DevicePtr y, DevicePtr x, float alpha, long count)
    {
        var a = new KernelArgs();
        a.Add(y); a.Add(x); a.Add(alpha); a.Add(count);
        n.Launch("axpy_f32", n.ElementwiseGrid(count), CudaNode.BlockSize, ref a);
    }

    /// <summary>y[i] += bias[(i / inner) % channels] (bias_add_f32): NCHW with inner = H*W, [N, C] with inner = 1.</summary>
    public static void AddBias(CudaNode n, DevicePtr y, DevicePtr bias, int channels, long inner, long count)
    {
        var a = new KernelArgs();
        a.Add(y); a.Add(bias); a.Add(channels); a.Add(inner); a.Add(count);
        n.Launch("bias_add_f32", n.ElementwiseGrid(count), CudaNode.BlockSize, ref a);
    }

    /// <summary>dbias[c] += sum of dy over samples and the inner positions of channel c (bias_grad_f32, one block per channel).</summary>
    public static void AccumulateBiasGrad(CudaNode n, DevicePtr dbias, DevicePtr dy, int batch, int channels, long inner)
    {
        var a = new KernelArgs();
        a.Add(dbias); a.Add(dy); a.Add(batch); a.Add(channels); a.Add(inner);
        n.Launch("bias_grad_f32", n.Clamp(channels), CudaNode.BlockSize, ref a);
    }
}
