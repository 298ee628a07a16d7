using Engine.Cuda;

namespace Engine.Ops;

/// <summary>
/// softmax_focal kernels: per-element focal loss and log-sum-exp (fused with the softmax), the
/// mean of softmax_ce (count and sum in one block), and a fused backward that reads dloss and the
/// count on the device. A label outside [0, K) is reported at the backend's next synchronisation.
/// </summary>
public sealed partial class SoftmaxFocalLoss
{
    private const int LossSlot = 0, LseSlot = 1, ResultSlot = 2, BadLabelSlot = 3;

    public override void ForwardCuda(CudaNode n)
    {
        var (batch, classes, positions) = Layout(n);
        long elements = (long)batch * positions;
        var loss = n.Scratch(LossSlot, elements * sizeof(float));
        var result = n.Scratch(ResultSlot, 2 * sizeof(float));
        var badLabel = n.Scratch(BadLabelSlot, sizeof(int));
        n.Stream.Fill32(badLabel, unchecked((uint)IgnoreLabel), 1);

        var a = new KernelArgs();
        a.Add(loss); a.Add(n.Scratch(LseSlot, elements * sizeof(float))); a.Add(n.In(0)); a.Add(n.In(1));
        a.Add(batch); a.Add(classes); a.Add(positions); a.Add(IgnoreLabel); a.Add((float)Gamma); a.Add(badLabel);
        n.Launch("softmax_focal_fwd_f32", n.ThreadGrid(elements), CudaNode.BlockSize, ref a);
        Mean(n, result, loss, elements, classes, IgnoreLabel);
        DeferredLabelCheck.For(n, classes, IgnoreLabel).Capture(badLabel);
    }

    public override void BackwardCuda(CudaNode n) =>
        LaunchBackward(n, "softmax_focal_bwd_f32", LseSlot, n.Scratch(ResultSlot, 2 * sizeof(float)), (float)Gamma);
}
