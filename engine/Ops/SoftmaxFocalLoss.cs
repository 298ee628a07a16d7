using Engine.Graph;
using Engine.Ops.Cpu;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Softmax focal loss (Lin et al. 2017, without the class weight alpha), averaged into a scalar
/// loss [1]: with p the softmax probability of a position's label over the class dimension (dim 1),
/// loss = mean over the counted positions of -(1 - p)^gamma * ln p. Logits [N, K] with labels [N],
/// or [N, K, H, W] with labels [N, H, W]. Positions labelled <see cref="IgnoreLabel"/> are neither
/// summed nor counted (their gradient is 0); when every position is ignored the loss is 0.
/// gamma = 0 is softmax cross-entropy.
/// Backward, with q = 1 - p: dloss/dlogit_k = -w * (p_k - [k = label]) * dloss / count, where
/// w = gamma * q^(gamma-1) * p * ln p - q^gamma (w = -1 at gamma 0); the softmax is recomputed.
/// </summary>
public sealed partial class SoftmaxFocalLoss : Op
{
    public SoftmaxFocalLoss(double gamma = 2, int ignoreLabel = -1)
    {
        if (!(gamma >= 0) || double.IsInfinity(gamma))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "the focal loss's gamma must be a finite number >= 0");
        Gamma = gamma;
        IgnoreLabel = ignoreLabel;
    }

    public double Gamma { get; }
    public int IgnoreLabel { get; }

    public override string Type => "softmax_focal";
    public override bool BackwardReadsOutput(int output) => false;
    public override bool OverwritesInputGradient(int input) => input == 0;
    public override DataType InputType(int input) => input == 1 ? DataType.I32 : DataType.F32;
    public override (string Filters, string Size) Describe() => ("", $"gamma {Gamma}");

    public override Shape[] InferShapes(Shape[] inputs) => SoftmaxLabels.InferLossShape(inputs[0], inputs[1]);

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

    public override void Forward<T>(CpuNode<T> n)
    {
        var (batch, classes, plane) = ParallelWork.NchwLayout(n.InShape(0));
        int count = SoftmaxLabels.Count(n, classes, plane, IgnoreLabel);
        // Per-sample sums, added in a fixed order afterwards so the loss does not depend on threading.
        var sums = n.Scratch<double>(0, batch);
        ParallelWork.For(batch, (long)classes * plane, s =>
        {
            ReadOnlySpan<T> logits = n.In(0).Slice(s * classes * plane, classes * plane);
            var labels = n.InInt(1).Slice(s * plane, plane);
            double sum = 0;
            for (int p = 0; p < plane; p++)
            {
                int label = labels[p];
                if (label == IgnoreLabel) continue;
                var (max, logSumExp) = SoftmaxLabels.LogSumExp(logits, classes, plane, p);
                double logP = double.CreateTruncating(logits[label * plane + p]) - max - logSumExp;
                sum -= Terms(logP, Gamma).Factor * logP;
            }
            sums[s] = sum;
        });
        double total = 0;
        for (int s = 0; s < batch; s++) total += sums[s];
        n.Out(0)[0] = count == 0 ? T.Zero : T.CreateTruncating(total / count);
        n.Saved = count;
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (!n.HasInGrad(0)) return;
        int count = (int)n.Saved!;
        bool overwrite = n.OverwriteInGrad(0);
        if (count == 0)
        {
            if (overwrite) n.InGrad(0).Clear();
            return;
        }
        var (batch, classes, plane) = ParallelWork.NchwLayout(n.InShape(0));
        double scale = double.CreateTruncating(n.OutGrad(0)[0]) / count;
        ParallelWork.For(batch, (long)classes * plane, s =>
        {
            ReadOnlySpan<T> logits = n.In(0).Slice(s * classes * plane, classes * plane);
            var dx = n.InGrad(0).Slice(s * classes * plane, classes * plane);
            var labels = n.InInt(1).Slice(s * plane, plane);
            for (int p = 0; p < plane; p++)
            {
                int label = labels[p];
                if (label == IgnoreLabel)
                {
                    if (overwrite) for (int k = 0; k < classes; k++) dx[k * plane + p] = T.Zero;
                    continue;
                }
                var norm = SoftmaxLabels.LogSumExp(logits, classes, plane, p);
                double logP = double.CreateTruncating(logits[label * plane + p]) - norm.Max - norm.LogSumExp;
                double weight = -Terms(logP, Gamma).Weight * scale;
                for (int k = 0; k < classes; k++)
                {
                    int at = k * plane + p;
                    var g = T.CreateTruncating((SoftmaxLabels.Probability(logits, plane, p, k, norm) - (k == label ? 1 : 0)) * weight);
                    dx[at] = overwrite ? g : dx[at] + g;
                }
            }
        });
    }
}

public static partial class Layers
{
    public static Value SoftmaxFocalLoss(this GraphBuilder b, Value logits, Value labels, double gamma = 2, int ignoreLabel = -1, string? name = null) =>
        b.Add1(new SoftmaxFocalLoss(gamma, ignoreLabel), name ?? b.Unique("focal_loss"), logits, labels);
}
