using Engine.Cuda;
using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Training.Support;
using Engine.Training;
using Engine.Training.Optimizers;

namespace Engine.Tests.Cuda;

/// <summary>The trainer on the GPU against the CPU (float32): same per-step losses within float tolerance; resume is bitwise.</summary>
[Category("Gpu")]
public class TrainingGpuTests
{
    private static readonly Shape Input = new(3, 8, 8);

    private static Graph.Graph SmallConvNet(int classes)
    {
        var b = new GraphBuilder("small-conv");
        var x = b.Input("image", Input);
        var label = b.Input("label", new Shape(), isInt: true);
        var h = b.Relu(b.BatchNorm(b.Conv2d(x, 8, 3, padding: 1, bias: false)));
        h = b.MaxPool(h, 2, 2);
        h = b.Mish(b.Conv2d(h, 8, 3, padding: 1));
        var logits = b.Dense(b.Dropout(b.GlobalAvgPool(h), 0.2), classes);
        b.Output("logits", logits);
        b.SetLoss(b.SoftmaxCrossEntropy(logits, label, name: "loss"));
        return b.Build();
    }

    private static TrainOutcome Train(Backend backend, string dir, string optimizer, long? stopAfter = null, bool resume = false)
    {
        var data = new PatternDataset(48, 4, Input);
        using var train = new LoaderBatches(data, batchSize: 8, train: true, seed: 3, threads: 2);
        using var validation = new LoaderBatches(data, 8, train: false, seed: 3, threads: 2);
        return new Trainer(SmallConvNet(4), backend, train, validation, TaskInfo.Of(data), new TrainerOptions
            {
                RunDir = dir, NetName = "small-conv", Epochs = 2, Seed = 42, LearningRate = optimizer == "adam" ? 0.01 : 0.1,
                Schedule = "triangular2:half=1", Resume = resume, StopAfterSteps = stopAfter, CheckpointEvery = 4,
                CreateOptimizer = p => optimizer == "adam" ? new Adam(p) : new Sgd(p, 0.9, 5e-4, unitGain: false),
            }).Run();
    }

    /// <summary>steps.csv rows: step, epoch, batch, loss, lr.</summary>
    private static string[] StepRows(string dir) => File.ReadAllLines(Path.Combine(dir, Trainer.StepsFile)).Skip(1).ToArray();

    private static double[] StepLosses(string dir) =>
        StepRows(dir).Select(l => double.Parse(l.Split(',')[3], System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    [TestCase("sgd")]
    [TestCase("adam")]
    public void LossesFollowTheCpuStepByStep(string optimizer)
    {
        GpuAvailability.Require();
        if (!Engine.Cuda.Native.NativeLibraries.TryLoadCudnn(out var why)) Assert.Ignore($"needs cuDNN: {why}");
        using var cpuDir = new TempDir();
        using var gpuDir = new TempDir();
        Train(new CpuBackend<float>(), cpuDir.Path, optimizer);
        using (var gpu = CudaBackend.Create(0))
        {
            Train(gpu, gpuDir.Path, optimizer);
            Assert.That(gpu.HostFallbacks, Is.Empty, "every op and optimizer update ran on the GPU");
        }
        var (c, g) = (StepLosses(cpuDir.Path), StepLosses(gpuDir.Path));
        Assert.That(g, Has.Length.EqualTo(c.Length));
        for (int i = 0; i < c.Length; i++) Assert.That(g[i], Is.EqualTo(c[i]).Within(2e-3 * Math.Max(1, Math.Abs(c[i]))), $"step {i + 1}");
    }

    [Test]
    public void ResumedGpuRunRepeatsTheUninterruptedLossesBitwise()
    {
        GpuAvailability.Require();
        if (!Engine.Cuda.Native.NativeLibraries.TryLoadCudnn(out var why)) Assert.Ignore($"needs cuDNN: {why}");
        using var whole = new TempDir();
        using var parts = new TempDir();
        using (var gpu = CudaBackend.Create(0))
        {
            Train(gpu, whole.Path, "sgd");
            Assert.That(gpu.HostFallbacks, Is.Empty, "every op and optimizer update ran on the GPU");
        }
        using (var gpu = CudaBackend.Create(0)) Assert.That(Train(gpu, parts.Path, "sgd", stopAfter: 5).Status, Is.EqualTo(TrainStatus.StepLimit));
        using (var gpu = CudaBackend.Create(0)) Train(gpu, parts.Path, "sgd", resume: true);
        Assert.That(StepRows(parts.Path), Is.EqualTo(StepRows(whole.Path)));
    }
}
