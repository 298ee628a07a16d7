namespace Host;

/// <summary>
/// Training settings per net, from the seeds (SPEC.md): what `host train --recipe paper` (and a
/// run without --data on a GPU) uses for every option the user leaves out; with --data the
/// default is <see cref="DataRecipe"/>. <see cref="Quick"/> shrinks them for the embedded dataset on the CPU, so
/// that `host train` with no arguments finishes in minutes on two cores.
/// </summary>
public sealed record TrainDefaults(string Optimizer, double LearningRate, double Momentum, double WeightDecay,
    string Schedule, int Batch, int Epochs, string Source)
{
    /// <summary>The seeds' settings for a net (full size, as for a GPU).</summary>
    public static TrainDefaults For(string net)
    {
        var n = net.ToLowerInvariant();
        if (n.StartsWith("vovnet57-seg", StringComparison.Ordinal))
            // The seed gives no epoch count or cycle length for part 2: part 1's (10-epoch half cycles, 100 epochs) are kept.
            return new("adam", 1e-3, 0.9, 0, "triangular2:min=1e-5,half=10", 8, 100,
                "seed 000 part 2: Adam 1e-3, CLR triangular2 1e-5..1e-3 (half cycle 10 epochs, as part 1), batch 8, 100 epochs");
        if (n.StartsWith("vovnet", StringComparison.Ordinal))
            // CNTK's momentum SGD is unit-gain by default; its lr 0.1 is about 0.01 in the classic form.
            return new("sgd-unit", 0.1, 0.9, 5e-4, "triangular2:min=1e-4,half=10", 64, 100,
                "seed 000 (CNTK): unit-gain momentum SGD 0.9, CLR triangular2 1e-4..0.1 with a half cycle of 10 epochs, L2 5e-4, batch 64, 100 epochs");
        if (n.StartsWith("vgg", StringComparison.Ordinal))
            return new("sgd", 0.01, 0.9, 5e-4, "plateau", 256, 74,
                "VGG paper: momentum SGD 0.9, lr 0.01 divided by 10 when validation accuracy stops improving (3 times), L2 5e-4, batch 256, 74 epochs");
        if (n.StartsWith("segnet", StringComparison.Ordinal) || n.StartsWith("fcn", StringComparison.Ordinal))
            return new("adam", 1e-3, 0.9, 0, "constant", 4, 100, "seed 001 (Keras): Adam 1e-3 (beta 0.9, 0.999), batch 4, 100 epochs");
        return new("sgd", 0.01, 0.9, 1e-4, "constant", 32, 10, "generic: momentum SGD 0.9, lr 0.01, weight decay 1e-4");
    }

    /// <summary>
    /// Small settings for the embedded synthetic dataset on the CPU: a 32x32 input, a thin net and
    /// a short run. Adam is used there because at this size and length the momentum-SGD settings
    /// of the seeds barely move the loss; the schedule keeps the net's shape where it has one.
    /// </summary>
    public static QuickRun Quick(string net, bool segmentation)
    {
        var full = For(net);
        var n = net.ToLowerInvariant();
        if (segmentation)
            return new QuickRun(full with { Batch = 8, Epochs = 4, Source = QuickSource(full) }, Size: 32, Width: 0.5, TrainExamples: 480, ValidationExamples: 96);
        var quick = full with { Optimizer = "adam", LearningRate = 0.004, Momentum = 0.9, WeightDecay = 0, Batch = 32, Epochs = 4, Source = QuickSource(full) };
        if (n.StartsWith("vgg", StringComparison.Ordinal))
            return new QuickRun(quick with { LearningRate = 0.001, Schedule = "constant" }, Size: 32, Width: 0.125, TrainExamples: 1280, ValidationExamples: 256);
        // The seed's triangular2 cycle, compressed to one cycle over the run.
        return new QuickRun(quick with { Schedule = "triangular2:half=2" }, Size: 32, Width: 0.125, TrainExamples: 1280, ValidationExamples: 256);
    }

    private static string QuickSource(TrainDefaults full) => $"quick CPU demo (full settings: {full.Source})";
}

/// <summary>The quick CPU run: settings, image side, net width multiplier and synthetic set sizes.</summary>
public sealed record QuickRun(TrainDefaults Settings, int Size, double Width, int TrainExamples, int ValidationExamples);
