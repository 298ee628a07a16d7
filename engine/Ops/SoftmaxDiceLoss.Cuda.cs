using Engine.Cuda;

namespace Engine.Ops;

/// <summary>
/// softmax_dice kernels: softmax_ce's forward for each element's log-sum-exp (and the bad-label
/// report), per-class sums in one block per class, the loss and backward coefficients in one
/// block, and a backward that recomputes the softmax per element and reads dloss on the device.
/// </summary>
public sealed partial class SoftmaxDiceLoss
{
    private const int CrossEntropySlot = 0, LseSlot = 1, SumsSlot = 2, CoeffSlot = 3, BadLabelSlot = 4;
    private const int ReduceBlock = 256;

    public override void ForwardCuda(CudaNode n)
    {
        var (batch, classes, positions) = Layout(n);
        long elements = (long)batch * positions;
        var lse = n.Scratch(LseSlot, elements * sizeof(float));
        var badLabel = n.Scratch(BadLabelSlot, sizeof(int));
        CrossEntropy(n, n.Scratch(CrossEntropySlot, elements * sizeof(float)), lse, badLabel, IgnoreLabel);

        var sums = n.Scratch(SumsSlot, 3L * classes * sizeof(float));
        var a = new KernelArgs();
        a.Add(sums); a.Add(n.In(0)); a.Add(lse); a.Add(n.In(1));
        a.Add(batch); a.Add(classes); a.Add(positions); a.Add(IgnoreLabel);
        n.Launch("softmax_dice_sums_f32", n.Clamp(classes), (uint)ReduceBlock, ref a);

        var l = new KernelArgs();
        l.Add(n.Out(0)); l.Add(n.Scratch(CoeffSlot, 2L * classes * sizeof(float))); l.Add(sums); l.Add(classes); l.Add((float)Smooth);
        n.Launch("softmax_dice_loss_f32", 1u, (uint)ReduceBlock, ref l);
        DeferredLabelCheck.For(n, classes, IgnoreLabel).Capture(badLabel);
    }

    public override void BackwardCuda(CudaNode n) =>
        LaunchBackward(n, "softmax_dice_bwd_f32", LseSlot, n.Scratch(CoeffSlot, 2L * Layout(n).K * sizeof(float)));
}
