using Engine.Cuda;

namespace Engine.Ops;

/// <summary>Launch pieces the softmax losses' GPU paths share (kernels/ABI.md, softmax_ce).</summary>
public abstract partial class SoftmaxLoss
{
    /// <summary>Logits as [N, K, S]: S = 1 per sample, H*W per pixel.</summary>
    protected static (int N, int K, int S) Layout(CudaNode n)
    {
        var s = n.InShape(0);
        return (s[0], s[1], s.Rank == 4 ? s[2] * s[3] : 1);
    }

    /// <summary>
    /// softmax_ce_fwd_f32: each element's log-sum-exp into <paramref name="lse"/> and cross-entropy
    /// into <paramref name="loss"/>, a bad label into <paramref name="badLabel"/> (set here to the
    /// ignore label first). A warp per row for per-sample logits, a thread per pixel otherwise.
    /// </summary>
    protected static void CrossEntropy(CudaNode n, DevicePtr loss, DevicePtr lse, DevicePtr badLabel, int ignoreLabel)
    {
        var (batch, classes, positions) = Layout(n);
        n.Stream.Fill32(badLabel, unchecked((uint)ignoreLabel), 1);
        var a = new KernelArgs();
        a.Add(loss); a.Add(lse); a.Add(n.In(0)); a.Add(n.In(1));
        a.Add(batch); a.Add(classes); a.Add(positions); a.Add(ignoreLabel); a.Add(badLabel);
        n.Launch("softmax_ce_fwd_f32", CrossEntropyGrid(n, batch, positions), CudaNode.BlockSize, ref a);
    }

    /// <summary>softmax_ce's launch: a warp per row for per-sample logits, a thread per pixel otherwise.</summary>
    protected static Dim3 CrossEntropyGrid(CudaNode n, int batch, int positions) =>
        positions == 1 ? n.ThreadGrid(batch * 32L) : n.ThreadGrid((long)batch * positions);

    /// <summary>
    /// Launches a softmax loss backward kernel whose arguments are dlogits, logits, the saved
    /// log-sum-exp, labels, dloss, the forward's saved result, N, K, S, the ignore label, and
    /// <paramref name="parameter"/> last where given; one thread per element unless
    /// <paramref name="grid"/> says otherwise. Nothing when the logits need no gradient.
    /// </summary>
    protected void LaunchBackward(CudaNode n, string kernel, int lseSlot, DevicePtr saved, float? parameter = null, Dim3? grid = null)
    {
        if (!n.HasInGrad(0)) return;
        var (batch, classes, positions) = Layout(n);
        long elements = (long)batch * positions;
        var a = new KernelArgs();
        a.Add(n.InGrad(0)); a.Add(n.In(0)); a.Add(n.Scratch(lseSlot, elements * sizeof(float))); a.Add(n.In(1)); a.Add(n.OutGrad(0)); a.Add(saved);
        a.Add(batch); a.Add(classes); a.Add(positions); a.Add(IgnoreLabel);
        if (parameter is { } value) a.Add(value);
        n.Launch(kernel, grid ?? n.ThreadGrid(elements), CudaNode.BlockSize, ref a);
    }

    /// <summary>
    /// softmax_ce_mean_f32: result[0] = the mean of the counted elements' losses, result[1] = their
    /// count; result[0] is copied to the node's scalar output.
    /// </summary>
    protected static void Mean(CudaNode n, DevicePtr result, DevicePtr loss, long elements, int classes, int ignoreLabel)
    {
        var m = new KernelArgs();
        m.Add(result); m.Add(loss); m.Add(n.In(1)); m.Add(elements); m.Add(classes); m.Add(ignoreLabel);
        n.Launch("softmax_ce_mean_f32", 1u, 1024u, ref m);
        n.Stream.CopyDeviceToDevice(n.Out(0), result, sizeof(float));
    }
}
