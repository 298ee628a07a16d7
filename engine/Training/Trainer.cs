using Engine.Weights;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Engine.Data;
using Engine.Graph;
using Engine.IO;
using Engine.Training.Checkpoints;
using Engine.Training.DataParallel;
using Engine.Training.Metrics;
using Engine.Training.Optimizers;
using Engine.Training.Reports;
using Engine.Training.Schedules;

namespace Engine.Training;

/// <summary>
/// The training loop. One step: upload the batch, forward, zero the gradients, backward from
/// the loss, one optimizer update at the schedule's rate, then read back the loss and score the
/// logits on the backend (only counts come back) for the metrics. After each epoch: validation, the schedule's end-of-epoch hook, metrics.csv,
/// curves.svg, segmentation pictures and a checkpoint. Everything is seeded, so a run resumed
/// from any checkpoint repeats the uninterrupted run's steps exactly (on a deterministic backend).
/// Data-parallel (<see cref="TrainerOptions.Group"/> of several ranks): every rank runs this loop on
/// its share of each global batch; gradients, the logged loss and the metrics are the global batch's,
/// and rank 0 alone writes the run folder (every rank reads it to resume).
/// </summary>
public sealed class Trainer(Graph.Graph graph, Backend backend, IBatchSource train, IBatchSource? validation, TaskInfo task, TrainerOptions options)
{
    public const string StepsFile = "steps.csv", MetricsFile = "metrics.csv", CurvesFile = "curves.svg", LogFile = "train.log",
        WeightsFile = "weights.safetensors", PredictionsFolder = "predictions";

    /// <summary>Lines worth showing (settings, epoch summaries, notes); they also go to train.log.</summary>
    public TextWriter? Messages { get; init; }
    public Action<StepProgress>? Progress { get; init; }

    private readonly string _dir = options.RunDir;
    private readonly Value _loss = graph.Loss ?? throw new ArgumentException($"graph '{graph.Name}' has no loss to train");
    private readonly Value? _logits = graph.Outputs.TryGetValue("logits", out var l) ? l : null;
    private readonly DataParallelGroup? _parallel = options.Group.Size > 1 ? new DataParallelGroup(options.Group, options.DeviceGroup) : null;
    private bool Writes => _parallel?.IsWriter ?? true;

    public TrainOutcome Run(CancellationToken cancel = default)
    {
        if (!options.Resume && Checkpoint.Exists(_dir))
            throw new RunExistsException(_dir);
        _parallel?.Agree([.. options.Agreement, ("resume", options.Resume.ToString()), ("parameters", graph.Parameters.Count.ToString(CultureInfo.InvariantCulture)),
            ("training examples per epoch", train.Examples.ToString(CultureInfo.InvariantCulture)), ("batch per rank", train.BatchSize.ToString(CultureInfo.InvariantCulture))]);
        if (Writes) CreateRunFolder();
        using var log = Writes ? new RunLog(Path.Combine(_dir, LogFile), Messages) : null;
        foreach (var note in options.Notes) log?.Info(note);
        if (Writes)
        {
            var leftovers = AtomicFile.RemoveLeftovers(_dir).Concat(AtomicFile.RemoveLeftovers(Path.Combine(_dir, Checkpoint.Folder))).ToList();
            if (leftovers.Count > 0) log!.Info($"removed {leftovers.Count} temporary file(s) an interrupted write left behind: {string.Join(", ", leftovers)}");
        }
        int skipped = 0;
        train.Log = m => { Interlocked.Increment(ref skipped); log?.Detail(m); };
        if (validation is not null) validation.Log = train.Log;

        using var parameters = new ParameterBuffers(graph, backend, freezeBackbone: options.FreezeBackbone);
        using var optimizer = options.CreateOptimizer(parameters);
        long stepsPerEpoch = train.BatchesPerEpoch, totalSteps = stepsPerEpoch * options.Epochs;
        var schedule = ScheduleSpec.Parse(options.Schedule, new ScheduleContext(options.LearningRate, stepsPerEpoch, totalSteps));

        var state = options.Resume ? ResumeFrom(parameters, optimizer, schedule, log) : Start(parameters, optimizer, schedule, log);
        _parallel?.ShareWeights(parameters);
        if (_parallel is not null)
            log?.Info($"data-parallel: {_parallel.Size} ranks x batch {train.BatchSize} = global batch {train.BatchSize * _parallel.Size}; rank 0's weights shared and checked equal on every rank");
        var history = state.History.Select(n => EpochRecord.FromJson(n!)).ToList();
        using var exec = new Executor(graph, backend, train.BatchSize, parameters) { Seed = state.Seed, ExampleOffset = (long)options.Group.Rank * train.BatchSize };
        using var evaluator = new Evaluator(graph, backend, parameters, task, exec);
        using var scorer = new BatchScorer(backend);
        using var runner = new StepRunner(optimizer, _loss, options.CudaGraph && _parallel is null, m => log?.Info(m));
        using var steps = OpenSteps(state.Step);

        long step = state.Step;
        var rate = new RateMeter();
        for (int epoch = state.Epoch; epoch < options.Epochs; epoch++)
        {
            var meter = new Meter(task.Task, task.Classes, task.IgnoreLabel);
            int batchIndex = 0;
            double secondsBefore = 0;
            if (epoch == state.Epoch && state.BatchInEpoch > 0)
            {
                batchIndex = state.BatchInEpoch;
                // The saved meter is the global one: rank 0 carries it on, the others add only their own from here.
                if (state.TrainMeter is { } m && Writes) meter.Restore(m);
                secondsBefore = state.EpochSeconds;
            }
            var clock = Stopwatch.StartNew();
            double lr = schedule.Rate(step);
            double globalLossSum = 0;   // data-parallel: the progress line's epoch average of the global losses
            int globalSteps = 0;
            foreach (var batch in train.Epoch(epoch, batchIndex))
            {
                lr = schedule.Rate(step);
                bool stop = cancel.IsCancellationRequested;
                double loss = _parallel is null ? TrainStep(runner, exec, scorer, batch, step, lr, meter)
                    : TrainStep(exec, parameters, optimizer, scorer, batch, step, lr, meter, ref stop);
                step++;
                batchIndex++;
                steps.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{step},{epoch + 1},{batchIndex},{loss:R},{lr:R}"));
                if (!double.IsFinite(loss))
                {
                    steps.Flush();
                    throw new TrainingDivergedException($"the loss became {loss} at step {step} (epoch {epoch + 1}, lr {lr:G4}); " +
                        $"first non-finite: {NonFinite.InParameters(parameters, gradients: true) ?? NonFinite.InOutputs(graph, backend, parameters, batch) ?? "the loss itself"}; " +
                        $"the last checkpoint in {_dir} is untouched");
                }
                rate.Add(batch.Count * train.Ranks);
                globalLossSum += loss;
                globalSteps++;
                Progress?.Invoke(new StepProgress(epoch + 1, options.Epochs, batchIndex, train.BatchesPerEpoch, step, totalSteps,
                    loss, _parallel is null ? meter.Summary().Loss : globalLossSum / globalSteps, lr, rate.PerSecond, rate.Eta(totalSteps - step, train.BatchSize)));

                if (_parallel is null) stop |= cancel.IsCancellationRequested;
                stop |= step == options.StopAfterSteps;
                if (stop || (options.CheckpointEvery > 0 && step % options.CheckpointEvery == 0))
                {
                    steps.Flush();
                    Save(parameters, optimizer, schedule, step, epoch, batchIndex, meter, secondsBefore + clock.Elapsed.TotalSeconds, history, state.Seed);
                }
                if (stop)
                {
                    log?.Info($"stopped after step {step} (epoch {epoch + 1}, batch {batchIndex} of {train.BatchesPerEpoch}); checkpoint written to {_dir}");
                    return new TrainOutcome(step == options.StopAfterSteps && !cancel.IsCancellationRequested ? TrainStatus.StepLimit : TrainStatus.Interrupted, step, history, _dir);
                }
            }

            lr = schedule.Rate(Math.Max(0, step - 1));
            var trainSummary = (_parallel?.Global(meter) ?? meter).Summary();
            MetricSummary? val = null;
            if (validation is not null)
            {
                var pictures = new List<(float[] Image, int[] Prediction, int[] Truth)>();
                val = evaluator.Run(validation, 0, (b, logits) => CollectPictures(b, logits, pictures));
                if (val.Samples > 0 && !double.IsFinite(val.Loss))
                    throw new TrainingDivergedException($"the validation loss became {val.Loss} after epoch {epoch + 1} (step {step}); " +
                        $"first non-finite: {NonFinite.InParameters(parameters, gradients: false) ?? NonFinite.InOutputs(graph, backend, parameters, validation.Epoch(0).First()) ?? "the loss itself"}; " +
                        $"the last checkpoint in {_dir} is untouched");
                if (Writes) WritePictures(pictures);
            }
            var note = schedule.EndOfEpoch(epoch, (val ?? trainSummary).Score);
            var record = EpochRecord.From(epoch + 1, trainSummary, val, lr, secondsBefore + clock.Elapsed.TotalSeconds);
            history.Add(record);
            log?.Info(Summary(record, val));
            if (note is not null) log?.Info(note);
            if (Writes) WriteReports(history);
            steps.Flush();
            Save(parameters, optimizer, schedule, step, epoch + 1, 0, null, 0, history, state.Seed);
        }
        _parallel?.CheckSameWeights(parameters, $"at the end (step {step})");
        if (Writes) WeightFile.Save(Path.Combine(_dir, WeightsFile), parameters, new Dictionary<string, string> { ["net"] = options.NetName, ["step"] = step.ToString(CultureInfo.InvariantCulture) });
        if (skipped > 0) log?.Info($"{skipped} unreadable example(s) were skipped; train.log names each file and the reason");
        log?.Info($"done: {step} steps; weights in {Path.Combine(_dir, WeightsFile)}, metrics in {Path.Combine(_dir, MetricsFile)}, curves in {Path.Combine(_dir, CurvesFile)}");
        return new TrainOutcome(TrainStatus.Completed, step, history, _dir);
    }

    private void CreateRunFolder()
    {
        if (File.Exists(_dir)) throw new FileWriteException(_dir, "a file is in the way of the run folder");
        try { Directory.CreateDirectory(_dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw FileWriteException.Of(_dir, e); }
    }

    /// <summary>One step on one process: the metric kernels are part of the (possibly captured) step, their counts read after it.</summary>
    private double TrainStep(StepRunner runner, Executor exec, BatchScorer scorer, Batch batch, long step, double lr, Meter meter)
    {
        if (_logits is null) return runner.Run(exec, batch, step, lr);
        var logits = exec.ValueSlice(_logits);
        var labels = exec.ValueSlice(graph.Input("label"));
        meter.CheckBatch(batch.Count, logits.Count, batch.Labels.Span);
        bool onDevice = false;
        double loss = runner.Run(exec, batch, step, lr, () => onDevice = scorer.Queue(meter, batch.Count, logits, labels));
        onDevice |= runner.LastStepReplayed;
        if (!double.IsFinite(loss)) return loss;
        if (onDevice) scorer.Collect(meter, loss, batch);
        else scorer.Add(meter, loss, batch, logits, labels, exec.DescOf(_logits));
        return loss;
    }

    /// <summary>One data-parallel step; the returned loss is the global batch's and <paramref name="stop"/> is true on every rank when one asked.</summary>
    private double TrainStep(Executor exec, ParameterBuffers parameters, Optimizer optimizer, BatchScorer scorer, Batch batch, long step, double lr, Meter meter, ref bool stop)
    {
        double localLoss = double.NaN;
        bool anyStop = stop;
        Func<double, double>? reduce = _parallel is null ? null : local =>
        {
            localLoss = local;
            return _parallel.ReduceStep(parameters, local, CountedLabels(batch), ref anyStop);
        };
        double loss = TrainingStep.Run(exec, parameters, optimizer, batch, step, lr, _loss, reduce);
        stop = anyStop;
        if (_parallel is not null && graph.States.Count > 0 && !_syncedStatistics) _parallel.ShareStates(parameters);
        if (_parallel is null) localLoss = loss;
        if (_logits is not null && double.IsFinite(localLoss))
            scorer.Add(meter, localLoss, batch, exec.ValueSlice(_logits), exec.ValueSlice(graph.Input("label")));
        return loss;
    }

    /// <summary>Whether every normalisation layer with running statistics already keeps them equal on all ranks (SyncBN).</summary>
    private readonly bool _syncedStatistics = graph.Nodes.Where(n => n.States.Length > 0).All(n => n.Op is Distributed.ISynchronizedStatistics);

    /// <summary>The labels the loss averaged over: the batch (classification) or its pixels that are not the ignore label (segmentation).</summary>
    private long CountedLabels(Batch batch)
    {
        if (task.Task == TaskKind.Classification) return batch.Count;
        long n = 0;
        foreach (int label in batch.Labels.Span) if (label != task.IgnoreLabel) n++;
        return n;
    }

    /// <summary>Non-finite weights are never written: an update can go non-finite although the loss before it was finite.</summary>
    private void EnsureFinite(ParameterBuffers parameters, long step)
    {
        if (NonFinite.InParameters(parameters, gradients: false) is { } where)
            throw new TrainingDivergedException($"the weights became non-finite in the update of step {step}; first non-finite: {where}; " +
                $"the last finite checkpoint in {_dir} is kept");
    }

    private CheckpointState Start(ParameterBuffers parameters, Optimizer optimizer, LrSchedule schedule, RunLog? log)
    {
        parameters.Initialize(options.Seed);
        if (Writes) File.Delete(Path.Combine(_dir, StepsFile));
        if (log is null) return new CheckpointState { Seed = options.Seed, Net = options.NetName, Config = options.Config };
        log.Info($"run folder {_dir}");
        log.Info($"net {options.NetName}: {graph.Parameters.Count:N0} parameters, {task.Task.ToString().ToLowerInvariant()} into {task.Classes} classes, backend {backend.Name}");
        int dropped = train.SplitCount - train.Examples;
        string batches = train.Ranks > 1 ? $"{train.BatchesPerEpoch} global batches of {train.Ranks} ranks x {train.BatchSize}" : $"{train.BatchesPerEpoch} batches of {train.BatchSize}";
        log.Info($"data: {train.SplitCount} training examples, {batches} per epoch" +
            (dropped > 0 ? $" (each epoch leaves out the {dropped} its shuffle puts last)" : "") +
            (validation is null ? ", no validation split" : $", {validation.Examples} validation examples"));
        log.Info($"optimizer: {optimizer.Describe(options.LearningRate)}");
        log.Info($"schedule: {schedule.Describe()}, {options.Epochs} epochs, stepped every batch; seed {options.Seed}");
        if (options.FreezeBackbone)
        {
            log.Info($"frozen backbone: {parameters.FrozenCount:N0} parameters neither trained nor decayed, its batch norm on its running statistics; {parameters.TrainableCount:N0} trainable");
            if (options.InitFrom is null) log.Info("warning: the backbone is frozen at its random initialisation (no --init-from): only the layers after it learn");
        }
        if (options.InitFrom is { } init)
        {
            var report = WeightImport.Load(init, parameters, options.StrictInit ? ImportMode.Strict : ImportMode.Partial);
            log.Info($"initialised {report.Loaded} tensor(s) from {init}{(report.Complete ? " (all of the net's)" : "")}");
            foreach (var n in report.Notes()) log.Info("note: " + n);
        }
        return new CheckpointState { Seed = options.Seed, Net = options.NetName, Config = options.Config };
    }

    private CheckpointState ResumeFrom(ParameterBuffers parameters, Optimizer optimizer, LrSchedule schedule, RunLog? log)
    {
        var state = Checkpoint.Load(_dir, parameters, optimizer);
        if (state.Net != options.NetName)
            throw new InvalidDataException($"{_dir} holds a run of net '{state.Net}', not '{options.NetName}'");
        schedule.RestoreState(state.Schedule);
        log?.Info($"resuming {_dir} at step {state.Step} (epoch {state.Epoch + 1}, batch {state.BatchInEpoch}); seed {state.Seed}");
        if (state.Seed != options.Seed) log?.Info($"note: the run's own seed {state.Seed} is used, not {options.Seed}");
        return state;
    }

    private void Save(ParameterBuffers parameters, Optimizer optimizer, LrSchedule schedule, long step, int epoch, int batchInEpoch,
        Meter? meter, double epochSeconds, List<EpochRecord> history, ulong seed)
    {
        EnsureFinite(parameters, step);
        if (_parallel is not null)
        {
            _parallel.CheckSameWeights(parameters, $"at the checkpoint of step {step}");
            if (meter is not null) meter = _parallel.Global(meter);
            if (!Writes) return;
        }
        var state = new CheckpointState
        {
            Step = step, Epoch = epoch, BatchInEpoch = batchInEpoch, Seed = seed, Net = options.NetName,
            Schedule = schedule.SaveState(), TrainMeter = meter?.Save(), EpochSeconds = epochSeconds,
            History = [.. history.Select(h => (System.Text.Json.Nodes.JsonNode)h.ToJson())], Config = options.Config,
        };
        Checkpoint.Save(_dir, state, parameters, optimizer);
    }

    /// <summary>steps.csv, cut back to the steps the checkpoint has seen so that a resumed run rewrites the rest.</summary>
    private StreamWriter OpenSteps(long keepThrough)
    {
        if (!Writes) return StreamWriter.Null;
        var path = Path.Combine(_dir, StepsFile);
        var kept = new List<string>();
        if (File.Exists(path))
            foreach (var line in File.ReadLines(path).Skip(1))
            {
                var first = line.Split(',')[0];
                if (long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s <= keepThrough) kept.Add(line);
            }
        var text = new StringBuilder("step,epoch,batch,loss,lr\n");
        foreach (var k in kept) text.Append(k).Append('\n');
        AtomicFile.WriteText(path, text.ToString());
        return new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read));
    }

    private void WriteReports(List<EpochRecord> history)
    {
        AtomicFile.WriteText(Path.Combine(_dir, MetricsFile), EpochRecord.Csv(history));
        AtomicFile.WriteText(Path.Combine(_dir, CurvesFile), CurvesSvg.Render($"{options.NetName}: training curves", history));
    }

    private void CollectPictures(Batch batch, Func<float[]> downloadLogits, List<(float[], int[], int[])> pictures)
    {
        if (task.Task != TaskKind.Segmentation || pictures.Count >= options.PredictionImages) return;
        var logits = downloadLogits();
        int imageSize = batch.Images.Length / batch.Count, plane = batch.Labels.Length / batch.Count, k = task.Classes;
        var scores = new float[k];
        for (int i = 0; i < batch.Count && pictures.Count < options.PredictionImages; i++)
        {
            var prediction = new int[plane];
            for (int p = 0; p < plane; p++)
            {
                for (int c = 0; c < k; c++) scores[c] = logits[(i * k + c) * plane + p];
                prediction[p] = TopK.ArgMax(scores);
            }
            pictures.Add((batch.Images.Slice(i * imageSize, imageSize).ToArray(), prediction, batch.Labels.Slice(i * plane, plane).ToArray()));
        }
    }

    private void WritePictures(List<(float[] Image, int[] Prediction, int[] Truth)> pictures)
    {
        if (pictures.Count == 0) return;
        var shape = graph.Input("image").Shape;  // [1, C, H, W]
        var dir = Path.Combine(_dir, PredictionsFolder);
        Directory.CreateDirectory(dir);
        for (int i = 0; i < pictures.Count; i++)
            SegmentationImages.WritePanels(Path.Combine(dir, $"val-{i}.png"), pictures[i].Image, shape[1], shape[2], shape[3],
                pictures[i].Prediction, pictures[i].Truth);
    }

    private static string Summary(EpochRecord r, MetricSummary? val)
    {
        var s = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"epoch {r.Epoch}: train loss {r.TrainLoss:F4} error {r.TrainError:P2}"));
        if (val is not null)
        {
            s.Append(string.Create(CultureInfo.InvariantCulture, $" | val loss {val.Loss:F4}"));
            if (val.Top1Error is double t1) s.Append(string.Create(CultureInfo.InvariantCulture, $" top-1 error {t1:P2} top-5 error {val.Top5Error:P2}"));
            if (val.PixelAccuracy is double pa) s.Append(string.Create(CultureInfo.InvariantCulture, $" pixel accuracy {pa:P2} mIoU {val.MeanIoU:P2}"));
        }
        s.Append(string.Create(CultureInfo.InvariantCulture, $" | lr {r.LearningRate:G4} | {r.Seconds:F1} s"));
        return s.ToString();
    }

    /// <summary>Images per second over the last few seconds, and the time left at that pace.</summary>
    private sealed class RateMeter
    {
        private readonly Queue<(double T, int N)> _window = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public void Add(int images)
        {
            _window.Enqueue((_clock.Elapsed.TotalSeconds, images));
            while (_window.Count > 2 && _window.Peek().T < _clock.Elapsed.TotalSeconds - 10) _window.Dequeue();
        }

        public double PerSecond
        {
            get
            {
                if (_window.Count < 2) return double.NaN;
                var first = _window.Peek();
                double span = _window.Last().T - first.T;
                return span <= 0 ? double.NaN : (_window.Sum(w => w.N) - first.N) / span;
            }
        }

        public TimeSpan Eta(long stepsLeft, int batch) =>
            double.IsFinite(PerSecond) && PerSecond > 0 ? TimeSpan.FromSeconds(Math.Min(stepsLeft * batch / PerSecond, TimeSpan.MaxValue.TotalSeconds / 2)) : TimeSpan.Zero;
    }
}
