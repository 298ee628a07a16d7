using Engine.Cuda;
using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;

namespace Engine.Tests.Cuda;

/// <summary>
/// The memory-planned executor on the GPU: one arena of the planned size, OSA layers writing into
/// the concatenation (the fused BN+Mish's strided output, cuDNN reading strided inputs), ReLU over
/// its input (vgg11), and a training step equal to the executor that keeps every tensor and copies
/// every concatenation input.
/// </summary>
[Category("Gpu")]
public class PlannedExecutorGpuTests
{
    private const int Batch = 4;

    [TestCase("vovnet57")]
    [TestCase("segnet")]
    [TestCase("vgg11")]
    public void A_planned_step_matches_keeping_everything(string name)
    {
        GpuAvailability.Require();
        if (!Engine.Cuda.Native.NativeLibraries.TryLoadCudnn(out var why)) Assert.Ignore($"needs cuDNN: {why}");
        var net = NetRegistry.Find(name);
        var options = net.Segmentation
            ? new NetOptions { Width = 1.0 / 8, Input = new Shape(3, 32, 32), Classes = 5 }
            : new NetOptions { Width = 1.0 / 16, Input = new Shape(3, 64, 64), Classes = 4 };
        var g = NetRegistry.Build(name, options);
        using var gpu = CudaBackend.Create(0);
        if (gpu.Kernels.EntryNames.Count == 0) Assert.Ignore("no PTX embedded (nvcc absent at build time)");

        var (keptLoss, keptGrads, _) = Step(gpu, g, options, new ExecutorOptions { KeepAll = true, ConcatViews = false });
        long before = gpu.Allocator.BytesInUse;
        var (loss, grads, arena) = Step(gpu, g, options, new ExecutorOptions());
        Assert.That(loss, Is.EqualTo(keptLoss).Within(1e-5).Percent, "loss");
        double scale = keptGrads.Max(Math.Abs);
        for (int i = 0; i < grads.Length; i++)
            Assert.That(grads[i], Is.EqualTo(keptGrads[i]).Within(1e-5 * scale), $"parameter gradient element {i}");
        Assert.That(gpu.HostFallbacks, Is.Empty, "every op ran its GPU path");
        Assert.That(arena, Is.GreaterThan(0));
        Assert.That(gpu.Allocator.BytesInUse, Is.EqualTo(before), "the executor gave its arena back");
    }

    private static (double Loss, double[] Grads, long ArenaBytes) Step(CudaBackend gpu, Engine.Graph.Graph g, NetOptions options, ExecutorOptions mode)
    {
        long before = gpu.Allocator.BytesInUse;
        using var exec = new Executor(g, gpu, Batch, mode);
        // Exactly the planned arena (one allocation), the step counter dropout reads on the device,
        // and the parameter buffers (values, gradients, states), in the allocator's blocks.
        long Block(long elements, int size) => DeviceAllocator.SizeClass(Math.Max(elements * size, 4));
        long expected = Block(exec.Plan.ArenaBytes, 1) + Block(2, 4) + 2 * Block(Math.Max(1, g.Parameters.Count), 4) + Block(Math.Max(1, g.States.Count), 4);
        Assert.That(gpu.Allocator.BytesInUse - before, Is.EqualTo(expected), "device memory taken by the executor: its planned arena and parameters");
        exec.Parameters.Initialize(3);
        var rng = new Rng(5);
        exec.SetInput("image", Enumerable.Range(0, (int)exec.ShapeOf(g.Input("image")).Numel).Select(_ => (float)rng.NextNormal()).ToArray());
        int classes = options.Classes!.Value;
        exec.SetInput("label", Enumerable.Range(0, (int)exec.ShapeOf(g.Input("label")).Numel).Select(i => i % classes).ToArray());
        exec.Parameters.ZeroGrads();
        exec.Forward(training: true);
        exec.Backward();
        return (exec.Read(g.Loss!)[0], exec.Parameters.GetGrads(), exec.Plan.ArenaBytes);
    }
}
