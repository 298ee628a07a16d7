using Engine.Cuda;
using Engine.Graph;
using Engine.Training.Optimizers;

namespace Engine.Tests.Cuda;

/// <summary>The optimizer kernels against the reference update on the CPU backend, over several steps.</summary>
[Category("Gpu")]
public class OptimizerGpuTests
{
    private const int Count = 10_001;

    [TestCase(false)]
    [TestCase(true)]
    public void SgdMatchesTheCpu(bool unitGain)
    {
        var u = new SgdUpdate(0.05, 0.9, 1e-4, unitGain);
        Compare(3, (b, s, _) => u.Run(b, s[0], s[1], s[2]));
    }

    [Test]
    public void AdamMatchesTheCpu() =>
        Compare(4, (b, s, t) => new AdamUpdate(1e-3, 0.9, 0.999, 1e-8, 1e-4, t).Run(b, s[0], s[1], s[2], s[3]));

    /// <summary>Runs <paramref name="update"/> for steps 1..3 on both backends from the same start (values, grads, then zeroed optimizer state).</summary>
    private static void Compare(int slices, Action<Backend, BufferSlice[], long> update)
    {
        GpuAvailability.Require();
        using var gpu = CudaBackend.Create(0);
        if (!gpu.Kernels.Contains("sgd_momentum_f32")) Assert.Ignore("no PTX embedded (nvcc absent at build time)");
        using var cpu = new CpuBackend<double>();
        var rng = new Random(5);
        var start = Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, Count).Select(_ => (double)(float)(rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var c = Make(cpu, slices, start);
        var g = Make(gpu, slices, start);
        for (long t = 1; t <= 3; t++)
        {
            update(cpu, c, t);
            update(gpu, g, t);
        }
        Assert.That(gpu.HostFallbacks, Is.Empty, "the update runs on the optimizer kernels");
        for (int s = 0; s < slices; s++)
        {
            if (s == 1) continue; // gradients are read, not written
            var expected = new double[Count];
            var actual = new double[Count];
            cpu.Download(c[s], expected);
            gpu.Download(g[s], actual);
            Assert.That(actual, Is.EqualTo(expected).Within(1e-5), $"slice {s}");
        }
        Assert.That(gpu.HostFallbacks, Is.Empty, "the update ran its kernel, not the host copy");
    }

    private static BufferSlice[] Make(Backend b, int slices, double[][] start)
    {
        var r = new BufferSlice[slices];
        for (int s = 0; s < slices; s++)
        {
            r[s] = BufferSlice.Whole(b.AllocateFloats(Count));
            if (s < 2) b.Upload(r[s], start[s]);
            else b.Zero(r[s]);
        }
        return r;
    }
}
