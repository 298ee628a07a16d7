using System.Globalization;
using System.Text.Json.Nodes;
using Engine.Data.Transforms;
using Engine.Nets;
using Engine.Tensors;
using Engine.Training.Checkpoints;

namespace Engine.Inference;

/// <summary>
/// What a net for inference is: the registry net and its options, the class names, and how an
/// image becomes its input. A run folder stores one (<see cref="FromRun"/>); for a weights file
/// outside a run the caller gives it (at least <see cref="Net"/>; unset fields take the net's
/// defaults, the class count the file's head).
/// </summary>
public sealed record ModelSpec
{
    public required string Net { get; init; }
    /// <summary>One image, CxHxW (default: the net's own).</summary>
    public Shape? Input { get; init; }
    /// <summary>Class count (default: the weights file's head, else the net's own).</summary>
    public int? Classes { get; init; }
    public Norm Norm { get; init; } = Norm.Default;
    public double Width { get; init; } = 1;
    /// <summary>Segmentation nets' loss (what `host eval` reports); the net's own by default.</summary>
    public SegmentationLoss Loss { get; init; } = SegmentationLoss.Default;
    /// <summary>VGG: torchvision's adaptive pooling to 7x7 before fc6 (on by itself for a file in torchvision's layout).</summary>
    public bool AdaptivePool { get; init; }
    /// <summary>VGG: FC layers as convolutions, class scores averaged over space.</summary>
    public bool DenseEvaluation { get; init; }
    public int IgnoreLabel { get; init; } = -1;
    public IReadOnlyList<string> ClassNames { get; init; } = [];
    /// <summary>Replaces the recipe's input normalisation (torchvision weights want <see cref="InputNormalization.ImageNet"/>).</summary>
    public InputNormalization? Normalization { get; init; }
    /// <summary>VGG: "Q" rescales the shorter side to Q before the centre crop; "MIN:MAX" (a training range) uses its middle.</summary>
    public string? VggScale { get; init; }

    /// <summary>The spec a run folder stored when it was trained.</summary>
    /// <exception cref="InvalidDataException">The folder holds no run, or its record lacks what is needed.</exception>
    public static ModelSpec FromRun(string runDir)
    {
        if (!Checkpoint.Exists(runDir)) throw new InvalidDataException($"{runDir}: not a run folder (no {Checkpoint.RecordName})");
        var o = Checkpoint.ReadState(runDir).Config;
        string source = Path.Combine(runDir, Checkpoint.RecordName);
        try
        {
            return new ModelSpec
            {
                Net = (string)o["net"]!,
                Input = ParseShape((string)o["input"]!),
                Classes = (int)o["classes"]!,
                Norm = ParseNorm((string?)o["norm"]),
                Width = (double?)o["width"] ?? 1,
                Loss = ParseLoss((string?)o["loss"]),
                AdaptivePool = (bool?)o["adaptivePool"] ?? false,
                IgnoreLabel = (int?)o["ignoreLabel"] ?? -1,
                ClassNames = o["classNames"]?.AsArray().Select(n => (string)n!).ToArray() ?? [],
                Normalization = (string?)o["normalize"] is { } n ? InputNormalization.Parse(n) : null,
                VggScale = (string?)o["vggScale"],
            };
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new InvalidDataException($"{source}: the run's settings are incomplete or damaged ({e.Message})");
        }
    }

    /// <summary>The net's build options; dense evaluation's fc6 kernel is the final map at the training size (7 at 224).</summary>
    public NetOptions NetOptions() => new()
    {
        Input = Input, Classes = Classes, Norm = Norm, Width = Width, AdaptivePool = AdaptivePool, Loss = Loss,
        IgnoreLabel = NetRegistry.Find(Net).Segmentation ? IgnoreLabel : -1,
        DenseEvaluation = DenseEvaluation, DenseKernel = Math.Max(1, (Input?[1] ?? 224) / 32),
    };

    /// <summary>
    /// How one image file becomes the net's input (the evaluation view of the net's recipe); a
    /// non-square input (<paramref name="width"/> other than <paramref name="size"/>, only segmentation
    /// trees train at one) is resized as those trees' validation images are.
    /// </summary>
    public ImageRecipe Recipe(int size, int? width = null)
    {
        if (width is int w && w != size) return new ResizeRecipe(size, w) { Normalization = Normalization };
        var name = ImageRecipe.NameFor(Net);
        (int, int)? scale = VggScale is null ? null : VggRecipe.ParseScale(VggScale, size);
        return ImageRecipe.ForName(name, size, scale, Normalization);
    }

    public string ClassName(int c) => c >= 0 && c < ClassNames.Count ? ClassNames[c] : $"class {c.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>CxHxW, e.g. 3x224x224.</summary>
    public static Shape ParseShape(string text)
    {
        var dims = text.Split('x', 'X').Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int d) && d > 0 ? d : -1).ToArray();
        return dims.Length == 3 && dims.All(d => d > 0) ? new Shape(dims) : throw new FormatException($"input '{text}' is not CxHxW, e.g. 3x224x224");
    }

    /// <summary>bn, gn, none, or null for the net's own.</summary>
    /// <summary>A run's "loss" setting: ce, focal-dice, or null for the net's own.</summary>
    public static SegmentationLoss ParseLoss(string? text) => text?.ToLowerInvariant() switch
    {
        "ce" => SegmentationLoss.CrossEntropy,
        "focal-dice" => SegmentationLoss.FocalDice,
        _ => SegmentationLoss.Default,
    };

    public static Norm ParseNorm(string? text) => text?.ToLowerInvariant() switch
    {
        null => Norm.Default,
        "bn" => Norm.Batch,
        "gn" => Norm.Group,
        "none" => Norm.None,
        "syncbn" => Norm.SyncBatch,
        _ => throw new FormatException($"normalization '{text}': expected bn, syncbn, gn or none"),
    };
}
