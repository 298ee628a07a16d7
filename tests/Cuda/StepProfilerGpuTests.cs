using Engine.Cuda;
using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;
using Engine.Tests.Profiling;

namespace Engine.Tests.Cuda;

/// <summary>The step profiler on a CUDA backend: event pairs on the stream, read after one synchronise per step.</summary>
[Category("Gpu")]
public class StepProfilerGpuTests
{
    [Test]
    public void EveryNodeIsTimedWithStreamEvents()
    {
        GpuAvailability.Require();
        if (!Engine.Cuda.Native.NativeLibraries.TryLoadCudnn(out var why)) Assert.Ignore($"needs cuDNN: {why}");
        var graph = NetRegistry.Build("segnet", new NetOptions { Width = 1.0 / 8, Input = new Shape(3, 16, 16), Classes = 3 });
        using var gpu = CudaBackend.Create(0);
        if (gpu.Kernels.EntryNames.Count == 0) Assert.Ignore("no PTX embedded (nvcc absent at build time)");
        using var exec = new Executor(graph, gpu, 2) { Seed = 1 };
        exec.Parameters.Initialize(1);
        StepProfilerTests.SetInputs(exec);
        using var profiler = new StepProfiler(gpu);
        using (var timeline = gpu.CreateTimeline()) Assert.That(timeline, Is.Not.InstanceOf<HostTimeline>(), "the GPU times on its stream");
        exec.Profiler = profiler;
        for (int step = 0; step < 2; step++)
        {
            profiler.BeginStep();
            StepProfilerTests.TrainingStep(exec);
            profiler.EndStep();
        }

        var p = profiler.Summary();
        Assert.That(p.Steps, Is.EqualTo(2));
        Assert.That(p.Nodes.Select(n => n.Node), Is.EqualTo(graph.Nodes));
        foreach (var n in p.Nodes)
        {
            Assert.That(n.ForwardMs, Is.Not.Null.And.GreaterThanOrEqualTo(0).And.LessThan(double.PositiveInfinity), $"{n.Node} forward");
            Assert.That(n.BackwardMs, Is.Not.Null.And.GreaterThanOrEqualTo(0).And.LessThan(double.PositiveInfinity), $"{n.Node} backward");
        }
        Assert.That(p.StepMs, Is.GreaterThan(0));
        Assert.That(gpu.HostFallbacks, Is.Empty, "the timings are of GPU paths");
    }
}
