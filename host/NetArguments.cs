using System.CommandLine;
using System.Globalization;
using Engine.Nets;
using Engine.Tensors;

namespace Host;

/// <summary>
/// The options that choose and shape a net (--net, --input, --classes, --norm, --width, --loss), shared by
/// the commands that build one. Values are taken as text and checked here, so that every bad value
/// becomes a <see cref="UsageException"/> naming the option and what was wrong.
/// </summary>
public sealed class NetArguments
{
    public Option<string?> Net { get; } = new("--net") { Description = $"Network: {NetRegistry.KnownNames}." };
    public Option<string?> Input { get; } = new("--input") { Description = "One image as CxHxW, e.g. 3x224x224 (default: the net's own)." };
    public Option<string?> Classes { get; } = new("--classes") { Description = "Number of classes (default: the net's own, 1000 or 22)." };
    public Option<string?> Norm { get; } = new("--norm") { Description = "Normalization after each conv: bn, syncbn (batch norm with statistics over every data-parallel rank's batch; bn on one process), gn (32 groups or fewer) or none (default: the net's own)." };
    public Option<string?> Width { get; } = new("--width") { Description = "Channel width multiplier (default 1; 2 makes segnet/fcn full VGG16 width)." };
    public Option<string?> Loss { get; } = new("--loss") { Description = "Segmentation nets' loss: ce (softmax cross-entropy) or focal-dice (softmax focal, gamma 2, + soft Dice) (default: the net's own, focal-dice for the vovnet57-seg nets, ce otherwise)." };
    public Option<bool> DenseEval { get; } = new("--dense-eval") { Description = "VGG: FC layers as convolutions, class scores averaged over space." };
    public Option<bool> AdaptivePool { get; } = new("--adaptive-pool") { Description = "VGG: average-pool the last feature map to 7x7 before fc6, as torchvision does, so FC weights fit any input size (on by itself for torchvision weights)." };

    public void AddTo(Command command)
    {
        command.Options.Add(Net);
        command.Options.Add(Input);
        command.Options.Add(Classes);
        command.Options.Add(Norm);
        command.Options.Add(Width);
        command.Options.Add(Loss);
        command.Options.Add(DenseEval);
        command.Options.Add(AdaptivePool);
    }

    /// <summary>The net's options from the command line (unset values stay at the net's defaults).</summary>
    public NetOptions Options(ParseResult r) => new()
    {
        Input = ParseInput(r.GetValue(Input)),
        Classes = ParseClasses(r.GetValue(Classes)),
        Norm = ParseNorm(r.GetValue(Norm)),
        Width = ParseWidth(r.GetValue(Width)),
        Loss = ParseLoss(r.GetValue(Loss)),
        DenseEvaluation = r.GetValue(DenseEval),
        AdaptivePool = r.GetValue(AdaptivePool),
    };

    public static Shape? ParseInput(string? text)
    {
        if (text is null) return null;
        var parts = text.Split(['x', 'X']);
        var dims = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]) || dims[i] < 1)
                throw new UsageException($"--input '{text}': '{parts[i]}' is not a positive integer (expected CxHxW, e.g. 3x224x224)");
        if (dims.Length != 3)
            throw new UsageException($"--input '{text}': expected CxHxW (channels x height x width, e.g. 3x224x224), got {dims.Length} dimension{(dims.Length == 1 ? "" : "s")}");
        return new Shape(dims);
    }

    public static int? ParseClasses(string? text)
    {
        if (text is null) return null;
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) || n < 1)
            throw new UsageException($"--classes '{text}': must be a positive integer");
        return n;
    }

    public static Norm ParseNorm(string? text) => text?.ToLowerInvariant() switch
    {
        null => Engine.Nets.Norm.Default,
        "bn" => Engine.Nets.Norm.Batch,
        "gn" => Engine.Nets.Norm.Group,
        "none" => Engine.Nets.Norm.None,
        "syncbn" => Engine.Nets.Norm.SyncBatch,
        _ => throw new UsageException($"--norm '{text}': expected bn, syncbn, gn or none"),
    };

    public static SegmentationLoss ParseLoss(string? text) => text?.ToLowerInvariant() switch
    {
        null => SegmentationLoss.Default,
        "ce" => SegmentationLoss.CrossEntropy,
        "focal-dice" => SegmentationLoss.FocalDice,
        _ => throw new UsageException($"--loss '{text}': expected ce or focal-dice"),
    };

    public static double ParseWidth(string? text)
    {
        if (text is null) return 1.0;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double w) || !(w > 0) || double.IsInfinity(w))
            throw new UsageException($"--width '{text}': must be a positive number");
        return w;
    }
}
