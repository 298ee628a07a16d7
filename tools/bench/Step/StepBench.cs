using System.Diagnostics;
using Engine.Cuda;
using Engine.Graph;
using Engine.Tensors;
using Engine.Training.Checkpoints;
using Engine.Training.Optimizers;

namespace Engine.Bench.Step;

/// <summary>
/// One training step of a net on one backend: zero the gradients, forward, backward from the
/// loss, the backend's own optimizer update, then wait for the backend. The inputs (random
/// images in [0, 1), random labels) are set once and stay where the backend keeps them, as the
/// PyTorch twin keeps its tensors on the device. With CUDA graphs asked for, on a backend that can
/// capture, the device half of the step is captured after two eager steps and replayed (as `host
/// train --cuda-graph on` does); profiled steps always run eagerly, node by node.
/// </summary>
public sealed class StepBench : IDisposable
{
    public const double LearningRate = 0.001;
    private const int EagerBeforeCapture = 2;
    private readonly Optimizer _optimizer;
    private readonly bool _cudaGraph;
    private IStepGraph? _graph;
    private int _eagerSteps;

    public StepBench(Graph.Graph graph, Backend backend, int batch, string optimizer, bool cudaGraph = false)
    {
        _cudaGraph = cudaGraph && backend is IStepCapture;
        Backend = backend;
        Executor = new Executor(graph, backend, batch) { Seed = 1 };
        Executor.Parameters.Initialize(1);
        _optimizer = optimizer == "adam" ? new Adam(Executor.Parameters) : new Sgd(Executor.Parameters, momentum: 0, weightDecay: 0, unitGain: false);

        var rng = new Rng(3);
        var x = new float[Executor.ShapeOf(graph.Input("image")).Numel];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
        var y = new int[Executor.ShapeOf(graph.Input("label")).Numel];
        int classes = Executor.ShapeOf(graph.Output("logits"))[1];
        for (int i = 0; i < y.Length; i++) y[i] = rng.NextInt(classes);
        Executor.SetInput("image", x);
        Executor.SetInput("label", y);
        backend.Synchronize();
    }

    public Backend Backend { get; }
    public Executor Executor { get; }

    /// <summary>Forward multiply-accumulates of one step (all images of the batch), as `host info` counts them.</summary>
    public long MultiplyAccumulates => Executor.Graph.MultiplyAccumulates * Executor.Batch;

    /// <summary>Floating-point operations of one training step: forward, and backward as twice the forward, 2 per multiply-accumulate.</summary>
    public double Flops => 3.0 * 2.0 * MultiplyAccumulates;

    /// <summary>The largest amount of device memory in use so far (allocator peak), or null on the CPU.</summary>
    public long? PeakDeviceBytes => (Backend as CudaBackend)?.Allocator.PeakBytesInUse;

    public void SaveWeights(string path) => WeightFile.Save(path, Executor.Parameters);

    /// <summary>"on" once a step was captured, "off: reason" when the capture failed, null when not asked for (or on the CPU).</summary>
    public string? CudaGraphState { get; private set; }

    /// <summary>Runs one step and returns its wall time in ms (host clock, after the backend finished).</summary>
    public double Step(StepProfiler? profiler = null)
    {
        if (profiler is null && _cudaGraph && CudaGraphState?.StartsWith("off") != true) return GraphStep();
        long start = Stopwatch.GetTimestamp();
        Executor.Profiler = profiler;
        profiler?.BeginStep();
        profiler?.BeginSection("zero grads");
        Executor.Parameters.ZeroGrads();
        profiler?.EndSection("zero grads");
        Executor.Forward(training: true);
        Executor.Backward();
        profiler?.BeginSection("optimizer");
        _optimizer.Step(LearningRate);
        profiler?.EndSection("optimizer");
        if (profiler is not null) profiler.EndStep();
        else Backend.Synchronize();
        Executor.Profiler = null;
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>A step as `host train` runs it with --cuda-graph on: the optimizer's scalars written, then the device half eagerly (warm-up) or replayed.</summary>
    private double GraphStep()
    {
        long start = Stopwatch.GetTimestamp();
        _optimizer.Prepare(LearningRate);
        if (_graph is null && _eagerSteps++ >= EagerBeforeCapture)
        {
            _graph = ((IStepCapture)Backend).TryCapture(DeviceHalf, out var reason);
            CudaGraphState = _graph is null ? "off: " + reason : "on";
        }
        if (_graph?.TryLaunch() != true)
        {
            _graph?.Dispose();
            _graph = null;
            DeviceHalf();
        }
        Backend.Synchronize();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private void DeviceHalf()
    {
        Executor.Parameters.ZeroGrads();
        Executor.Forward(training: true);
        Executor.Backward();
        _optimizer.Apply();
    }

    public void Dispose()
    {
        _graph?.Dispose();
        _optimizer.Dispose();
        Executor.Dispose();
    }
}
