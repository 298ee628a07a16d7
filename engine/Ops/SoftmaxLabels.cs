using System.Numerics;
using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// What the softmax losses share: the logits/labels shape rule (logits [N, K] with a label per
/// sample, or [N, K, H, W] with a label per pixel), the label range check, and a position's
/// log-sum-exp over the classes.
/// </summary>
internal static class SoftmaxLabels
{
    /// <summary>Checks that <paramref name="labels"/> fit <paramref name="logits"/>; the loss is a scalar [1].</summary>
    public static Shape[] InferLossShape(Shape logits, Shape labels)
    {
        if (logits.Rank != 2 && logits.Rank != 4)
            throw new ShapeException($"logits must be K (per sample) or KxHxW (per pixel), got {logits.DropFirst()}");
        var expected = logits.Rank == 2 ? new Shape(logits[0]) : new Shape(logits[0], logits[2], logits[3]);
        if (labels != expected)
            throw new ShapeException($"labels of logits {logits.DropFirst()} must be {(logits.Rank == 2 ? "one per sample" : $"{expected.DropFirst()} per sample")}, got {labels.DropFirst()}");
        return [new Shape(1)];
    }

    /// <summary>Counts the labels that are not <paramref name="ignoreLabel"/>; throws on one outside [0, classes).</summary>
    public static int Count<T>(CpuNode<T> n, int classes, int plane, int ignoreLabel) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var labels = n.InInt(1);
        int count = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            int label = labels[i];
            if (label == ignoreLabel) continue;
            if (label < 0 || label >= classes)
            {
                var shape = n.InShape(0);
                string where = shape.Rank == 2 ? $"sample {i}" : $"sample {i / plane}, pixel (y {i % plane / shape[3]}, x {i % shape[3]})";
                throw new LabelOutOfRangeException(
                    $"{n.Node.Name}: label {label} at {where} is outside [0, {classes}) for {classes} classes and is not the ignore label {ignoreLabel}");
            }
            count++;
        }
        return count;
    }

    /// <summary>The max and log(sum(exp(logit - max))) over the classes at position p of one sample.</summary>
    public static (double Max, double LogSumExp) LogSumExp<T>(ReadOnlySpan<T> logits, int classes, int plane, int p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double max = double.NegativeInfinity;
        for (int k = 0; k < classes; k++) max = Math.Max(max, double.CreateTruncating(logits[k * plane + p]));
        double sum = 0;
        for (int k = 0; k < classes; k++) sum += Math.Exp(double.CreateTruncating(logits[k * plane + p]) - max);
        return (max, Math.Log(sum));
    }

    /// <summary>Softmax probability of class k at position p, given the position's max and log-sum-exp.</summary>
    public static double Probability<T>(ReadOnlySpan<T> logits, int plane, int p, int k, (double Max, double LogSumExp) norm)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Math.Exp(double.CreateTruncating(logits[k * plane + p]) - norm.Max - norm.LogSumExp);
}
