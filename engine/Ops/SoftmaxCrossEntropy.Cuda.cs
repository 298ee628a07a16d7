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

    public override void ForwardCuda(CudaNode n)
    {
        var (batch, classes, positions) = Layout(n);
        long elements = (long)batch * positions;
        var loss = n.Scratch(LossSlot, elements * sizeof(float));
        var lse = n.Scratch(LseSlot, elements * sizeof(float));
        var result = n.Scratch(ResultSlot, 2 * sizeof(float));
        var badLabel = n.Scratch(BadLabelSlot, sizeof(int));
        CrossEntropy(n, loss, lse, badLabel, IgnoreLabel);
        Mean(n, result, loss, elements, classes, IgnoreLabel);
        DeferredLabelCheck.For(n, classes, IgnoreLabel).Capture(badLabel);
    }

    public override void BackwardCuda(CudaNode n)
    {
        var (batch, _, positions) = Layout(n);
        LaunchBackward(n, "softmax_ce_bwd_f32", LseSlot, n.Scratch(ResultSlot, 2 * sizeof(float)), grid: CrossEntropyGrid(n, batch, positions));
    }
}
