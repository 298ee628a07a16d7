using Engine.Graph;

namespace Engine.Ops;

/// <summary>
/// Softmax focal loss (Lin et al. 2017, without the class weight alpha), averaged into a scalar
/// loss [1]: with p the softmax probability of a position's label over the class dimension (dim 1),
/// loss = mean over the counted positions of -(1 - p)^gamma * ln p. Logits [N, K] with labels [N],
/// or [N, K, H, W] with labels [N, H, W]. Positions labelled <see cref="SoftmaxLoss.IgnoreLabel"/> are neither
/// summed nor counted (their gradient is 0); when every position is ignored the loss is 0.
/// gamma = 0 is softmax cross-entropy.
/// Backward, with q = 1 - p: dloss/dlogit_k = -w * (p_k - [k = label]) * dloss / count, where
/// w = gamma * q^(gamma-1) * p * ln p - q^gamma (w = -1 at gamma 0); the softmax is recomputed.
/// </summary>
public sealed partial class SoftmaxFocalLoss : SoftmaxLoss
{
    public SoftmaxFocalLoss(double gamma = 2, int ignoreLabel = -1) : base(ignoreLabel)
    {
        if (!(gamma >= 0) || double.IsInfinity(gamma))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "the focal loss's gamma must be a finite number >= 0");
        Gamma = gamma;
    }

    public double Gamma { get; }

    public override string Type => "softmax_focal";
    public override (string Filters, string Size) Describe() => ("", $"gamma {Gamma}");

    /// <summary>(1 - p)^gamma and the backward weight w of the summary, at probability p = e^logP.</summary>
    internal static (double Factor, double Weight) Terms(double logP, double gamma)
    {
        double p = Math.Exp(logP), q = 1 - p;
        if (gamma == 0) return (1, -1);
        double factor = Math.Pow(q, gamma);
        // q^(gamma-1) * p * ln p tends to 0 as q -> 0 (ln p ~ -q), also for gamma < 1.
        double slope = q > 0 ? gamma * Math.Pow(q, gamma - 1) * p * logP : 0;
        return (factor, slope - factor);
    }

    public override void Forward<T>(CpuNode<T> n) => ForwardMean(n, logP => -Terms(logP, Gamma).Factor * logP);

    public override void Backward<T>(CpuNode<T> n) => BackwardMean(n, logP => -Terms(logP, Gamma).Weight);
}

public static partial class Layers
{
    public static Value SoftmaxFocalLoss(this GraphBuilder b, Value logits, Value labels, double gamma = 2, int ignoreLabel = -1, string? name = null) =>
        b.Add1(new SoftmaxFocalLoss(gamma, ignoreLabel), name ?? b.Unique("focal_loss"), logits, labels);
}
