using System.Globalization;
using System.Text.Json.Nodes;

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
    /// <summary>VGG augmentation's training scale, "S" or "MIN:MAX"; null for the default in proportion to the input.</summary>
    public string? VggScale { get; init; }
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

    public JsonObject ToJson() => new()
    {
        ["net"] = Net, ["input"] = Input, ["classes"] = Classes, ["norm"] = Norm, ["loss"] = Loss, ["width"] = Width, ["ignoreLabel"] = IgnoreLabel,
        ["data"] = Data, ["validationData"] = ValidationData, ["validationFraction"] = ValidationFraction, ["boundaryAsClass"] = BoundaryAsClass,
        ["vggScale"] = VggScale,
        ["syntheticTrain"] = SyntheticTrain, ["syntheticValidation"] = SyntheticValidation,
        ["optimizer"] = Optimizer, ["lr"] = LearningRate, ["momentum"] = Momentum, ["weightDecay"] = WeightDecay,
        ["schedule"] = Schedule, ["batch"] = Batch, ["epochs"] = Epochs, ["seed"] = Seed.ToString(CultureInfo.InvariantCulture),
        ["classNames"] = new JsonArray(ClassNames.Select(n => (JsonNode?)n).ToArray()),
    };

    public static TrainSettings FromJson(JsonObject o, string source)
    {
        try
        {
            return new TrainSettings
            {
                Net = (string)o["net"]!, Input = (string)o["input"]!, Classes = (int)o["classes"]!, Norm = (string?)o["norm"], Loss = (string?)o["loss"],
                Width = (double)o["width"]!, IgnoreLabel = (int)o["ignoreLabel"]!, Data = (string?)o["data"],
                ValidationData = (string?)o["validationData"], ValidationFraction = (double)o["validationFraction"]!,
                BoundaryAsClass = (bool)o["boundaryAsClass"]!, VggScale = (string?)o["vggScale"], SyntheticTrain = (int)o["syntheticTrain"]!,
                SyntheticValidation = (int)o["syntheticValidation"]!, Optimizer = (string)o["optimizer"]!, LearningRate = (double)o["lr"]!,
                Momentum = (double)o["momentum"]!, WeightDecay = (double)o["weightDecay"]!, Schedule = (string)o["schedule"]!,
                Batch = (int)o["batch"]!, Epochs = (int)o["epochs"]!, Seed = ulong.Parse((string)o["seed"]!, CultureInfo.InvariantCulture),
                ClassNames = o["classNames"]?.AsArray().Select(n => (string)n!).ToArray() ?? [],
            };
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new UsageException($"{source}: the run's settings are incomplete or damaged ({e.Message})");
        }
    }
}
