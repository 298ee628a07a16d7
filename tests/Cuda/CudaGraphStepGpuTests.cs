using Engine.Cuda;
using Engine.Data;
using Engine.Graph;
using Engine.Nets;
using Engine.Ops;
using Engine.Tensors;
using Engine.Training;
using Engine.Training.Optimizers;

namespace Engine.Tests.Cuda;

/// <summary>
/// The training step captured as a CUDA graph after warm-up and replayed (StepRunner over
/// CudaBackend's IStepCapture) against the same steps run eagerly: bitwise the same losses and
/// weights, the learning rate and dropout's step read at each replay, a second batch shape warming
/// up and capturing on its own, and calls that break a capture named in the reason.
/// </summary>
[Category("Gpu")]
public class CudaGraphStepGpuTests
{
    private const int Steps = 6;

    /// <summary>BN + ReLU, max pooling, Mish, dropout, dense: every per-step scalar the capture must not bake in.</summary>
    private static Graph.Graph BnDropoutNet()
    {
        var b = new GraphBuilder("bn-dropout");
        var x = b.Input("image", new Shape(3, 8, 8));
        var label = b.Input("label", new Shape(), isInt: true);
        var h = b.Relu(b.BatchNorm(b.Conv2d(x, 8, 3, padding: 1, bias: false)));
        h = b.MaxPool(h, 2, 2);
        h = b.Mish(b.Conv2d(h, 8, 3, padding: 1));
        var logits = b.Dense(b.Dropout(b.GlobalAvgPool(h), 0.3), 4);
        b.Output("logits", logits);
        b.SetLoss(b.SoftmaxCrossEntropy(logits, label, name: "loss"));
        return b.Build();
    }

    private static Graph.Graph Net(string name) => name == "vgg11"
        ? NetRegistry.Build("vgg11", new NetOptions { Input = new Shape(3, 32, 32), Classes = 4, Width = 1.0 / 16 })
        : BnDropoutNet();

    private static CudaBackend Gpu()
    {
        GpuAvailability.Require();
        if (!Engine.Cuda.Native.NativeLibraries.TryLoadCudnn(out var why)) Assert.Ignore($"needs cuDNN: {why}");
        return CudaBackend.Create(0);
    }

    private static Batch MakeBatch(Graph.Graph g, int count, int seed)
    {
        var rng = new Random(seed);
        int imageSize = (int)g.Input("image").Shape.Numel;  // the graph's input shape is one example's
        var images = Enumerable.Range(0, count * imageSize).Select(_ => (float)rng.NextDouble()).ToArray();
        var labels = Enumerable.Range(0, count).Select(_ => rng.Next(4)).ToArray();
        return new Batch(images, labels, count, Enumerable.Range(0, count).ToArray());
    }

    /// <summary>lr of step s: changes every step, so a replay that kept the captured value would differ.</summary>
    private static double Lr(long s) => 0.05 / (1 + s);

    /// <summary>Runs <see cref="Steps"/> steps (batch sizes per step from <paramref name="batches"/>) and returns the losses and final weights.</summary>
    private static (double[] Losses, double[] Weights, StepRunner Runner) Train(CudaBackend gpu, Graph.Graph g, bool capture, Func<long, int> batches,
        string optimizer = "sgd")
    {
        using var parameters = new ParameterBuffers(g, gpu);
        parameters.Initialize(11);
        using Optimizer opt = optimizer == "adam" ? new Adam(parameters) : new Sgd(parameters, 0.9, 5e-4, unitGain: false);
        var executors = new Dictionary<int, Executor>();
        var runner = new StepRunner(opt, g.Loss!, capture);
        var losses = new double[Steps];
        try
        {
            for (long s = 0; s < Steps; s++)
            {
                int n = batches(s);
                if (!executors.TryGetValue(n, out var exec))
                    executors[n] = exec = new Executor(g, gpu, n, parameters) { Seed = 5 };
                losses[s] = runner.Run(exec, MakeBatch(g, n, (int)s), s, Lr(s));
            }
            return (losses, parameters.GetValues(), runner);
        }
        finally
        {
            runner.Dispose();
            foreach (var e in executors.Values) e.Dispose();
        }
    }

    [TestCase("vgg11", "sgd")]
    [TestCase("bn-dropout", "sgd")]
    [TestCase("bn-dropout", "adam")]
    public void ReplayedStepsGiveTheEagerLossesAndWeightsBitwise(string net, string optimizer)
    {
        using var gpu = Gpu();
        var g = Net(net);
        var eager = Train(gpu, g, capture: false, _ => 2, optimizer);
        var graph = Train(gpu, g, capture: true, _ => 2, optimizer);
        Assert.That(graph.Runner.Reason, Is.Null, "the step was captured");
        Assert.That(graph.Runner.Captures, Is.EqualTo(1));
        Assert.That(graph.Runner.Replays, Is.EqualTo(Steps - 2), "two eager warm-up steps, then replays");
        Assert.That(graph.Losses, Is.EqualTo(eager.Losses), "losses, bitwise");
        Assert.That(graph.Weights, Is.EqualTo(eager.Weights), "weights, bitwise");
        Assert.That(gpu.HostFallbacks, Is.Empty);
    }

    [Test]
    public void ALearningRateChangedBetweenReplaysTakesEffect()
    {
        using var gpu = Gpu();
        var g = BnDropoutNet();
        using var parameters = new ParameterBuffers(g, gpu);
        parameters.Initialize(3);
        using var opt = new Sgd(parameters, 0, 0, unitGain: false);
        using var exec = new Executor(g, gpu, 2, parameters) { Seed = 5 };
        using var runner = new StepRunner(opt, g.Loss!, capture: true);
        for (long s = 0; s < 3; s++) runner.Run(exec, MakeBatch(g, 2, (int)s), s, 0.1);
        Assert.That(runner.LastStepReplayed, Is.True, "the third step is captured and launched");
        var before = parameters.GetValues();
        runner.Run(exec, MakeBatch(g, 2, 7), 3, 0.0);
        Assert.That(runner.LastStepReplayed, Is.True);
        Assert.That(parameters.GetValues(), Is.EqualTo(before), "a replay at lr 0 leaves the weights alone (the captured lr was 0.1)");
        runner.Run(exec, MakeBatch(g, 2, 8), 4, 0.1);
        Assert.That(parameters.GetValues(), Is.Not.EqualTo(before), "and at lr 0.1 moves them again");
    }

    [Test]
    public void ABadLabelInAReplayedStepIsStillReported()
    {
        using var gpu = Gpu();
        var g = BnDropoutNet();
        using var parameters = new ParameterBuffers(g, gpu);
        parameters.Initialize(3);
        using var opt = new Sgd(parameters, 0, 0, unitGain: false);
        using var exec = new Executor(g, gpu, 2, parameters) { Seed = 5 };
        using var runner = new StepRunner(opt, g.Loss!, capture: true);
        for (long s = 0; s < 3; s++) runner.Run(exec, MakeBatch(g, 2, (int)s), s, 0.1);
        var good = MakeBatch(g, 2, 9);
        var bad = new Batch(good.Images, new[] { 1, 99 }, 2, good.Indices);
        var e = Assert.Catch<Exception>(() => runner.Run(exec, bad, 3, 0.1))!;
        Assert.That(runner.LastStepReplayed, Is.True, "the step was a replay");
        Assert.That(e.Message, Does.Contain("label 99 is outside [0, 4)"));
    }

    [Test]
    public void AShortLastBatchRunsEagerlyUntilItsOwnGraphIsWarm()
    {
        using var gpu = Gpu();
        var g = BnDropoutNet();
        // Steps 0..5: 2, 2, 2, 1, 2, 1 examples: the short batch's first steps run eagerly on its own executor.
        Func<long, int> sizes = s => s is 3 or 5 ? 1 : 2;
        var eager = Train(gpu, g, capture: false, sizes);
        var graph = Train(gpu, g, capture: true, sizes);
        Assert.That(graph.Runner.Reason, Is.Null);
        Assert.That(graph.Runner.Replays, Is.EqualTo(2), "steps 2 and 4 (full batches) replay; the short ones are still warming up");
        Assert.That(graph.Losses, Is.EqualTo(eager.Losses));
        Assert.That(graph.Weights, Is.EqualTo(eager.Weights));
    }

    [Test]
    public void ASynchronisationInsideTheStepIsCaughtWithItsName()
    {
        using var gpu = Gpu();
        var graph = gpu.TryCapture(() => gpu.Stream.Synchronize(), out var reason);
        Assert.That(graph, Is.Null);
        Assert.That(reason, Does.Contain("cuStreamSynchronize").And.Contain("CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED"));
        AssertStillWorks(gpu);
    }

    [Test]
    public void AHostReadInsideTheStepIsCaughtAndTheRunGoesOnEagerly()
    {
        using var gpu = Gpu();
        var g = BnDropoutNet();
        using var parameters = new ParameterBuffers(g, gpu);
        parameters.Initialize(3);
        using var opt = new Sgd(parameters, 0.9, 0, unitGain: false);
        using var exec = new Executor(g, gpu, 2, parameters) { Seed = 5 };
        var log = new List<string>();
        using var runner = new StepRunner(opt, g.Loss!, capture: true, log.Add);
        // A metrics callback that reads the logits back (as a careless scorer would) inside the step.
        var losses = Enumerable.Range(0, 4).Select(s => runner.Run(exec, MakeBatch(g, 2, s), s, 0.05, () => exec.Read(g.Output("logits")))).ToArray();
        Assert.That(runner.Reason, Does.Contain("download").And.Contain("Executor"));
        Assert.That(runner.Replays, Is.Zero);
        Assert.That(log, Has.Some.StartsWith("cuda graph: off, steps run eagerly: the step makes a host download"));
        Assert.That(losses, Has.All.Matches<double>(double.IsFinite), "the steps ran eagerly");
    }

    [Test]
    public void AnAllocationInsideTheStepIsCaught()
    {
        using var gpu = Gpu();
        Graph.Buffer? b = null;
        var graph = gpu.TryCapture(() => b = gpu.Allocate(1 << 20, DataType.F32), out var reason);
        b?.Dispose();
        Assert.That(graph, Is.Null);
        Assert.That(reason, Does.Contain("allocated or freed device memory").Or.Contain("cuMemAlloc"));
        AssertStillWorks(gpu);
    }

    private static void AssertStillWorks(CudaBackend gpu)
    {
        using var buffer = gpu.AllocateFloats(4);
        var slice = BufferSlice.Whole(buffer);
        gpu.Upload(slice, new float[] { 1, 2, 3, 4 });
        var back = new float[4];
        gpu.Download(slice, back);
        Assert.That(back, Is.EqualTo(new float[] { 1, 2, 3, 4 }), "the backend works eagerly after the failed capture");
    }
}
