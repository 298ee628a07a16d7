using System.Reflection;
using System.Runtime.InteropServices;
using Engine.Cuda.Native;

namespace Engine.Data.Codecs;

/// <summary>
/// Loads a native image library once by this OS's file name and serves it to the bindings'
/// logical name (<see cref="TurboJpegNative.Library"/>, <see cref="SpngNative.Library"/>), so that
/// a missing one is reported as one clear <see cref="ImageLibraryException"/> naming where to get
/// it instead of a <see cref="DllNotFoundException"/> from deep inside a decode.
/// </summary>
internal sealed class NativeImageLibrary
{
    private readonly string _logicalName;
    private readonly string _description;
    private readonly string _linuxFile, _debianPackage, _windowsFile, _vcpkgPort;
    private readonly Lazy<Exception?> _failure;

    private NativeImageLibrary(string logicalName, string description, string linuxFile, string debianPackage, string windowsFile, string vcpkgPort)
    {
        (_logicalName, _description, _linuxFile, _debianPackage, _windowsFile, _vcpkgPort) =
            (logicalName, description, linuxFile, debianPackage, windowsFile, vcpkgPort);
        _failure = new(() => Probe(SearchPlatform.Current));
    }

    public static readonly NativeImageLibrary TurboJpeg = new(TurboJpegNative.Library, "libjpeg-turbo TurboJPEG 2.1", "libturbojpeg.so.0", "libturbojpeg0", "turbojpeg.dll", "libjpeg-turbo");
    public static readonly NativeImageLibrary Spng = new(SpngNative.Library, "libspng 0.7", "libspng.so.0", "libspng0", "spng.dll", "libspng");

    /// <summary>This OS's file name.</summary>
    public string FileName(OsFamily os) => os == OsFamily.Windows ? _windowsFile : _linuxFile;

    /// <summary>Throws <see cref="ImageLibraryException"/> when the library cannot be loaded.</summary>
    public void Ensure()
    {
        if (_failure.Value is { } e) throw e;
    }

    /// <summary>
    /// What is tried, in order: the bare file name (the runtime's probing: the application folder,
    /// then LD_LIBRARY_PATH or, on Windows, System32 and PATH), then on Windows the folders of a
    /// vcpkg installation (VCPKG_ROOT) and of libjpeg-turbo's own installer.
    /// </summary>
    public IReadOnlyList<string> Candidates(SearchPlatform p)
    {
        var file = FileName(p.Os);
        var result = new List<string> { file };
        if (!p.IsWindows) return result;
        if (p.Environment("VCPKG_ROOT") is { Length: > 0 } vcpkg)
            result.Add(p.Join(vcpkg, "installed", "x64-windows", "bin", file));
        if (this == TurboJpeg) result.Add(p.Join(@"C:\libjpeg-turbo64", "bin", file));
        return result;
    }

    /// <summary>The message for a library that none of the candidates provided.</summary>
    public string MissingMessage(OsFamily os) => os == OsFamily.Windows
        ? $"{_windowsFile} ({_description}) could not be loaded; install it with vcpkg (vcpkg install {_vcpkgPort}:x64-windows) " +
          $"and put %VCPKG_ROOT%\\installed\\x64-windows\\bin on PATH, or put the folder holding {_windowsFile} on PATH"
        : $"{_linuxFile} ({_description}) could not be loaded; install the Debian package {_debianPackage} " +
          $"(apt-get install {_debianPackage}) or put the library on LD_LIBRARY_PATH";

    private Exception? Probe(SearchPlatform p)
    {
        var assembly = Assembly.GetExecutingAssembly();
        foreach (var candidate in Candidates(p))
        {
            bool isPath = candidate != FileName(p.Os);
            if (isPath && !p.FileExists(candidate)) continue;
            if (isPath ? NativeLibrary.TryLoad(candidate, out var h) : NativeLibrary.TryLoad(candidate, assembly, null, out h))
            {
                NativeLibraries.Register(_logicalName, h);
                return null;
            }
        }
        return new ImageLibraryException(MissingMessage(p.Os));
    }
}
