using Engine.Graph;

namespace Engine.Ops;

/// <summary>
/// Softmax cross-entropy over the class dimension (dim 1), averaged into a scalar loss [1]:
/// the mean over the counted positions of -log p, p the softmax probability of the label.
/// Logits [N, K] with integer labels [N] (one label per sample), or logits [N, K, H, W] with
/// labels [N, H, W] (one per pixel). Labels equal to <see cref="SoftmaxLoss.IgnoreLabel"/> contribute
/// nothing and are not counted; when every label is ignored the loss and gradients are 0.
/// Backward: dlogits = (softmax - onehot) * dloss / count, recomputing the softmax.
/// </summary>
public sealed partial class SoftmaxCrossEntropy(int ignoreLabel = -1) : SoftmaxLoss(ignoreLabel)
{
    public override string Type => "softmax_ce";

    public override void Forward<T>(CpuNode<T> n) => ForwardMean(n, logP => -logP);

    public override void Backward<T>(CpuNode<T> n) => BackwardMean(n, _ => 1);
}

public static partial class Layers
{
    public static Value SoftmaxCrossEntropy(this GraphBuilder b, Value logits, Value labels, int ignoreLabel = -1, string? name = null) =>
        b.Add1(new SoftmaxCrossEntropy(ignoreLabel), name ?? b.Unique("loss"), logits, labels);
}
