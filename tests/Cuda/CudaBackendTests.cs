using Engine.Cuda;
using Engine.Cuda.Native;

namespace Engine.Tests.Cuda;

public class CudaBackendTests
{
    [Test]
    public void CreateWithoutAGpuFailsWithOneLineSayingWhy()
    {
        if (GpuAvailability.Reason() is null) Assert.Ignore("a GPU is present");
        var e = Assert.Throws<CudaUnavailableException>(() => CudaBackend.Create(0))!;
        TestContext.Out.WriteLine(e.Message);
        Assert.That(e.Message, Does.StartWith("GPU 0 is not usable: ").And.Not.Contain("\n"));
        if (NativeLibraries.TryLoadDriver(out _)) Assert.That(e.Message, Does.Match(@"cuInit returned CUDA_ERROR_\w+|no CUDA device"));
    }

    [Test, Category("Gpu")]
    public void CreateWithAMissingOrdinalNamesTheDevicesThereAre()
    {
        GpuAvailability.Require();
        var e = Assert.Throws<CudaUnavailableException>(() => CudaBackend.Create(CudaDevice.Count()))!;
        Assert.That(e.Message, Does.Contain($"GPU {CudaDevice.Count()} does not exist"));
    }

    [Test, Category("Gpu")]
    public void BuffersRoundTripAndZero()
    {
        GpuAvailability.Require();
        using var gpu = CudaBackend.Create(0);
        using var f = gpu.Allocate(1000, Engine.Tensors.DataType.F32);
        using var i = gpu.Allocate(10, Engine.Tensors.DataType.I32);
        var values = Enumerable.Range(0, 1000).Select(v => v * 0.5).ToArray();
        gpu.Upload(Graph.BufferSlice.Whole(f), values);
        gpu.Upload(Graph.BufferSlice.Whole(i), Enumerable.Range(-5, 10).ToArray());
        gpu.Zero(new Graph.BufferSlice(f, 10, 5));
        var back = new double[1000];
        gpu.Download(Graph.BufferSlice.Whole(f), back);
        var ints = new int[10];
        gpu.Download(Graph.BufferSlice.Whole(i), ints);
        Assert.That(back[..10], Is.EqualTo(values[..10]));
        Assert.That(back[10..15], Is.All.Zero);
        Assert.That(back[15..], Is.EqualTo(values[15..]));
        Assert.That(ints, Is.EqualTo(Enumerable.Range(-5, 10).ToArray()));
    }

    [Test, Category("Gpu")]
    public void EmbeddedKernelsLoadOnThisGpu()
    {
        GpuAvailability.Require();
        using var gpu = CudaBackend.Create(0);
        if (gpu.Kernels.EntryNames.Count == 0) Assert.Ignore("no PTX embedded (nvcc absent at build time)");
        foreach (var name in gpu.Kernels.EntryNames) Assert.DoesNotThrow(() => gpu.Kernels.Get(name), name);
    }
}
