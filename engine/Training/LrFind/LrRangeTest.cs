using Engine.Graph;
using Engine.Training.Optimizers;

namespace Engine.Training.LrFind;

/// <summary>A step of the range test as it happens, for a progress line.</summary>
public sealed record LrRangeProgress(int Step, int Steps, double LearningRate, double Loss, double Smoothed);

/// <summary>What a range test recorded, why it stopped early (null: it ran every step) and what it suggests.</summary>
public sealed record LrRangeResult(IReadOnlyList<LrRangePoint> Points, string? StopReason, LrSuggestion? Suggestion);

/// <summary>
/// The learning-rate range test (Smith 2017, "Cyclical Learning Rates"; fastai's lr_find): from
/// the net's fresh initialisation, one training step per lr of an exponentially rising
/// <see cref="LrRangeSchedule"/>, the batches cycling through as many epochs as it takes; the
/// loss of each step is recorded until the smoothed loss diverges (<see cref="LrRangeRecorder"/>).
/// The weights are thrown away afterwards; only the curve and its suggestion remain.
/// </summary>
public sealed class LrRangeTest(Graph.Graph graph, Backend backend, IBatchSource batches, LrRangeSchedule schedule, ulong seed)
{
    public Action<LrRangeProgress>? Progress { get; init; }

    public LrRangeResult Run(Func<ParameterBuffers, Optimizer> createOptimizer, CancellationToken cancel = default)
    {
        var lossValue = graph.Loss ?? throw new ArgumentException($"graph '{graph.Name}' has no loss to train");
        if (batches.BatchesPerEpoch < 1) throw new InvalidDataException("the data gives no full batch");
        using var parameters = new ParameterBuffers(graph, backend);
        using var optimizer = createOptimizer(parameters);
        parameters.Initialize(seed);
        using var exec = new Executor(graph, backend, batches.BatchSize, parameters) { Seed = seed };
        var recorder = new LrRangeRecorder();
        int step = 0;
        for (int epoch = 0; step < schedule.Steps && !cancel.IsCancellationRequested; epoch++)
        {
            foreach (var batch in batches.Epoch(epoch))
            {
                double lr = schedule.Rate(step);
                double loss = TrainingStep.Run(exec, parameters, optimizer, batch, step, lr, lossValue);
                bool go = recorder.Add(lr, loss);
                step++;
                if (recorder.Points.Count > 0)
                    Progress?.Invoke(new LrRangeProgress(step, schedule.Steps, lr, loss, recorder.Points[^1].Smoothed));
                if (!go || step >= schedule.Steps || cancel.IsCancellationRequested) break;
            }
            if (recorder.StopReason is not null) break;
        }
        var stop = recorder.StopReason ?? (cancel.IsCancellationRequested && step < schedule.Steps ? $"interrupted after step {step}" : null);
        return new LrRangeResult(recorder.Points, stop, LrSuggestion.From(recorder.Points));
    }
}
