using Engine.Cuda;

namespace Engine.Ops;

/// <summary>Launch pieces the softmax losses' GPU paths share (kernels/ABI.md, softmax_ce).</summary>
internal static class SoftmaxLossLaunch
{
    /// <summary>Logits as [N, K, S]: S = 1 per sample, H*W per pixel.</summary>
    public static (int N, int K, int S) Layout(CudaNode n)
    {
        var s = n.InShape(0);
        return (s[0], s[1], s.Rank == 4 ? s[2] * s[3] : 1);
    }

    /// <summary>
    /// softmax_ce_fwd_f32: each element's log-sum-exp into <paramref name="lse"/> and cross-entropy
    /// into <paramref name="loss"/>, a bad label into <paramref name="badLabel"/> (set here to the
    /// ignore label first). A warp per row for per-sample logits, a thread per pixel otherwise.
    /// </summary>
    public static void CrossEntropy(CudaNode n, DevicePtr loss, DevicePtr lse, DevicePtr badLabel, int ignoreLabel)
    {
        var (batch, classes, positions) = Layout(n);
        n.Stream.Fill32(badLabel, unchecked((uint)ignoreLabel), 1);
        var a = new KernelArgs();
        a.Add(loss); a.Add(lse); a.Add(n.In(0)); a.Add(n.In(1));
        a.Add(batch); a.Add(classes); a.Add(positions); a.Add(ignoreLabel); a.Add(badLabel);
        n.Launch("softmax_ce_fwd_f32", CrossEntropyGrid(n, batch, positions), CudaNode.BlockSize, ref a);
    }

    /// <summary>softmax_ce's launch: a warp per row for per-sample logits, a thread per pixel otherwise.</summary>
    public static Dim3 CrossEntropyGrid(CudaNode n, int batch, int positions) =>
        positions == 1 ? n.ThreadGrid(batch * 32L) : n.ThreadGrid((long)batch * positions);

    /// <summary>
    /// softmax_ce_mean_f32: result[0] = the mean of the counted elements' losses, result[1] = their
    /// count; result[0] is copied to the node's scalar output.
    /// </summary>
    public static void Mean(CudaNode n, DevicePtr result, DevicePtr loss, long elements, int classes, int ignoreLabel)
    {
        var m = new KernelArgs();
        m.Add(result); m.Add(loss); m.Add(n.In(1)); m.Add(elements); m.Add(classes); m.Add(ignoreLabel);
        n.Launch("softmax_ce_mean_f32", 1u, 1024u, ref m);
        n.Stream.CopyDeviceToDevice(n.Out(0), result, sizeof(float));
    }
}
