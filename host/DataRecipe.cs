using System.Globalization;

namespace Host;

/// <summary>What the user gave on the command line; each given value wins over the recipe's choice.</summary>
public readonly record struct GivenSettings(string? Optimizer = null, double? LearningRate = null, int? Batch = null, int? Epochs = null, string? Schedule = null);

/// <summary>The settings a recipe chose and the line that says what and why.</summary>
public sealed record RecipeChoice(TrainDefaults Settings, string Line);

/// <summary>
/// `--recipe data`: training settings that fit the size of the user's dataset, where the seeds'
/// settings (`--recipe paper`, <see cref="TrainDefaults.For"/>) were made for ImageNet or VOC:
/// VGG's batch 256 gives a 1,400-image folder 5 steps an epoch, and its plateau schedule (patience
/// in epochs) then cuts the rate 1000-fold within 25 epochs, long before the net has learnt.
/// <list type="bullet">
/// <item>batch: the largest power of two in 16..256 (segmentation 4..16: a per-pixel loss, large
/// maps) that leaves at least <see cref="MinStepsPerEpoch"/> steps an epoch, the smallest where
/// the data is too small for that, never more than the examples;</item>
/// <item>Adam at 1e-3: a robust rate for small data at any of these batches (Adam's step is
/// about the rate whatever the gradient's scale, so it needs no batch scaling); momentum SGD
/// when asked for gets the seed's rate scaled linearly from its batch (Goyal et al. 2017);</item>
/// <item>schedule in steps: linear warm-up over 1/20 of the run (at most 500 steps), then the
/// rate divided by 10 at 2/3 and 8/9 of the steps (ScheduleSpec's <c>warmup</c>); no drop
/// depends on validation, so none comes early;</item>
/// <item>length: about <see cref="TargetSteps"/> steps, <see cref="MinEpochs"/>..<see cref="MaxEpochs"/> epochs:
/// enough for a small folder to be learnt within minutes on a CPU (vgg11 at 1/4 width: 96.6 % on
/// 1,500 MNIST digits after 1,023 steps, results/recipe-data-mnist-2026-11-30b.md); the floor of
/// 10 epochs gives larger folders more steps. `--epochs` asks for more.</item>
/// </list>
/// The augmentation is <see cref="DataAugmentation"/>'s.
/// From <see cref="LargeData"/> training examples on (ImageNet-sized) the seeds' settings fit and are kept.
/// </summary>
public static class DataRecipe
{
    public const int MinStepsPerEpoch = 50, TargetSteps = 1000, MinEpochs = 10, MaxEpochs = 200, LargeData = 200_000;
    public const double AdamRate = 1e-3;
    public const string Schedule = "warmup";

    public static RecipeChoice Choose(string net, int examples, bool segmentation, GivenSettings given = default)
    {
        var paper = TrainDefaults.For(net);
        var c = CultureInfo.InvariantCulture;
        string paperHint = $"--recipe paper for the seed's settings ({paper.Source})";
        if (examples >= LargeData)
        {
            // Each given value already wins in TrainCommand; the rest are the seed's.
            return new RecipeChoice(paper, string.Create(c,
                $"recipe data: {examples:N0} training examples, ImageNet-sized: the seed's settings fit and are kept ({paper.Source})"));
        }

        int batch = given.Batch ?? Batch(examples, segmentation);
        int stepsPerEpoch = Math.Max(1, examples / batch);
        int epochs = given.Epochs ?? Math.Clamp((TargetSteps + stepsPerEpoch - 1) / stepsPerEpoch, MinEpochs, MaxEpochs);
        long total = (long)stepsPerEpoch * epochs;
        var optimizer = given.Optimizer?.ToLowerInvariant() ?? "adam";
        bool adam = optimizer == "adam";
        double lr = given.LearningRate ?? (adam ? AdamRate : SgdRate(paper, batch));
        // Adam as in the seeds that use it (SegNet's Keras seed, the quick run): no weight decay; SGD keeps the seed's L2.
        double weightDecay = adam ? 0 : paper.WeightDecay > 0 ? paper.WeightDecay : 5e-4;
        var schedule = given.Schedule ?? Schedule;
        var settings = new TrainDefaults(optimizer, lr, 0.9, weightDecay, schedule, batch, epochs, "");

        string batchWhy = given.Batch is null
            ? $"batch {batch} ({stepsPerEpoch:N0} steps an epoch; the largest power of two in {Bounds(segmentation)} with at least {MinStepsPerEpoch} where the data allows)"
            : $"batch {batch} as given ({stepsPerEpoch:N0} steps an epoch)";
        string optimizerName = optimizer switch { "adam" => "Adam", "sgd-unit" => "unit-gain momentum SGD", _ => "momentum SGD" };
        string lrWhy = given.LearningRate is not null ? "as given"
            : adam ? "robust for small data at any batch"
            : $"the seed's {paper.LearningRate:G4} at batch {paper.Batch}, scaled linearly to batch {batch}";
        string scheduleWhy = given.Schedule is not null ? $"schedule {schedule} as given"
            : $"linear warm-up over {Math.Min(500, total / 20):N0} steps, then lr/10 at 2/3 and 8/9 of the steps";
        string lengthWhy = given.Epochs is not null ? "as given" : $"about {TargetSteps:N0} steps, {MinEpochs}..{MaxEpochs} epochs";
        var line = string.Create(c,
            $"recipe data: {examples:N0} training examples -> {batchWhy}, {optimizerName} lr {lr:G4} ({lrWhy}), {scheduleWhy}, " +
            $"{total:N0} steps in {epochs} epochs ({lengthWhy}); {paperHint}");
        return new RecipeChoice(settings with { Source = line }, line);
    }

    /// <summary>The largest power of two in the bounds with at least <see cref="MinStepsPerEpoch"/> steps, else the lowest; at most the examples.</summary>
    public static int Batch(int examples, bool segmentation)
    {
        var (low, high) = segmentation ? (4, 16) : (16, 256);
        int batch = low;
        for (int b = high; b > low; b /= 2)
            if (examples / b >= MinStepsPerEpoch) { batch = b; break; }
        while (batch > 1 && batch > examples) batch /= 2;
        return batch;
    }

    /// <summary>Momentum SGD: the seed's rate at its batch scaled linearly (a seed without SGD: 0.01 at batch 32).</summary>
    public static double SgdRate(TrainDefaults paper, int batch)
    {
        var (rate, at) = paper.Optimizer == "adam" ? (0.01, 32) : (paper.LearningRate, paper.Batch);
        return rate * batch / at;
    }

    private static string Bounds(bool segmentation) => segmentation ? "4..16" : "16..256";
}
