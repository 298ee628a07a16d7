using Engine.Cuda;

namespace Engine.Ops;

/// <summary>
/// softmax_ce kernels: per-element loss and log-sum-exp, a one-block mean (count and sum), and
/// a fused backward that reads dloss and the count on the device. A label outside [0, K) is
/// flagged by the kernel and reported at the backend's next synchronisation point.
/// </summary>
public sealed partial class SoftmaxCrossEntropy
{
    private const int LossSlot = 0, LseSlot = 1, ResultSlot = 2, BadLabelSlot = 3;

    private static (int N, int K, int S) Layout(CudaNode n)
    {
        var s = n.InShape(0);
        return (s[0], s[1], s.Rank == 4 ? s[2] * s[3] : 1);
    }

    /// <summary>Warp per row for per-sample logits, thread per pixel otherwise (kernels/ABI.md).</summary>
    private static Dim3 Grid(CudaNode n, int batch, int positions) =>
        positions == 1 ? n.ThreadGrid(batch * 32L) : n.ThreadGrid((long)batch * positions);

    public override void ForwardCuda(CudaNode n)
    {
        var (batch, classes, positions) = Layout(n);
        long elements = (long)batch * positions;
        var loss = n.Scratch(LossSlot, elements * sizeof(float));
        var lse = n.Scratch(LseSlot, elements * sizeof(float));
        var result = n.Scratch(ResultSlot, 2 * sizeof(float));
        var badLabel = n.Scratch(BadLabelSlot, sizeof(int));
        n.Stream.Fill32(badLabel, unchecked((uint)IgnoreLabel), 1);

        var a = new KernelArgs();
        a.Add(loss); a.Add(lse); a.Add(n.In(0)); a.Add(n.In(1));
        a.Add(batch); a.Add(classes); a.Add(positions); a.Add(IgnoreLabel); a.Add(badLabel);
        n.Launch("softmax_ce_fwd_f32", Grid(n, batch, positions), CudaNode.BlockSize, ref a);

        var m = new KernelArgs();
        m.Add(result); m.Add(loss); m.Add(n.In(1)); m.Add(elements); m.Add(classes); m.Add(IgnoreLabel);
        n.Launch("softmax_ce_mean_f32", 1u, 1024u, ref m);
        n.Stream.CopyDeviceToDevice(n.Out(0), result, sizeof(float));

        var check = n.Saved as DeferredLabelCheck ?? (DeferredLabelCheck)(n.Saved = new DeferredLabelCheck(n, classes, IgnoreLabel));
        check.Capture(badLabel);
    }

    public override void BackwardCuda(CudaNode n)
    {
        if (!n.HasInGrad(0)) return;
        var (batch, classes, positions) = Layout(n);
        long elements = (long)batch * positions;
        var a = new KernelArgs();
        a.Add(n.InGrad(0)); a.Add(n.In(0)); a.Add(n.Scratch(LseSlot, elements * sizeof(float))); a.Add(n.In(1));
        a.Add(n.OutGrad(0)); a.Add(n.Scratch(ResultSlot, 2 * sizeof(float)));
        a.Add(batch); a.Add(classes); a.Add(positions); a.Add(IgnoreLabel);
        n.Launch("softmax_ce_bwd_f32", Grid(n, batch, positions), CudaNode.BlockSize, ref a);
    }

    /// <summary>Reads the kernel's bad-label slot when the host next waits for the GPU.</summary>
    private sealed class DeferredLabelCheck
    {
        private readonly CudaNode _node;
        private readonly DeferredCheck _check;

        public DeferredLabelCheck(CudaNode node, int classes, int ignoreLabel)
        {
            _node = node;
            _check = node.Own(new DeferredCheck(label => label == ignoreLabel ? null
                : new LabelOutOfRangeException(
                    $"{node.Node.Name}: label {label} is outside [0, {classes}) for {classes} classes and is not the ignore label {ignoreLabel}")));
        }

        public void Capture(DevicePtr badLabel) => _node.Backend.DeferCheck(_check, badLabel);
    }
}
