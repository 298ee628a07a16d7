using Engine.Cuda.Native;
using Engine.Data.Codecs;
using Engine.Tests.Cuda;

namespace Engine.Tests.Data;

/// <summary>Which files the image codecs' libraries are loaded from on each OS, and what a missing one says, as data.</summary>
public class NativeImageLibraryTests
{
    [Test]
    public void Linux_loads_the_sonames_through_the_loaders_path()
    {
        var linux = new FakeFileTree(OsFamily.Linux).Platform;
        Assert.That(NativeImageLibrary.TurboJpeg.Candidates(linux), Is.EqualTo(new[] { "libturbojpeg.so.0" }));
        Assert.That(NativeImageLibrary.Spng.Candidates(linux), Is.EqualTo(new[] { "libspng.so.0" }));
        Assert.That(NativeImageLibrary.Spng.MissingMessage(OsFamily.Linux), Does.Contain("apt-get install libspng0"));
    }

    [Test]
    public void Windows_loads_the_dlls_from_PATH_then_vcpkg_and_the_libjpeg_turbo_installer()
    {
        var windows = new FakeFileTree(OsFamily.Windows, new() { ["VCPKG_ROOT"] = @"C:\src\vcpkg" }).Platform;

        Assert.That(NativeImageLibrary.TurboJpeg.Candidates(windows), Is.EqualTo(new[]
        {
            "turbojpeg.dll", @"C:\src\vcpkg\installed\x64-windows\bin\turbojpeg.dll", @"C:\libjpeg-turbo64\bin\turbojpeg.dll",
        }));
        Assert.That(NativeImageLibrary.Spng.Candidates(windows), Is.EqualTo(new[] { "spng.dll", @"C:\src\vcpkg\installed\x64-windows\bin\spng.dll" }));
        Assert.That(NativeImageLibrary.Spng.MissingMessage(OsFamily.Windows),
            Does.Contain("spng.dll").And.Contain("vcpkg install libspng:x64-windows").And.Contain("PATH"));
    }

    [Test]
    public void The_bindings_use_logical_names_that_the_engine_resolves()
    {
        Assert.That(TurboJpegNative.Library, Does.Not.Contain(".so").And.Not.Contain(".dll"));
        Assert.That(SpngNative.Library, Does.Not.Contain(".so").And.Not.Contain(".dll"));
    }
}
