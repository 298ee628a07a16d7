using Engine.Cuda;
using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;
using Engine.Training.Optimizers;

namespace Engine.Tests.Cuda;

/// <summary>
/// A frozen backbone on the GPU: gradient memory for the head alone, the backbone's weights and
/// running statistics bitwise unchanged, and the head's update that of the CPU within float tolerance.
/// </summary>
[Category("Gpu")]
public class FrozenBackboneGpuTests
{
    private const int Batch = 2, Classes = 3;

    [Test]
    public void A_frozen_backbone_stays_fixed_and_the_head_follows_the_cpu()
    {
        GpuAvailability.Require();
        if (!Engine.Cuda.Native.NativeLibraries.TryLoadCudnn(out var why)) Assert.Ignore($"needs cuDNN: {why}");
        var g = NetRegistry.Build("vovnet57-seg", new NetOptions { Input = new Shape(3, 32, 32), Classes = Classes, Width = 1.0 / 16 });
        using var gpu = CudaBackend.Create(0);
        if (gpu.Kernels.EntryNames.Count == 0) Assert.Ignore("no PTX embedded (nvcc absent at build time)");

        long before = gpu.Allocator.BytesInUse;
        var (gpuValues, gpuStates, initialValues, initialStates, trainable) = Train(gpu, g, () =>
        {
            long Block(long elements) => DeviceAllocator.SizeClass(Math.Max(elements * 4, 4));
            long head = g.Parameters.Count - g.BackboneParameterCount;
            return Block(g.Parameters.Count) + Block(head) + Block(g.States.Count) + Block(head);   // values, gradients, states, momentum
        }, before);
        Assert.That(gpu.HostFallbacks, Is.Empty, "every op ran its GPU path");
        using var cpu = new CpuBackend<float>();
        var (cpuValues, _, _, _, _) = Train(cpu, g, null, 0);

        int frozen = (int)g.BackboneParameterCount;
        Assert.That(gpuValues.Take(frozen), Is.EqualTo(initialValues.Take(frozen)), "backbone weights, bitwise");
        foreach (var v in g.States.Views.Where(v => g.Nodes.Any(n => g.InBackbone(n) && n.States.Contains(v))))
            Assert.That(gpuStates.AsSpan((int)v.Offset, (int)v.Count).ToArray(), Is.EqualTo(initialStates.AsSpan((int)v.Offset, (int)v.Count).ToArray()), v.Name);
        double scale = cpuValues.Skip(frozen).Max(Math.Abs);
        for (int i = frozen; i < cpuValues.Length; i++)
            Assert.That(gpuValues[i], Is.EqualTo(cpuValues[i]).Within(1e-4 * scale), $"head parameter element {i}");
        Assert.That(trainable, Is.EqualTo(g.Parameters.Count - frozen));
    }

    private static (double[] Values, double[] States, double[] InitialValues, double[] InitialStates, long Trainable) Train(Backend backend, Engine.Graph.Graph g, Func<long>? expectedBytes, long before)
    {
        using var p = new ParameterBuffers(g, backend, freezeBackbone: true);
        using var sgd = new Sgd(p, 0.9, 5e-3, unitGain: false);
        if (expectedBytes is not null && backend is CudaBackend gpu)
            Assert.That(gpu.Allocator.BytesInUse - before, Is.EqualTo(expectedBytes()), "no gradient or momentum memory for the backbone");
        p.Initialize(5);
        var (values, states) = (p.GetValues(), p.GetStates());
        using var exec = new Executor(g, backend, Batch, p);
        for (int step = 0; step < 2; step++)
        {
            var rng = new Rng(100 + (ulong)step);
            exec.SetInput("image", Enumerable.Range(0, (int)exec.ShapeOf(g.Input("image")).Numel).Select(_ => (float)rng.NextUniform(0, 1)).ToArray());
            exec.SetInput("label", Enumerable.Range(0, (int)exec.ShapeOf(g.Input("label")).Numel).Select(i => (i / 37 + step) % Classes).ToArray());
            exec.Forward(training: true);
            p.ZeroGrads();
            exec.Backward();
            sgd.Step(0.05);
        }
        return (p.GetValues(), p.GetStates(), values, states, p.TrainableCount);
    }
}
