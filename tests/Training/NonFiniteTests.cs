using Engine.Data;
using Engine.Graph;
using Engine.Tensors;
using Engine.Tests.Training.Support;
using Engine.Training;
using Engine.Training.Checkpoints;
using Engine.Training.Optimizers;

namespace Engine.Tests.Training;

/// <summary>
/// Non-finite numbers are never written as a result: an update or a validation that goes
/// non-finite stops the run with a message naming the first layer, and the last finite
/// checkpoint stays as it was.
/// </summary>
public class NonFiniteTests
{
    private static readonly Shape Input = new(1, 4, 4);

    /// <summary>Plain SGD that turns every weight into NaN in update <paramref name="poisonAt"/> (the loss before it is finite).</summary>
    private sealed class PoisonedSgd(ParameterBuffers p, long poisonAt) : Optimizer(p, 0)
    {
        public override string Kind => "poisoned-sgd";
        public override string Describe(double learningRate) => "plain SGD, NaN in update " + poisonAt;

        protected override void Update(Backend backend, BufferSlice values, BufferSlice grads, BufferSlice[] state, double lr, double weightDecay, BufferSlice scalars)
        {
            var (v, g) = (new double[values.Count], new double[grads.Count]);
            backend.Download(values, v);
            backend.Download(grads, g);
            for (int i = 0; i < v.Length; i++) v[i] = Steps == poisonAt ? double.NaN : v[i] - lr * g[i];
            backend.Upload(values, v);
        }
    }

    /// <summary>Images of NaN: a forward pass over them goes non-finite at the first layer whatever the weights.</summary>
    private sealed class NaNImages(IDataset inner) : IDataset
    {
        public string Name => inner.Name;
        public TaskKind Task => inner.Task;
        public int Count => inner.Count;
        public int Classes => inner.Classes;
        public IReadOnlyList<string> ClassNames => inner.ClassNames;
        public Shape SampleShape => inner.SampleShape;
        public int IgnoreLabel => inner.IgnoreLabel;
        public string Describe(int index) => inner.Describe(index);
        public Sample Load(int index, Rng rng, bool augment)
        {
            var s = inner.Load(index, rng, augment);
            return s with { Image = [.. s.Image.Select(_ => float.NaN)] };
        }
    }

    /// <summary>5 batches of 8 per epoch, a checkpoint every 2 steps.</summary>
    private static TrainOutcome Run(string dir, long poisonAt, IDataset? val = null, bool resume = false, long? stopAfter = null)
    {
        var data = new PatternDataset(40, 4, Input);
        using var train = new LoaderBatches(data, 8, train: true, seed: 3, threads: 2);
        using var validation = val is null ? null : new LoaderBatches(val, 8, train: false, seed: 3, threads: 2);
        return new Trainer(TinyNets.Classifier(Input, 4), new CpuBackend<float>(), train, validation, TaskInfo.Of(data), new TrainerOptions
        {
            RunDir = dir, NetName = "tiny", Epochs = 1, LearningRate = 0.05, CheckpointEvery = 2, Resume = resume, StopAfterSteps = stopAfter,
            CreateOptimizer = p => new PoisonedSgd(p, poisonAt),
        }).Run();
    }

    private static Dictionary<string, byte[]> CheckpointFiles(string dir) =>
        Directory.GetFiles(Path.Combine(dir, Checkpoint.Folder)).Append(Path.Combine(dir, Checkpoint.RecordName)).ToDictionary(f => f, File.ReadAllBytes);

    [Test]
    public void A_last_update_that_goes_non_finite_is_not_written_and_names_the_first_layer()
    {
        using var dir = new TempDir();
        Run(dir.Path, poisonAt: 5, stopAfter: 4);
        var before = CheckpointFiles(dir.Path);

        Assert.That(() => Run(dir.Path, poisonAt: 5, resume: true), Throws.TypeOf<TrainingDivergedException>().With.Message
            .StartsWith("the weights became non-finite in the update of step 5; first non-finite: layer 'fc1' (fc1.")
            .And.Message.EndsWith($"the last finite checkpoint in {dir.Path} is kept"));

        Assert.That(CheckpointFiles(dir.Path), Is.EqualTo(before), "the step-4 checkpoint is byte for byte as it was");
        Assert.That(File.Exists(dir[Trainer.WeightsFile]), Is.False, "no final weights");
        Assert.That(Directory.GetFiles(dir.Path, "*.tmp-*", SearchOption.AllDirectories), Is.Empty);
    }

    [Test]
    public void A_validation_that_goes_non_finite_is_not_written_and_names_the_first_layer()
    {
        using var dir = new TempDir();
        var val = new NaNImages(new PatternDataset(16, 4, Input, seed: 9));

        Assert.That(() => Run(dir.Path, poisonAt: -1, val: val), Throws.TypeOf<TrainingDivergedException>().With.Message
            .EqualTo($"the validation loss became NaN after epoch 1 (step 5); first non-finite: layer 'fc1' (its output); the last checkpoint in {dir.Path} is untouched"));

        Assert.That(Checkpoint.ReadState(dir.Path).Step, Is.EqualTo(4), "the epoch-end checkpoint is not written");
        Assert.That(File.Exists(dir[Trainer.WeightsFile]), Is.False);
    }
}
