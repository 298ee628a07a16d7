using System.Runtime.InteropServices;

namespace Engine.Data.Codecs;

/// <summary>
/// Our own bindings to the TurboJPEG 2.1 C API of libjpeg-turbo (turbojpeg.h), only the entry
/// points we call. No tj3* functions: Debian 12 ships TurboJPEG 2.1.
/// </summary>
internal static unsafe partial class TurboJpegNative
{
    /// <summary>A logical name: <see cref="NativeImageLibrary"/> loads libturbojpeg.so.0 or turbojpeg.dll for it.</summary>
    public const string Library = "engine-turbojpeg";

    // enum TJPF
    public const int TJPF_RGB = 0;
    public const int TJPF_GRAY = 6;
    public const int TJPF_CMYK = 11;

    // enum TJCS
    public const int TJCS_RGB = 0;
    public const int TJCS_YCbCr = 1;
    public const int TJCS_GRAY = 2;
    public const int TJCS_CMYK = 3;
    public const int TJCS_YCCK = 4;

    // enum TJSAMP
    public const int TJSAMP_444 = 0;
    public const int TJSAMP_420 = 2;
    public const int TJSAMP_GRAY = 3;

    // enum TJERR
    public const int TJERR_WARNING = 0;
    public const int TJERR_FATAL = 1;

    [StructLayout(LayoutKind.Sequential)]
    public struct ScalingFactor
    {
        public int Num;
        public int Denom;
    }

    [LibraryImport(Library)] public static partial nint tjInitDecompress();
    [LibraryImport(Library)] public static partial nint tjInitCompress();
    [LibraryImport(Library)] public static partial int tjDestroy(nint handle);

    [LibraryImport(Library)]
    public static partial int tjDecompressHeader3(nint handle, byte* jpegBuf, CULong jpegSize,
        int* width, int* height, int* jpegSubsamp, int* jpegColorspace);

    [LibraryImport(Library)]
    public static partial int tjDecompress2(nint handle, byte* jpegBuf, CULong jpegSize, byte* dstBuf,
        int width, int pitch, int height, int pixelFormat, int flags);

    [LibraryImport(Library)] public static partial ScalingFactor* tjGetScalingFactors(int* numScalingFactors);

    [LibraryImport(Library)]
    public static partial int tjCompress2(nint handle, byte* srcBuf, int width, int pitch, int height, int pixelFormat,
        byte** jpegBuf, CULong* jpegSize, int jpegSubsamp, int jpegQual, int flags);

    [LibraryImport(Library)] public static partial void tjFree(byte* buffer);
    [LibraryImport(Library)] public static partial byte* tjGetErrorStr2(nint handle);
    [LibraryImport(Library)] public static partial int tjGetErrorCode(nint handle);

    public static string ErrorText(nint handle)
        => Marshal.PtrToStringUTF8((nint)tjGetErrorStr2(handle)) ?? "unknown TurboJPEG error";
}
