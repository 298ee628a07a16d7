using Engine.Cuda.Native;

namespace Engine.Tests.Cuda;

public class NativeLibrariesTests
{
    [Test]
    public void CublasLoadsWhereTheToolkitIsInstalled()
    {
        if (!NativeLibraries.TryLoadCublas(out var why)) Assert.Ignore($"no cuBLAS on this machine: {why}");
        Assert.That(LibraryVersions.Cublas(), Does.Match(@"^\d+\.\d+\.\d+$"));
    }

    [Test]
    public void MissingCudnnIsAClearErrorNotACrash()
    {
        if (NativeLibraries.TryLoadCudnn(out _)) Assert.Ignore("cuDNN is installed here");
        var e = Assert.Throws<CudaLibraryNotFoundException>(() => LibraryVersions.Cudnn())!;
        Assert.That(e.Message, Does.Contain(NativeLibraries.CudnnSpec.FileNames[0]).And.Contain(LibrarySearch.OverrideVariable));
        // The failure is remembered: asking again gives the same answer without searching again.
        Assert.That(NativeLibraries.TryLoadCudnn(out var again), Is.False);
        Assert.That(again, Is.EqualTo(e.Message));
    }

    /// <summary>NCCL is loaded only for data-parallel GPU training; without it that is one line naming the library and where it was looked for.</summary>
    [Test]
    public void MissingNcclIsOneLineNamingTheLibrary()
    {
        if (NativeLibraries.TryLoadNccl(out _)) Assert.Ignore("NCCL is installed here");
        Assert.That(NativeLibraries.TryLoadNccl(out var why), Is.False);
        Assert.That(why, Does.Not.Contain('\n'));
        Assert.That(why, OperatingSystem.IsWindows() ? Is.EqualTo(NativeLibraryNames.NcclUnavailable)
            : Does.Contain("libnccl.so.2").And.Contain(LibrarySearch.OverrideVariable));
    }
}
