using Engine.Graph;
using Engine.Ops.Cpu;

namespace Engine.Ops;

/// <summary>
/// Multi-class soft Dice loss on the softmax over the class dimension (dim 1), a scalar [1].
/// With p_ik the softmax probability of class k at position i, t_ik = [label_i = k] and m_i = 0
/// where label_i is <see cref="SoftmaxLoss.IgnoreLabel"/> (else 1), summed over every position of the whole
/// batch (N x H x W, or N for logits [N, K]):
/// I_k = sum m_i p_ik t_ik, P_k = sum m_i p_ik, T_k = sum m_i t_ik,
/// D_k = (2 I_k + s) / (P_k + T_k + s), loss = 1 - mean over all K classes of D_k,
/// with the smoothing term s = <see cref="Smooth"/> (default 1). A class absent from the labels
/// still counts: its D_k = s / (P_k + s) is 1 only when the net predicts none of it. Ignored
/// positions take no part (their gradient is 0); when every position is ignored the loss is 0.
/// Backward: dloss/dp_ik = -m_i (2 t_ik - D_k) / (K (P_k + T_k + s)) =: a_ik, through the softmax
/// dlogit_ij = p_ij (a_ij - sum_k p_ik a_ik), times dloss; the class sums are kept from forward.
/// </summary>
public sealed partial class SoftmaxDiceLoss : SoftmaxLoss
{
    public SoftmaxDiceLoss(double smooth = 1, int ignoreLabel = -1) : base(ignoreLabel)
    {
        if (!(smooth > 0) || double.IsInfinity(smooth))
            throw new ArgumentOutOfRangeException(nameof(smooth), smooth, "the Dice loss's smoothing term must be a finite number > 0");
        Smooth = smooth;
    }

    public double Smooth { get; }

    public override string Type => "softmax_dice";
    public override (string Filters, string Size) Describe() => ("", $"smooth {Smooth}");

    /// <summary>The class sums I_k, P_k, T_k of the summary, as [I_0..I_K-1, P_0.., T_0..].</summary>
    private sealed record ClassSums(double[] Sums, int Classes)
    {
        public double Intersection(int k) => Sums[k];
        public double Union(int k) => Sums[Classes + k] + Sums[2 * Classes + k];
    }

    internal double Dice(double intersection, double union) => (2 * intersection + Smooth) / (union + Smooth);

    public override void Forward<T>(CpuNode<T> n)
    {
        var (batch, classes, plane) = ParallelWork.NchwLayout(n.InShape(0));
        CountLabels(n, classes, plane);
        // Per-sample sums, added in a fixed order afterwards so the loss does not depend on threading.
        var perSample = n.Scratch<double>(0, (long)batch * 3 * classes);
        var (cs, ps) = LogitStrides(n, classes, plane);
        ParallelWork.For(batch, (long)classes * plane, s =>
        {
            ReadOnlySpan<T> logits = n.In(0).Slice(s * classes * plane, classes * plane);
            var labels = n.InInt(1).Slice(s * plane, plane);
            var sums = perSample.AsSpan(s * 3 * classes, 3 * classes);
            sums.Clear();
            for (int p = 0; p < plane; p++)
            {
                int label = labels[p];
                if (label == IgnoreLabel) continue;
                var norm = LogSumExp(logits, classes, cs, p * ps);
                for (int k = 0; k < classes; k++) sums[classes + k] += Probability(logits, cs, p * ps, k, norm);
                sums[label] += Probability(logits, cs, p * ps, label, norm);
                sums[2 * classes + label] += 1;
            }
        });
        var total = new double[3 * classes];
        for (int s = 0; s < batch; s++)
            for (int j = 0; j < total.Length; j++) total[j] += perSample[s * 3 * classes + j];
        var kept = new ClassSums(total, classes);
        double dice = 0;
        for (int k = 0; k < classes; k++) dice += Dice(kept.Intersection(k), kept.Union(k));
        n.Out(0)[0] = T.CreateTruncating(1 - dice / classes);
        n.Saved = kept;
    }

    public override void Backward<T>(CpuNode<T> n)
    {
        if (!n.HasInGrad(0)) return;
        var kept = (ClassSums)n.Saved!;
        bool overwrite = n.OverwriteInGrad(0);
        int classes = n.InShape(0)[1];
        double scale = double.CreateTruncating(n.OutGrad(0)[0]) / classes;
        // a_ik = (D_k - 2 t_ik) * scale / (U_k + s): the part without t is shared by every position.
        var shared = new double[classes];
        var perLabel = new double[classes];
        for (int k = 0; k < classes; k++)
        {
            double denominator = kept.Union(k) + Smooth;
            shared[k] = Dice(kept.Intersection(k), kept.Union(k)) * scale / denominator;
            perLabel[k] = -2 * scale / denominator;
        }
        ForEachCountedPosition(n, overwrite, (logits, dx, plane, p, label, norm) =>
        {
            Span<double> probs = classes <= 256 ? stackalloc double[classes] : new double[classes];
            double expected = 0;
            for (int k = 0; k < classes; k++)
            {
                probs[k] = Probability(logits, plane, p, k, norm);
                expected += probs[k] * shared[k];
            }
            expected += probs[label] * perLabel[label];
            for (int k = 0; k < classes; k++)
            {
                double a = shared[k] + (k == label ? perLabel[k] : 0);
                int at = k * plane + p;
                var g = T.CreateTruncating(probs[k] * (a - expected));
                dx[at] = overwrite ? g : dx[at] + g;
            }
        });
    }
}

public static partial class Layers
{
    public static Value SoftmaxDiceLoss(this GraphBuilder b, Value logits, Value labels, double smooth = 1, int ignoreLabel = -1, string? name = null) =>
        b.Add1(new SoftmaxDiceLoss(smooth, ignoreLabel), name ?? b.Unique("dice_loss"), logits, labels);
}
