using Engine.Tensors;

namespace Engine.Nets;

/// <summary>Normalization after each convolution. <see cref="Default"/> takes the net's own choice.</summary>
public enum Norm { Default, None, Batch, Group, SyncBatch }

/// <summary>The segmentation nets' training loss. <see cref="Default"/> takes the net's own choice.</summary>
public enum SegmentationLoss
{
    Default,
    /// <summary>Per-pixel softmax cross-entropy (segnet, fcn).</summary>
    CrossEntropy,
    /// <summary>Softmax focal loss (gamma 2) + soft Dice loss, the seed's segmentation loss (vovnet57-seg).</summary>
    FocalDice,
}

/// <summary>
/// How to build a net from the registry. Every field left at its default takes the net's
/// own value (1000 classes at 3x224x224 for the ImageNet nets, 22 classes at 3x64x64 for the
/// segmentation nets).
/// </summary>
public sealed record NetOptions
{
    /// <summary>Number of classes (the width of "logits").</summary>
    public int? Classes { get; init; }

    /// <summary>One image, CxHxW. Any channel count is accepted.</summary>
    public Shape? Input { get; init; }

    public Norm Norm { get; init; } = Norm.Default;

    /// <summary>
    /// Multiplies every channel and hidden width of the net (rounded, at least 1): 0.0625 gives
    /// tiny test nets; 2 turns segnet/fcn (base width 32) into the full VGG16-width SegNet (64..512).
    /// </summary>
    public double Width { get; init; } = 1.0;

    /// <summary>Segmentation nets: a label value that is ignored by the loss (VOC's 255), or -1 for none.</summary>
    public int IgnoreLabel { get; init; } = -1;

    /// <summary>Segmentation nets: the training loss (the net's own by default).</summary>
    public SegmentationLoss Loss { get; init; } = SegmentationLoss.Default;

    /// <summary>VGG: build the dense-evaluation form (FC layers as convolutions, class scores averaged over space).</summary>
    public bool DenseEvaluation { get; init; }

    /// <summary>
    /// VGG: average-pool the final feature map to 7x7 before fc6 (torchvision's AdaptiveAvgPool2d),
    /// so fc6 has 512x7x7 inputs at any input size and torchvision's FC weights fit.
    /// </summary>
    public bool AdaptivePool { get; init; }

    /// <summary>
    /// VGG dense evaluation: kernel of the convolutional fc6, i.e. the side of the final feature
    /// map at the training resolution (7 for 224x224).
    /// </summary>
    public int DenseKernel { get; init; } = 7;

    /// <summary>Batch norm and the activation after it as one fused, recomputing node (same parameter names); false builds them apart.</summary>
    public bool FuseNormActivation { get; init; } = true;

    /// <summary><see cref="Norm.SyncBatch"/>: the data-parallel ranks whose batches the statistics span.</summary>
    public Distributed.ICollectives? NormGroup { get; init; }
}

/// <summary>An option value no net can take (non-positive classes or width, ...).</summary>
public sealed class NetOptionsException(string message) : ArgumentException(message);
