using System.Globalization;
using System.Text.Json.Nodes;
using Engine.Data.Transforms;
using Engine.Inference;

namespace Host;

/// <summary>
/// Every setting of a training run after defaults are filled in. Stored in the run's checkpoint
/// record, so that `--resume`, `eval` and `predict` rebuild exactly the same net and data.
/// </summary>
public sealed record TrainSettings
{
    public required string Net { get; init; }
    /// <summary>CxHxW.</summary>
    public required string Input { get; init; }
    public required int Classes { get; init; }
    /// <summary>bn, gn, none, or null for the net's own.</summary>
    public string? Norm { get; init; }
    /// <summary>--loss as given (null: the net's own).</summary>
    public string? Loss { get; init; }
    public double Width { get; init; } = 1;
    public int IgnoreLabel { get; init; } = -1;
    /// <summary>Dataset folder, or null for the embedded synthetic set.</summary>
    public string? Data { get; init; }
    public string? ValidationData { get; init; }
    public double ValidationFraction { get; init; } = 0.1;
    public bool BoundaryAsClass { get; init; }
    /// <summary>VOC trees: auto, lists (ImageSets/Segmentation) or seed (the seed's split by file order).</summary>
    public string VocSplit { get; init; } = "auto";
    /// <summary>ADE20K trees: label 0 ("other") a class of its own (the seed's 151), else ignored.</summary>
    public bool AdeOtherAsClass { get; init; } = true;
    /// <summary>The share of the training set used (<see cref="Engine.Data.SubsetDataset.Fraction"/>); 1: all.</summary>
    public double TrainFraction { get; init; } = 1;
    /// <summary>VGG augmentation's training scale, "S" or "MIN:MAX"; null for the default in proportion to the input.</summary>
    public string? VggScale { get; init; }
    /// <summary>Random mirroring of training images (and masks); null for the augmentation's own (<see cref="Engine.Data.Transforms.ImageRecipe.ForName"/>).</summary>
    public bool? Flip { get; init; }
    public int SyntheticTrain { get; init; }
    public int SyntheticValidation { get; init; }
    public required string Optimizer { get; init; }
    public double LearningRate { get; init; }
    public double Momentum { get; init; }
    public double WeightDecay { get; init; }
    public required string Schedule { get; init; }
    public int Batch { get; init; }
    public int Epochs { get; init; }
    public ulong Seed { get; init; }
    public IReadOnlyList<string> ClassNames { get; init; } = [];
    /// <summary>VGG: torchvision's adaptive pooling to 7x7 before fc6.</summary>
    public bool AdaptivePool { get; init; }
    /// <summary>Input normalisation (<see cref="InputNormalization"/>'s text), or null for the recipe's own.</summary>
    public string? Normalize { get; init; }
    /// <summary>The run's arithmetic (<see cref="Engine.Graph.Precision"/>'s name) once its backend has resolved the default; runs from before it was stored were fp32.</summary>
    public string? Precision { get; init; }
    /// <summary>How the run stored activations (<see cref="Engine.Tensors.Layout"/>'s name, engine/Graph/LAYOUT.md); runs from before it was stored were nchw.</summary>
    public string? Layout { get; init; }
    /// <summary>--freeze backbone: the net's backbone held fixed for the whole run (a resume keeps it).</summary>
    public bool FreezeBackbone { get; init; }
    /// <summary>Trained on an ADE20K tree: masks take ADE20K's colours (<see cref="Engine.Data.Datasets.AdePalette"/>).</summary>
    public bool AdeData { get; init; }

    /// <summary>The colour of each class in a predicted mask: ADE20K's table for a run on an ADE20K tree, else VOC's palette.</summary>
    public Func<int, (byte R, byte G, byte B)> MaskColour() =>
        AdeData ? c => Engine.Data.Datasets.AdePalette.ClassColour(c, AdeOtherAsClass) : Engine.Training.Reports.SegmentationImages.Colour;

    public InputNormalization? Normalization() => Normalize is null ? null : InputNormalization.Parse(Normalize);

    /// <summary>The net and input preparation these settings describe, for the inference API.</summary>
    public ModelSpec ToModelSpec(bool denseEvaluation = false) => new()
    {
        Net = Net, Input = ModelSpec.ParseShape(Input), Classes = Classes, Norm = ModelSpec.ParseNorm(Norm), Width = Width, Loss = ModelSpec.ParseLoss(Loss),
        AdaptivePool = AdaptivePool, DenseEvaluation = denseEvaluation, IgnoreLabel = IgnoreLabel, ClassNames = ClassNames,
        Normalization = Normalization(), VggScale = VggScale,
    };

    public JsonObject ToJson() => new()
    {
        ["net"] = Net, ["input"] = Input, ["classes"] = Classes, ["norm"] = Norm, ["loss"] = Loss, ["width"] = Width, ["ignoreLabel"] = IgnoreLabel,
        ["data"] = Data, ["validationData"] = ValidationData, ["validationFraction"] = ValidationFraction, ["boundaryAsClass"] = BoundaryAsClass,
        ["vocSplit"] = VocSplit, ["adeOtherAsClass"] = AdeOtherAsClass, ["trainFraction"] = TrainFraction, ["vggScale"] = VggScale, ["flip"] = Flip,
        ["syntheticTrain"] = SyntheticTrain, ["syntheticValidation"] = SyntheticValidation,
        ["optimizer"] = Optimizer, ["lr"] = LearningRate, ["momentum"] = Momentum, ["weightDecay"] = WeightDecay,
        ["schedule"] = Schedule, ["batch"] = Batch, ["epochs"] = Epochs, ["seed"] = Seed.ToString(CultureInfo.InvariantCulture),
        ["classNames"] = new JsonArray(ClassNames.Select(n => (JsonNode?)n).ToArray()),
        ["adaptivePool"] = AdaptivePool, ["normalize"] = Normalize, ["precision"] = Precision, ["layout"] = Layout, ["freeze"] = FreezeName(FreezeBackbone), ["adeData"] = AdeData,
    };

    public static string FreezeName(bool freezeBackbone) => freezeBackbone ? "backbone" : "none";

    public static TrainSettings FromJson(JsonObject o, string source)
    {
        try
        {
            return new TrainSettings
            {
                Net = (string)o["net"]!, Input = (string)o["input"]!, Classes = (int)o["classes"]!, Norm = (string?)o["norm"], Loss = (string?)o["loss"],
                Width = (double)o["width"]!, IgnoreLabel = (int)o["ignoreLabel"]!, Data = (string?)o["data"],
                ValidationData = (string?)o["validationData"], ValidationFraction = (double)o["validationFraction"]!,
                BoundaryAsClass = (bool)o["boundaryAsClass"]!, VocSplit = (string?)o["vocSplit"] ?? "seed", AdeOtherAsClass = (bool?)o["adeOtherAsClass"] ?? true, TrainFraction = (double?)o["trainFraction"] ?? 1, VggScale = (string?)o["vggScale"], Flip = (bool?)o["flip"], SyntheticTrain = (int)o["syntheticTrain"]!,
                SyntheticValidation = (int)o["syntheticValidation"]!, Optimizer = (string)o["optimizer"]!, LearningRate = (double)o["lr"]!,
                Momentum = (double)o["momentum"]!, WeightDecay = (double)o["weightDecay"]!, Schedule = (string)o["schedule"]!,
                Batch = (int)o["batch"]!, Epochs = (int)o["epochs"]!, Seed = ulong.Parse((string)o["seed"]!, CultureInfo.InvariantCulture),
                ClassNames = o["classNames"]?.AsArray().Select(n => (string)n!).ToArray() ?? [],
                AdaptivePool = (bool?)o["adaptivePool"] ?? false, Normalize = (string?)o["normalize"], FreezeBackbone = (string?)o["freeze"] == "backbone",
                // Runs from before the field: an ADE20K tree still where it was tells.
                AdeData = (bool?)o["adeData"] ?? ((string?)o["data"] is { } d && Engine.Data.Datasets.AdeSegmentationDataset.IsTree(d)),
                Precision = (string?)o["precision"] ?? "fp32",
                Layout = (string?)o["layout"] ?? "nchw",
            };
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new UsageException($"{source}: the run's settings are incomplete or damaged ({e.Message})");
        }
    }
}
