using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Nets;

public enum Activation { Relu, Mish }

/// <summary>Building blocks the nets share: conv-norm-activation units, normalization choice, heads.</summary>
public static class Blocks
{
    /// <summary>
    /// GroupNorm's group count for <paramref name="channels"/>: 32 (the GN paper's default) when
    /// 32 divides the channel count, otherwise the largest divisor of the channel count below 32
    /// (e.g. 24 groups for 48 channels, 12 for 12), so narrow test nets still normalise.
    /// </summary>
    public static int GroupCount(int channels)
    {
        for (int g = Math.Min(32, channels); g > 1; g--)
            if (channels % g == 0) return g;
        return 1;
    }

    /// <summary>The normalization layer named <paramref name="name"/> (identity for <see cref="Norm.None"/>).</summary>
    public static Value Normalize(this GraphBuilder b, Value x, Norm norm, string name) => norm switch
    {
        Norm.Batch => b.BatchNorm(x, name: name),
        Norm.SyncBatch => b.SyncBatchNorm(x, b.NormGroup ?? Distributed.SingleProcess.Instance, name: name),
        Norm.Group => b.GroupNorm(x, GroupCount(x.Channels), name: name),
        Norm.None => x,
        _ => throw new ArgumentException($"normalization {norm} must be resolved before building"),
    };

    public static Value Activate(this GraphBuilder b, Value x, Activation act, string name) => act switch
    {
        Activation.Mish => b.Mish(x, name),
        _ => b.Relu(x, name),
    };

    /// <summary>
    /// conv -> norm -> activation. Nodes are "{name}", "{name}_norm", "{name}_{relu|mish}",
    /// so parameters read "stage4.osa2.conv3.weight", "stage4.osa2.conv3_norm.running_mean".
    /// Batch norm and the activation are one fused node "{name}_norm" (same parameter names)
    /// unless the builder's <see cref="GraphBuilder.FuseNormActivation"/> is off.
    /// </summary>
    public static Value ConvUnit(this GraphBuilder b, Value x, string name, int outChannels, int kernel, Norm norm,
        Activation act, bool bias, int stride = 1, int? padding = null, InitKind weightInit = InitKind.HeNormal)
    {
        var y = b.Conv2d(x, outChannels, kernel, stride, padding ?? kernel / 2, bias: bias, name: name, weightInit: weightInit);
        if (norm == Norm.Batch && b.FuseNormActivation)
            return b.BatchNormActivation(y, Kind(act), name: name + "_norm");
        y = b.Normalize(y, norm, name + "_norm");
        return b.Activate(y, act, name + (act == Activation.Mish ? "_mish" : "_relu"));
    }

    /// <summary>
    /// Depthwise-separable 3x3 unit: a depthwise 3x3 conv "{name}_dw" (one filter per channel,
    /// groups = channels, no bias, dilation and padding <paramref name="dilation"/>, so the size is
    /// kept), then a pointwise conv unit "{name}" (1x1 conv without bias -> norm -> activation).
    /// </summary>
    public static Value SeparableUnit(this GraphBuilder b, Value x, string name, int outChannels, Norm norm, Activation act, int dilation = 1)
    {
        var depthwise = b.Conv2d(x, x.Channels, 3, padding: dilation, dilation: dilation, groups: x.Channels, bias: false, name: name + "_dw");
        return b.ConvUnit(depthwise, name, outChannels, 1, norm, act, bias: false);
    }

    public static ActivationKind Kind(Activation act) => act == Activation.Mish ? ActivationKind.Mish : ActivationKind.Relu;

    /// <summary>A channel count scaled by the width multiplier, at least 1.</summary>
    public static int Scale(int channels, double width) => Math.Max(1, (int)Math.Round(channels * width, MidpointRounding.AwayFromZero));

    /// <summary>Declares "image" (float CxHxW) and "label" (int: a scalar per image, or HxW per pixel).</summary>
    public static (Value Image, Value Label) Inputs(GraphBuilder b, Shape image, Shape label) =>
        (b.Input("image", image), b.Input("label", label, isInt: true));

    /// <summary>
    /// Publishes "logits" and sets the loss "loss" against "label": softmax cross-entropy, or the
    /// sum of the softmax focal loss (gamma 2, node "focal_loss") and the soft Dice loss ("dice_loss").
    /// </summary>
    public static void Finish(GraphBuilder b, Value logits, Value label, int ignoreLabel = -1,
        SegmentationLoss loss = SegmentationLoss.CrossEntropy)
    {
        b.Output("logits", logits);
        b.SetLoss(loss switch
        {
            SegmentationLoss.CrossEntropy => b.SoftmaxCrossEntropy(logits, label, ignoreLabel, "loss"),
            SegmentationLoss.FocalDice => b.Add(b.SoftmaxFocalLoss(logits, label, FocalGamma, ignoreLabel, "focal_loss"),
                b.SoftmaxDiceLoss(logits, label, DiceSmooth, ignoreLabel, "dice_loss"), "loss"),
            _ => throw new ArgumentException($"loss {loss} must be resolved before building", nameof(loss)),
        });
    }

    /// <summary>The seed's focal loss gamma (SPEC §1, part 2).</summary>
    public const double FocalGamma = 2;

    /// <summary>The soft Dice loss's smoothing term (numerator and denominator).</summary>
    public const double DiceSmooth = 1;
}
