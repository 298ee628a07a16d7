using Engine.Cuda;
using Engine.Cuda.Native;
using Host;

namespace Engine.Tests.Cuda;

public class DevicesInfoTests
{
    [Test]
    public void WithoutAGpuItIsOneLineSayingWhy()
    {
        if (GpuAvailability.Reason() is null) Assert.Ignore("a GPU is present: the no-GPU line does not apply");

        var lines = DevicesInfo.Lines();
        TestContext.Out.WriteLine(string.Join(Environment.NewLine, lines));

        Assert.That(lines, Has.Count.EqualTo(1));
        Assert.That(lines[0], Does.StartWith("CUDA: no GPU usable: "));
        if (NativeLibraries.TryLoadDriver(out _))
            Assert.That(lines[0], Does.Match(@"cuInit returned CUDA_ERROR_\w+|reports no devices"));
        else
            Assert.That(lines[0], Does.Contain("no driver library").And.Contain(NativeLibraries.DriverSpec.FileNames[0]).And.Contain(LibrarySearch.OverrideVariable));
    }

    [Test, Category("Gpu")]
    public void WithAGpuItListsEachDevice()
    {
        if (GpuAvailability.Reason() is { } why) Assert.Ignore(why);

        var lines = DevicesInfo.Lines();

        Assert.That(lines[0], Does.StartWith("CUDA driver ").And.Contain("cuBLAS").And.Contain("cuDNN"));
        Assert.That(lines, Has.Count.EqualTo(1 + CudaDevice.Count()));
        Assert.That(lines[1], Does.Match(@"^GPU 0: .+, \d+ SMs, [\d.]+ GiB, compute capability \d+\.\d+$"));
    }
}
