using Engine.Cuda.Native;

namespace Engine.Tests.Cuda;

/// <summary>The candidate file names of the CUDA libraries per OS, as data.</summary>
public class NativeLibraryNamesTests
{
    [Test]
    public void Windows_names_carry_the_version_in_the_file_name()
    {
        var w = NativeLibraryNames.Windows;
        Assert.That(w.Driver.FileNames, Is.EqualTo(new[] { "nvcuda.dll" }));
        Assert.That(w.Cublas.FileNames, Is.EqualTo(new[] { "cublas64_13.dll", "cublas64_12.dll", "cublas64_11.dll" }));
        Assert.That(w.CublasLt.FileNames, Is.EqualTo(new[] { "cublasLt64_13.dll", "cublasLt64_12.dll", "cublasLt64_11.dll" }));
        Assert.That(w.Cudnn.FileNames, Is.EqualTo(new[] { "cudnn64_9.dll" }));
        Assert.That(w.CudnnRequiredParts, Is.EqualTo(new[] { "cudnn_graph64_9.dll", "cudnn_ops64_9.dll", "cudnn_cnn64_9.dll" }));
        Assert.That(w.CudnnOptionalParts, Has.All.Match(@"^cudnn_\w+64_9\.dll$"));
        Assert.That(w.Nvrtc.FileNames[0], Is.EqualTo("nvrtc64_130_0.dll"));
    }

    [Test]
    public void Linux_names_are_the_sonames()
    {
        var l = NativeLibraryNames.Linux;
        Assert.That(l.Driver.FileNames, Is.EqualTo(new[] { "libcuda.so.1" }));
        Assert.That(l.Cublas.FileNames, Is.EqualTo(new[] { "libcublas.so.13", "libcublas.so.12", "libcublas.so.11" }));
        Assert.That(l.Cudnn.FileNames, Is.EqualTo(new[] { "libcudnn.so.9" }));
        Assert.That(l.CudnnRequiredParts, Is.EqualTo(new[] { "libcudnn_graph.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9" }));
        Assert.That(l.CudnnOptionalParts, Has.All.Match(@"^libcudnn_\w+\.so\.9$"));
    }

    [Test]
    public void CublasLt_of_the_same_version_as_the_cublas_found()
    {
        Assert.That(NativeLibraryNames.Linux.CublasLtFor("libcublas.so.12"), Is.EqualTo("libcublasLt.so.12"));
        Assert.That(NativeLibraryNames.Windows.CublasLtFor("CUBLAS64_11.DLL"), Is.EqualTo("cublasLt64_11.dll"));
        Assert.That(NativeLibraryNames.Windows.CublasLtFor("libcublas.so.12"), Is.Null);
    }

    [Test]
    public void Nccl_is_Linux_only()
    {
        Assert.That(NativeLibraryNames.Linux.Nccl!.FileNames, Is.EqualTo(new[] { "libnccl.so.2" }));
        Assert.That(NativeLibraryNames.Windows.Nccl, Is.Null);
        Assert.That(NativeLibraryNames.NcclUnavailable, Does.Contain("Linux only"));
    }

    [Test]
    public void This_machine_uses_its_own_OS_names()
    {
        var expected = OperatingSystem.IsWindows() ? NativeLibraryNames.Windows : NativeLibraryNames.Linux;
        Assert.That(NativeLibraries.Names, Is.SameAs(expected));
        Assert.That(NativeLibraries.CudnnSpec, Is.SameAs(expected.Cudnn));
    }
}
