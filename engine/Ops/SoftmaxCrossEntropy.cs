using Engine.Ops.Cpu;
using System.Numerics;
using Engine.Graph;
using Engine.Tensors;

namespace Engine.Ops;

/// <summary>
/// Softmax cross-entropy over the class dimension (dim 1), averaged into a scalar loss [1].
/// Logits [N, K] with integer labels [N] (one label per sample), or logits [N, K, H, W] with
/// labels [N, H, W] (one per pixel). Labels equal to <see cref="IgnoreLabel"/> contribute
/// nothing and are not counted; when every label is ignored the loss and gradients are 0.
/// Backward: dlogits = (softmax - onehot) * dloss / count, recomputing the softmax.
/// </summary>
public sealed partial class SoftmaxCrossEntropy : Op
{
    public SoftmaxCrossEntropy(int ignoreLabel = -1) { IgnoreLabel = ignoreLabel; }

    public int IgnoreLabel { get; }

    public override string Type => "softmax_ce";
    public override bool BackwardReadsOutput(int output) => false;
    public override bool OverwritesInputGradient(int input) => input == 0;
    public override DataType InputType(int input) => input == 1 ? DataType.I32 : DataType.F32;

    public override Shape[] InferShapes(Shape[] inputs) => SoftmaxLabels.InferLossShape(inputs[0], inputs[1]);

    public override void Forward<T>(CpuNode<T> n)
    {
        var (batch, classes, plane) = ParallelWork.NchwLayout(n.InShape(0));
        int count = SoftmaxLabels.Count(n, classes, plane, IgnoreLabel);
        // Per-sample sums, added in a fixed order afterwards so the loss does not depend on threading.
        var sums = n.Scratch<double>(0, batch);
        ParallelWork.For(batch, (long)classes * plane, s =>
        {
            var logits = n.In(0).Slice(s * classes * plane, classes * plane);
            var labels = n.InInt(1).Slice(s * plane, plane);
            double sum = 0;
            for (int p = 0; p < plane; p++)
            {
                if (labels[p] == IgnoreLabel) continue;
                var (max, logSumExp) = SoftmaxLabels.LogSumExp<T>(logits, classes, plane, p);
                sum += logSumExp - (double.CreateTruncating(logits[labels[p] * plane + p]) - max);
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
            var logits = n.In(0).Slice(s * classes * plane, classes * plane);
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
                var (max, logSumExp) = SoftmaxLabels.LogSumExp<T>(logits, classes, plane, p);
                for (int k = 0; k < classes; k++)
                {
                    int at = k * plane + p;
                    double prob = Math.Exp(double.CreateTruncating(logits[at]) - max - logSumExp);
                    var g = T.CreateTruncating((prob - (k == label ? 1 : 0)) * scale);
                    dx[at] = overwrite ? g : dx[at] + g;
                }
            }
        });
    }
}

/// <summary>A class label outside [0, classes) that is not the ignore label; the message names it, its position and the class count.</summary>
public sealed class LabelOutOfRangeException(string message) : Exception(message);

public static partial class Layers
{
    public static Value SoftmaxCrossEntropy(this GraphBuilder b, Value logits, Value labels, int ignoreLabel = -1, string? name = null) =>
        b.Add1(new SoftmaxCrossEntropy(ignoreLabel), name ?? b.Unique("loss"), logits, labels);
}
