using Engine.Data;
using Engine.Graph;
using Engine.Tensors;
using Engine.Tests.Training.Support;
using Engine.Training;
using Engine.Training.Checkpoints;
using Engine.Training.Optimizers;

namespace Engine.Tests.Training;

public class TrainerTests
{
    private static readonly Shape Input = new(1, 4, 4);

    /// <summary>Trains the tiny classifier on <paramref name="data"/> through the real data loader.</summary>
    private static TrainOutcome Classifier(string dir, IDataset data, int epochs, bool resume = false, long? stopAfter = null,
        string optimizer = "sgd", string schedule = "triangular2:half=1", long checkpointEvery = 0, IDataset? val = null,
        CancellationToken cancel = default)
    {
        var graph = TinyNets.Classifier(data.SampleShape, data.Classes);
        using var train = new LoaderBatches(data, batchSize: 8, train: true, seed: 3, threads: 2);
        using var validation = val is null ? null : new LoaderBatches(val, 8, train: false, seed: 3, threads: 2);
        return new Trainer(graph, new CpuBackend<float>(), train, validation, TaskInfo.Of(data), new TrainerOptions
        {
            RunDir = dir, NetName = "tiny", Epochs = epochs, Seed = 42, LearningRate = optimizer == "adam" ? 0.01 : 0.1,
            Schedule = schedule, Resume = resume, StopAfterSteps = stopAfter, CheckpointEvery = checkpointEvery,
            CreateOptimizer = p => optimizer == "adam" ? new Adam(p) : new Sgd(p, 0.9, 5e-4, unitGain: optimizer == "sgd-unit"),
        }).Run(cancel);
    }

    private static string[] StepLosses(string dir) =>
        File.ReadAllLines(Path.Combine(dir, Trainer.StepsFile)).Skip(1).ToArray();

    [Test]
    public void Training_reduces_the_loss()
    {
        using var dir = new TempDir();
        var data = new PatternDataset(64, 4, Input);
        var outcome = Classifier(dir.Path, data, epochs: 4, val: new PatternDataset(32, 4, Input, seed: 7));
        Assert.That(outcome.Status, Is.EqualTo(TrainStatus.Completed));
        Assert.That(outcome.Steps, Is.EqualTo(4 * 8));
        var h = outcome.History;
        Assert.That(h[^1].TrainLoss, Is.LessThan(h[0].TrainLoss * 0.5), string.Join(", ", h.Select(r => r.TrainLoss)));
        Assert.That(h[^1].ValError, Is.LessThan(0.25));
        foreach (var f in new[] { Trainer.MetricsFile, Trainer.CurvesFile, Trainer.LogFile, Trainer.WeightsFile, Checkpoint.RecordName })
            Assert.That(File.Exists(dir[f]), f);
        var csv = File.ReadAllLines(dir[Trainer.MetricsFile]);
        Assert.That(csv[0], Does.StartWith("epoch,train_loss,train_error,val_loss,val_error"));
        Assert.That(csv, Has.Length.EqualTo(5));
        var svg = System.Xml.Linq.XDocument.Load(dir[Trainer.CurvesFile]);
        var lines = svg.Descendants().Where(e => e.Name.LocalName == "polyline").ToList();
        Assert.That(lines, Has.Count.EqualTo(4), "loss and error panels, train and validation each");
        Assert.That(lines.Select(l => l.Attribute("points")!.Value.Split(' ').Length), Is.All.EqualTo(4), "one point per epoch");
    }

    [TestCase("sgd-unit")]
    [TestCase("adam")]
    public void A_run_stopped_and_resumed_repeats_the_uninterrupted_losses_bitwise(string optimizer)
    {
        var data = new PatternDataset(40, 4, Input);   // 5 batches of 8 per epoch
        using var whole = new TempDir();
        Classifier(whole.Path, data, epochs: 3, optimizer: optimizer, val: data);

        using var parts = new TempDir();
        // Stop in the middle of epoch 2 (step 7 = batch 2 of epoch 2), with a checkpoint every 3 steps also in play.
        var first = Classifier(parts.Path, data, epochs: 3, optimizer: optimizer, stopAfter: 7, checkpointEvery: 3, val: data);
        Assert.That(first.Status, Is.EqualTo(TrainStatus.StepLimit));
        Assert.That(StepLosses(parts.Path), Has.Length.EqualTo(7));
        var second = Classifier(parts.Path, data, epochs: 3, optimizer: optimizer, resume: true, val: data);
        Assert.That(second.Status, Is.EqualTo(TrainStatus.Completed));

        Assert.That(StepLosses(parts.Path), Is.EqualTo(StepLosses(whole.Path)));
        Assert.That(File.ReadAllBytes(parts[Trainer.WeightsFile]), Is.EqualTo(File.ReadAllBytes(whole[Trainer.WeightsFile])));
        var metrics = (string p) => File.ReadAllLines(Path.Combine(p, Trainer.MetricsFile)).Select(l => l[..l.LastIndexOf(',')]);
        Assert.That(metrics(parts.Path), Is.EqualTo(metrics(whole.Path)), "metrics.csv apart from the seconds column");
    }

    [Test]
    public void Steps_written_after_the_last_checkpoint_are_replaced_on_resume()
    {
        var data = new PatternDataset(40, 4, Input);
        using var whole = new TempDir();
        Classifier(whole.Path, data, epochs: 2);
        using var parts = new TempDir();
        Classifier(parts.Path, data, epochs: 2, stopAfter: 6);
        // As after kill -9: the checkpoint says step 6 but steps.csv went on to step 8 with other numbers.
        File.AppendAllLines(parts[Trainer.StepsFile], ["7,2,2,123,0.1", "8,2,3,456,0.1"]);
        Classifier(parts.Path, data, epochs: 2, resume: true);
        Assert.That(StepLosses(parts.Path), Is.EqualTo(StepLosses(whole.Path)));
    }

    [Test]
    public void A_crash_before_the_rename_leaves_the_previous_checkpoint_loadable()
    {
        using var dir = new TempDir();
        var data = new PatternDataset(40, 4, Input);
        Classifier(dir.Path, data, epochs: 2, stopAfter: 3);
        var before = Checkpoint.ReadState(dir.Path);
        Assert.That(before.Step, Is.EqualTo(3));
        try
        {
            AtomicFile.BeforeRename = path => { if (path.EndsWith(Checkpoint.RecordName)) throw new IOException("simulated crash"); };
            Assert.Throws<Engine.IO.FileWriteException>(() => Classifier(dir.Path, data, epochs: 2, resume: true, stopAfter: 6));
        }
        finally { AtomicFile.BeforeRename = null; }
        var after = Checkpoint.ReadState(dir.Path);
        Assert.That(after.Step, Is.EqualTo(3), "the record still names the old checkpoint");
        Assert.That(Directory.GetFiles(dir.Path, "*.tmp-*"), Is.Empty, "the temporary file is cleaned up");
        // The old checkpoint loads, and the run continues from it.
        var outcome = Classifier(dir.Path, data, epochs: 2, resume: true);
        Assert.That(outcome.Steps, Is.EqualTo(10));
    }

    [Test]
    public void Temporary_files_a_killed_run_left_are_removed_on_resume_and_named_in_the_log()
    {
        using var dir = new TempDir();
        var data = new PatternDataset(40, 4, Input);
        Classifier(dir.Path, data, epochs: 2, stopAfter: 3);
        // As after kill -9 in the middle of the next checkpoint: half-written files of another process.
        File.WriteAllText(dir["checkpoints/step-00000006.safetensors.tmp-999999"], "half");
        File.WriteAllText(dir["checkpoint.json.tmp-999998"], "{");
        File.WriteAllText(dir["notes.tmp-mine"], "not ours to delete");

        Classifier(dir.Path, data, epochs: 2, resume: true, stopAfter: 4);

        Assert.That(Directory.GetFiles(dir.Path, "*.tmp-9*", SearchOption.AllDirectories), Is.Empty);
        Assert.That(File.Exists(dir["notes.tmp-mine"]), "only the writer's own pattern, name.tmp-PID, is removed");
        Assert.That(File.ReadAllText(dir[Trainer.LogFile]), Does.Contain("removed 2 temporary file(s) an interrupted write left behind: ")
            .And.Contain("checkpoint.json.tmp-999998").And.Contain("step-00000006.safetensors.tmp-999999"));
        Assert.That(Checkpoint.ReadState(dir.Path).Step, Is.EqualTo(4));
    }

    [Test]
    public void A_crash_while_writing_the_weights_leaves_the_previous_checkpoint_loadable()
    {
        using var dir = new TempDir();
        var data = new PatternDataset(40, 4, Input);
        Classifier(dir.Path, data, epochs: 2, stopAfter: 3);
        try
        {
            AtomicFile.BeforeRename = path => { if (path.EndsWith(".safetensors")) throw new IOException("simulated crash"); };
            Assert.Throws<Engine.IO.FileWriteException>(() => Classifier(dir.Path, data, epochs: 2, resume: true, stopAfter: 6));
        }
        finally { AtomicFile.BeforeRename = null; }
        var state = Checkpoint.ReadState(dir.Path);
        Assert.That(state.Step, Is.EqualTo(3));
        using var backend = new CpuBackend<float>();
        using var p = new ParameterBuffers(TinyNets.Classifier(Input, 4), backend);
        Assert.DoesNotThrow(() => WeightFile.LoadExact(Path.Combine(dir.Path, state.WeightsFile), p));
    }

    [Test]
    public void Starting_over_an_existing_run_without_resume_is_refused()
    {
        using var dir = new TempDir();
        var data = new PatternDataset(16, 2, Input);
        Classifier(dir.Path, data, epochs: 1);
        Assert.That(() => Classifier(dir.Path, data, epochs: 1),
            Throws.TypeOf<RunExistsException>().With.Message.Contains("already holds a run"));
    }

    [Test]
    public void Bad_files_are_skipped_and_named_in_the_log()
    {
        using var dir = new TempDir();
        var data = new PatternDataset(24, 2, Input) { Bad = [3, 17] };
        var outcome = Classifier(dir.Path, data, epochs: 1);
        Assert.That(outcome.Steps, Is.EqualTo(3));
        var log = File.ReadAllText(dir[Trainer.LogFile]);
        Assert.That(log, Does.Contain("pattern-3.png: corrupt data").And.Contain("pattern-17.png"));
    }

    [Test]
    public void Cancellation_writes_a_checkpoint_and_stops()
    {
        using var dir = new TempDir();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var outcome = Classifier(dir.Path, new PatternDataset(40, 4, Input), epochs: 2, cancel: cts.Token);
        Assert.That(outcome.Status, Is.EqualTo(TrainStatus.Interrupted));
        Assert.That(Checkpoint.ReadState(dir.Path).Step, Is.EqualTo(1));
    }

    [Test]
    public void Segmentation_training_writes_miou_and_prediction_pictures()
    {
        using var dir = new TempDir();
        var data = new BrightestChannelDataset(16, 3, 6);
        var graph = TinyNets.Segmenter(data.SampleShape, data.Classes);
        using var train = new LoaderBatches(data, 4, train: true, seed: 1, threads: 2);
        using var val = new LoaderBatches(data, 4, train: false, seed: 1, threads: 2);
        var trainer = new Trainer(graph, new CpuBackend<float>(), train, val,
            TaskInfo.Of(data), new TrainerOptions
            {
                RunDir = dir.Path, NetName = "tiny-seg", Epochs = 3, LearningRate = 0.05, PredictionImages = 2,
                CreateOptimizer = p => new Adam(p),
            });
        var h = trainer.Run().History;
        Assert.That(h[^1].ValPixelAccuracy, Is.GreaterThan(h[0].ValPixelAccuracy!.Value));
        Assert.That(h[^1].ValMeanIoU, Is.GreaterThan(0.3));
        Assert.That(h[^1].ValError, Is.EqualTo(1 - h[^1].ValPixelAccuracy).Within(1e-12));
        var png = File.ReadAllBytes(Path.Combine(dir.Path, Trainer.PredictionsFolder, "val-1.png"));
        Assert.That(png.AsSpan(1, 3).ToArray(), Is.EqualTo("PNG"u8.ToArray()));
        Assert.That(File.Exists(Path.Combine(dir.Path, Trainer.PredictionsFolder, "val-2.png")), Is.False);
    }
}
