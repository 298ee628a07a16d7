using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Nets;

/// <summary>One buildable net: its name, a one-line description and its defaults.</summary>
public sealed record NetInfo(string Name, string Description, int DefaultClasses, Shape DefaultInput, Norm DefaultNorm,
    Func<NetInfo, NetOptions, Graph.Graph> Builder)
{
    /// <summary>True for per-pixel nets (label HxW); false for per-image classification (label scalar).</summary>
    public bool Segmentation { get; init; }

    /// <summary>Segmentation nets: the loss when none is chosen.</summary>
    public SegmentationLoss DefaultLoss { get; init; } = SegmentationLoss.CrossEntropy;
}

/// <summary>
/// The nets by name. Every graph has the inputs "image" (float, CxHxW) and "label" (int: one
/// class per image, or HxW per pixel for segmentation), the output "logits", and a softmax
/// cross-entropy loss against "label".
/// </summary>
public static class NetRegistry
{
    private static readonly Shape ImageNet = new(3, 224, 224);
    private static readonly Shape Voc64 = new(3, 64, 64);

    public static IReadOnlyList<NetInfo> All { get; } =
    [
        new("vovnet57", "VoVNet-57 of seed 000: conv-BN-Mish, OSA concatenates its five 3x3 outputs once (31,430,184 parameters)",
            1000, ImageNet, Norm.Batch, (n, o) => VoVNet.Build(n.Name, o.Input!.Value, o.Classes!.Value, o.Norm, o.Width, inputInConcat: false, o.FuseNormActivation, o.NormGroup)),
        new("vovnet57-paper", "VoVNet-57 as in the VoVNet paper: the module input joins the OSA concatenation (36,640,296 parameters)",
            1000, ImageNet, Norm.Batch, (n, o) => VoVNet.Build(n.Name, o.Input!.Value, o.Classes!.Value, o.Norm, o.Width, inputInConcat: true, o.FuseNormActivation, o.NormGroup)),
        VggNet("vgg11", "A", "VGG configuration A: 8 convs + 3 FC (132,863,336 parameters)"),
        VggNet("vgg11-lrn", "A-LRN", "VGG configuration A-LRN: A with local response normalisation after the first conv (132,863,336 parameters)"),
        VggNet("vgg13", "B", "VGG configuration B: 10 convs + 3 FC (133,047,848 parameters)"),
        VggNet("vgg16-c", "C", "VGG configuration C: 13 convs, three of them 1x1, + 3 FC"),
        VggNet("vgg16", "D", "VGG configuration D: 13 convs + 3 FC (138,357,544 parameters)"),
        VggNet("vgg19", "E", "VGG configuration E: 16 convs + 3 FC (143,667,240 parameters)"),
        SegNetInfo("segnet", SegNetVariant.SegNet, "SegNet of seed 001: pooling indices + unpooling, dropout 0.5, decoder 128-64-32-32 (4,476,214 parameters)"),
        SegNetInfo("fcn", SegNetVariant.Fcn, "seed 001's comparison: plain max pools + 2x nearest upsampling, decoder 128-64-64-32 (4,531,702 parameters)"),
        new("vovnet57-seg", "seed 000 part 2: vovnet57 features at strides 4-32, JPU context, DeepLabv3+-like decoder; focal + Dice loss",
            151, new Shape(3, 320, 480), Norm.Batch, (n, o) => VoVNetSeg.Build(n.Name, o.Input!.Value, o.Classes!.Value, o.Norm, o.Width,
                o.IgnoreLabel, o.Loss, o.FuseNormActivation)) { Segmentation = true, DefaultLoss = SegmentationLoss.FocalDice },
        new("vovnet57-seg-fine", "vovnet57-seg plus a path that refines its stride-4 decoder to full resolution (stem and image skips at strides 2 and 1) beside the blind upsampling",
            151, new Shape(3, 320, 480), Norm.Batch, (n, o) => VoVNetSeg.Build(n.Name, o.Input!.Value, o.Classes!.Value, o.Norm, o.Width,
                o.IgnoreLabel, o.Loss, o.FuseNormActivation, fine: true)) { Segmentation = true, DefaultLoss = SegmentationLoss.FocalDice },
        SegNetInfo("fcn-clean", SegNetVariant.FcnClean, "clean ablation: segnet exactly, but upsampling instead of unpooling (indices the only difference)"),
    ];

    /// <summary>The known names, comma separated (for messages).</summary>
    public static string KnownNames => string.Join(", ", All.Select(n => n.Name));

    public static NetInfo Find(string name) =>
        All.FirstOrDefault(n => string.Equals(n.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new KeyNotFoundException($"unknown net '{name}'; known nets: {KnownNames}");

    /// <summary>Builds the net <paramref name="name"/>; options left unset take the net's defaults.</summary>
    /// <exception cref="KeyNotFoundException">Unknown name (the message lists the known ones).</exception>
    /// <exception cref="NetOptionsException">An option no net can take.</exception>
    /// <exception cref="ShapeException">The input does not fit the net; the message names the layer.</exception>
    public static Graph.Graph Build(string name, NetOptions? options = null)
    {
        var net = Find(name);
        return net.Builder(net, Resolve(net, options ?? new NetOptions()));
    }

    /// <summary>The options with every unset field replaced by the net's default, validated.</summary>
    public static NetOptions Resolve(NetInfo net, NetOptions o)
    {
        var input = o.Input ?? net.DefaultInput;
        if (input.Rank != 3) throw new ShapeException($"{net.Name}: input must be CxHxW (3 dimensions), got {input}");
        if (input.Numel == 0) throw new ShapeException($"{net.Name}: input {input} has an empty dimension");
        int classes = o.Classes ?? net.DefaultClasses;
        if (classes < 1) throw new NetOptionsException($"number of classes must be positive, got {classes}");
        if (!(o.Width > 0) || double.IsInfinity(o.Width)) throw new NetOptionsException($"width multiplier must be positive, got {o.Width}");
        if (o.DenseEvaluation && !net.Name.StartsWith("vgg", StringComparison.Ordinal))
            throw new NetOptionsException($"dense evaluation applies to the vgg nets only, not {net.Name}");
        if (o.AdaptivePool && !net.Name.StartsWith("vgg", StringComparison.Ordinal))
            throw new NetOptionsException($"adaptive pooling before fc6 applies to the vgg nets only, not {net.Name}");
        if (o.IgnoreLabel >= 0 && !net.Segmentation)
            throw new NetOptionsException($"an ignore label applies to the segmentation nets only, not {net.Name}");
        if (o.Loss != SegmentationLoss.Default && !net.Segmentation)
            throw new NetOptionsException($"a loss choice applies to the segmentation nets only, not {net.Name}");
        return o with
        {
            Input = input, Classes = classes, Norm = o.Norm == Norm.Default ? net.DefaultNorm : o.Norm,
            Loss = o.Loss == SegmentationLoss.Default ? net.DefaultLoss : o.Loss,
        };
    }

    private static NetInfo VggNet(string name, string config, string description) =>
        new(name, description, 1000, ImageNet, Norm.None, (n, o) => Vgg.Build(n.Name, config, o.Input!.Value,
            o.Classes!.Value, o.Norm, o.Width, o.DenseEvaluation, o.DenseKernel, o.FuseNormActivation, o.NormGroup, o.AdaptivePool));

    private static NetInfo SegNetInfo(string name, SegNetVariant variant, string description) =>
        new(name, description, 22, Voc64, Norm.Batch, (n, o) => SegNet.Build(n.Name, variant, o.Input!.Value,
            o.Classes!.Value, o.Norm, o.Width, o.IgnoreLabel, o.FuseNormActivation, o.NormGroup, o.Loss)) { Segmentation = true };
}
