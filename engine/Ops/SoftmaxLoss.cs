using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using Engine.Graph;
using Engine.Ops.Cpu;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// What the softmax losses share: inputs logits [N, K] with an integer label per sample, or
/// [N, K, H, W] with one per pixel; a scalar loss [1]; an ignore label; backward reads the logits
/// and labels (not the loss) and writes the whole logit gradient. For losses that are a mean over
/// the counted positions of a function of log p (p = the softmax probability of the label),
/// <see cref="ForwardMean{T}"/> and <see cref="BackwardMean{T}"/> are the CPU reference.
/// </summary>
public abstract partial class SoftmaxLoss(int ignoreLabel) : Op
{
    public int IgnoreLabel { get; } = ignoreLabel;

    public override bool BackwardReadsOutput(int output) => false;
    public override bool KeepsOutputInFp32(int output) => true;
    public override bool OverwritesInputGradient(int input) => input == 0;
    public override DataType InputType(int input) => input == 1 ? DataType.I32 : DataType.F32;

    public override Shape[] InferShapes(Shape[] inputs)
    {
        var (logits, labels) = (inputs[0], inputs[1]);
        if (logits.Rank != 2 && logits.Rank != 4)
            throw Bad($"logits must be K (per sample) or KxHxW (per pixel), got {logits.DropFirst()}");
        var expected = logits.Rank == 2 ? new Shape(logits[0]) : new Shape(logits[0], logits[2], logits[3]);
        if (labels != expected)
            throw Bad($"labels of logits {logits.DropFirst()} must be {(logits.Rank == 2 ? "one per sample" : $"{expected.DropFirst()} per sample")}, got {labels.DropFirst()}");
        return [new Shape(1)];
    }

    /// <summary>
    /// loss = mean over the counted positions of <paramref name="lossOfLogP"/>(log p); 0 when every
    /// label is ignored. The count is kept in <see cref="CpuNode{T}.Saved"/> for backward.
    /// </summary>
    protected void ForwardMean<T>(CpuNode<T> n, Func<double, double> lossOfLogP) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, classes, plane) = ParallelWork.NchwLayout(n.InShape(0));
        int count = CountLabels(n, classes, plane);
        // Per-sample sums, added in a fixed order afterwards so the loss does not depend on threading.
        var sums = n.Scratch<double>(0, batch);
        var (cs, ps) = LogitStrides(n, classes, plane);
        ParallelWork.For(batch, (long)classes * plane, s =>
        {
            ReadOnlySpan<T> logits = n.In(0).Slice(s * classes * plane, classes * plane);
            var labels = n.InInt(1).Slice(s * plane, plane);
            if (UsesFloatPlanes<T>(n, plane))
            {
                sums[s] = FloatPlanesLoss(MemoryMarshal.Cast<T, float>(logits), labels, classes, plane, lossOfLogP);
                return;
            }
            double sum = 0;
            for (int p = 0; p < plane; p++)
            {
                int label = labels[p];
                if (label == IgnoreLabel) continue;
                var (max, logSumExp) = LogSumExp(logits, classes, cs, p * ps);
                sum += lossOfLogP(double.CreateTruncating(logits[label * cs + p * ps]) - max - logSumExp);
            }
            sums[s] = sum;
        });
        double total = 0;
        for (int s = 0; s < batch; s++) total += sums[s];
        n.Out(0)[0] = count == 0 ? T.Zero : T.CreateTruncating(total / count);
        n.Saved = count;
    }

    /// <summary>
    /// The gradient of <see cref="ForwardMean{T}"/>'s loss: dlogit_k = (p_k - [k = label]) *
    /// <paramref name="weightOfLogP"/>(log p) * dloss / count, i.e. the weight is -d(loss)/d(log p);
    /// ignored positions get 0. The softmax is recomputed.
    /// </summary>
    protected void BackwardMean<T>(CpuNode<T> n, Func<double, double> weightOfLogP) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!n.HasInGrad(0)) return;
        int count = (int)n.Saved!;
        bool overwrite = n.OverwriteInGrad(0);
        if (count == 0)
        {
            if (overwrite) n.InGrad(0).Clear();
            return;
        }
        double scale = double.CreateTruncating(n.OutGrad(0)[0]) / count;
        var (batch, classes, plane) = ParallelWork.NchwLayout(n.InShape(0));
        if (UsesFloatPlanes<T>(n, plane))
        {
            ParallelWork.For(batch, (long)classes * plane, s => FloatPlanesGradient(
                MemoryMarshal.Cast<T, float>(n.In(0).Slice(s * classes * plane, classes * plane)), n.InInt(1).Slice(s * plane, plane),
                MemoryMarshal.Cast<T, float>(n.InGrad(0).Slice(s * classes * plane, classes * plane)), classes, plane, weightOfLogP, scale, overwrite));
            return;
        }
        ForEachCountedPosition(n, overwrite, (logits, dx, plane, p, label, norm) =>
        {
            double weight = weightOfLogP(double.CreateTruncating(logits[label * plane + p]) - norm.Max - norm.LogSumExp) * scale;
            for (int k = 0; k < classes; k++)
            {
                int at = k * plane + p;
                var g = T.CreateTruncating((Probability(logits, plane, p, k, norm) - (k == label ? 1 : 0)) * weight);
                dx[at] = overwrite ? g : dx[at] + g;
            }
        });
    }

    /// <summary>Float logits with a plane of pixels per class take <see cref="SoftmaxPlanes"/>, eight pixels at a time.</summary>
    private static bool UsesFloatPlanes<T>(CpuNode<T> n, int plane) where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) && plane >= 8 && !n.InNhwc(0);

    /// <summary>
    /// Where class k of pixel p lies within a sample's logits: k * ClassStride + p * PixelStride, i.e.
    /// (plane, 1) for NCHW and (1, classes) for NHWC [N, H, W, K]. The per-pixel helpers
    /// (<see cref="LogSumExp"/>, <see cref="Probability"/>, a <see cref="PositionGradient{T}"/>) take the
    /// class stride as their plane and p * PixelStride as their pixel, so one loop serves both layouts.
    /// </summary>
    protected static (int ClassStride, int PixelStride) LogitStrides<T>(CpuNode<T> n, int classes, int plane) where T : unmanaged, IFloatingPointIeee754<T> =>
        n.InNhwc(0) ? (1, classes) : (plane, 1);

    private double FloatPlanesLoss(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int classes, int plane, Func<double, double> lossOfLogP)
    {
        var lse = ArrayPool<float>.Shared.Rent(plane);
        try
        {
            SoftmaxPlanes.LogSumExp(logits, classes, plane, lse);
            double sum = 0;
            for (int p = 0; p < plane; p++)
                if (labels[p] != IgnoreLabel) sum += lossOfLogP((double)logits[labels[p] * plane + p] - lse[p]);
            return sum;
        }
        finally { ArrayPool<float>.Shared.Return(lse); }
    }

    private void FloatPlanesGradient(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> dx, int classes, int plane,
        Func<double, double> weightOfLogP, double scale, bool overwrite)
    {
        var lse = ArrayPool<float>.Shared.Rent(plane);
        var weight = ArrayPool<float>.Shared.Rent(plane);
        try
        {
            SoftmaxPlanes.LogSumExp(logits, classes, plane, lse);
            for (int p = 0; p < plane; p++)
                weight[p] = labels[p] == IgnoreLabel ? 0 : (float)(weightOfLogP((double)logits[labels[p] * plane + p] - lse[p]) * scale);
            SoftmaxPlanes.Gradient(logits, classes, plane, lse, labels, weight, dx, overwrite);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(lse);
            ArrayPool<float>.Shared.Return(weight);
        }
    }

    /// <summary>One sample's logits and logit gradient ([K, plane]), a position, its label and its softmax normaliser.</summary>
    protected delegate void PositionGradient<T>(ReadOnlySpan<T> logits, Span<T> dx, int plane, int p, int label, (double Max, double LogSumExp) norm);

    /// <summary>
    /// Backward's walk: <paramref name="body"/> for every counted position (samples in parallel);
    /// an ignored position's gradient is zeroed when <paramref name="overwrite"/>, else left alone.
    /// </summary>
    protected void ForEachCountedPosition<T>(CpuNode<T> n, bool overwrite, PositionGradient<T> body) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (batch, classes, plane) = ParallelWork.NchwLayout(n.InShape(0));
        var (cs, ps) = LogitStrides(n, classes, plane);
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
                    if (overwrite) for (int k = 0; k < classes; k++) dx[k * cs + p * ps] = T.Zero;
                    continue;
                }
                body(logits, dx, cs, p * ps, label, LogSumExp(logits, classes, cs, p * ps));
            }
        });
    }

    /// <summary>Counts the labels that are not ignored; throws on one outside [0, classes).</summary>
    protected int CountLabels<T>(CpuNode<T> n, int classes, int plane) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var labels = n.InInt(1);
        int count = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            int label = labels[i];
            if (label == IgnoreLabel) continue;
            if (label < 0 || label >= classes)
            {
                var shape = n.InShape(0);
                string where = shape.Rank == 2 ? $"sample {i}" : $"sample {i / plane}, pixel (y {i % plane / shape[3]}, x {i % shape[3]})";
                throw new LabelOutOfRangeException(
                    $"{n.Node.Name}: label {label} at {where} is outside [0, {classes}) for {classes} classes and is not the ignore label {IgnoreLabel}");
            }
            count++;
        }
        return count;
    }

    /// <summary>The max and log(sum(exp(logit - max))) over the classes at position p of one sample.</summary>
    protected static (double Max, double LogSumExp) LogSumExp<T>(ReadOnlySpan<T> logits, int classes, int plane, int p)
        where T : unmanaged, IFloatingPointIeee754<T>
        => SoftmaxPlanes.AtPixel(logits, classes, plane, p);

    /// <summary>Softmax probability of class k at position p, given the position's max and log-sum-exp.</summary>
    protected static double Probability<T>(ReadOnlySpan<T> logits, int plane, int p, int k, (double Max, double LogSumExp) norm)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Math.Exp(double.CreateTruncating(logits[k * plane + p]) - norm.Max - norm.LogSumExp);
}

/// <summary>A class label outside [0, classes) that is not the ignore label; the message names it, its position and the class count.</summary>
public sealed class LabelOutOfRangeException(string message) : Exception(message);
