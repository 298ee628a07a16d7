using Engine.Data.Datasets;
using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;
using Engine.Tests.Training.Support;
using Engine.Training;
using Engine.Training.Optimizers;

namespace Engine.Tests.Training;

/// <summary>The whole path (data pipeline, real ops, optimizer, schedule) on the embedded synthetic dataset.</summary>
public class SyntheticTrainingTests
{

    [Test]
    public void A_small_cnn_learns_the_synthetic_shapes()
    {
        using var dir = new TempDir();
        var (train, val) = SyntheticShapesDataset.Split(320, 160, size: 16, seed: 1);
        using var trainBatches = new LoaderBatches(train, 32, train: true, seed: 1, threads: 2);
        using var valBatches = new LoaderBatches(val, 32, train: false, seed: 1, threads: 2);
        var outcome = new Trainer(SmallCnn.Build(train.SampleShape, train.Classes), new CpuBackend<float>(), trainBatches, valBatches,
            TaskInfo.Of(train), new TrainerOptions
            {
                RunDir = dir.Path, Epochs = 3, LearningRate = 0.01, Schedule = "constant", CreateOptimizer = p => new Adam(p),
            }).Run();
        var h = outcome.History;
        Assert.That(h[^1].TrainLoss, Is.LessThan(0.8 * h[0].TrainLoss), string.Join(", ", h.Select(r => r.TrainLoss)));
        Assert.That(h[^1].ValError, Is.LessThan(0.9 * h[0].ValError!.Value), "better than at the first epoch's end");
        Assert.That(h[^1].ValError, Is.LessThan(0.75), "well below chance (0.9 for ten classes)");
    }
}
