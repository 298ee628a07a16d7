using System.Reflection;
using System.Runtime.InteropServices;

namespace Engine.Data.Codecs;

/// <summary>
/// Checks once that a native image library can be loaded, so that a missing one is reported as
/// one clear <see cref="ImageLibraryException"/> naming the Debian package instead of a
/// <see cref="DllNotFoundException"/> from deep inside a decode.
/// </summary>
internal sealed class NativeImageLibrary(string fileName, string description, string debianPackage)
{
    private readonly Lazy<Exception?> _failure = new(() => Probe(fileName, description, debianPackage));

    public string FileName { get; } = fileName;

    /// <summary>Throws <see cref="ImageLibraryException"/> when the library cannot be loaded.</summary>
    public void Ensure()
    {
        if (_failure.Value is { } e) throw e;
    }

    private static Exception? Probe(string fileName, string description, string debianPackage)
    {
        if (NativeLibrary.TryLoad(fileName, Assembly.GetExecutingAssembly(), null, out _)) return null;
        return new ImageLibraryException(
            $"{fileName} ({description}) could not be loaded; install the Debian package {debianPackage} " +
            $"(apt-get install {debianPackage}) or put the library on LD_LIBRARY_PATH");
    }

    public static readonly NativeImageLibrary TurboJpeg = new(TurboJpegNative.Library, "libjpeg-turbo TurboJPEG 2.1", "libturbojpeg0");
    public static readonly NativeImageLibrary Spng = new(SpngNative.Library, "libspng 0.7", "libspng0");
}
