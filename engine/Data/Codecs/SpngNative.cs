using System.Runtime.InteropServices;

namespace Engine.Data.Codecs;

/// <summary>Our own bindings to libspng 0.7 (spng.h), only the entry points we call.</summary>
internal static unsafe partial class SpngNative
{
    /// <summary>A logical name: <see cref="NativeImageLibrary"/> loads libspng.so.0 or spng.dll for it.</summary>
    public const string Library = "engine-spng";

    // enum spng_ctx_flags
    public const int SPNG_CTX_ENCODER = 2;

    // enum spng_format
    public const int SPNG_FMT_RGBA8 = 1;
    public const int SPNG_FMT_RGB8 = 4;
    public const int SPNG_FMT_G8 = 64;
    public const int SPNG_FMT_PNG = 256;

    // enum spng_color_type
    public const byte SPNG_COLOR_TYPE_GRAYSCALE = 0;
    public const byte SPNG_COLOR_TYPE_TRUECOLOR = 2;
    public const byte SPNG_COLOR_TYPE_INDEXED = 3;
    public const byte SPNG_COLOR_TYPE_GRAYSCALE_ALPHA = 4;
    public const byte SPNG_COLOR_TYPE_TRUECOLOR_ALPHA = 6;

    // enum spng_option
    public const int SPNG_ENCODE_TO_BUFFER = 12;

    // enum spng_encode_flags
    public const int SPNG_ENCODE_FINALIZE = 2;

    [StructLayout(LayoutKind.Sequential)]
    public struct Ihdr
    {
        public uint Width;
        public uint Height;
        public byte BitDepth;
        public byte ColorType;
        public byte CompressionMethod;
        public byte FilterMethod;
        public byte InterlaceMethod;
    }

    /// <summary>struct spng_plte: n_entries, then 256 entries of (red, green, blue, alpha-reserved).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Plte
    {
        public uint NEntries;
        public fixed byte Entries[256 * 4];
    }

    [LibraryImport(Library)] public static partial nint spng_ctx_new(int flags);
    [LibraryImport(Library)] public static partial void spng_ctx_free(nint ctx);
    [LibraryImport(Library)] public static partial int spng_set_png_buffer(nint ctx, byte* buf, nuint size);
    [LibraryImport(Library)] public static partial int spng_set_image_limits(nint ctx, uint width, uint height);
    [LibraryImport(Library)] public static partial int spng_get_ihdr(nint ctx, Ihdr* ihdr);
    [LibraryImport(Library)] public static partial int spng_get_plte(nint ctx, Plte* plte);
    [LibraryImport(Library)] public static partial int spng_decoded_image_size(nint ctx, int fmt, nuint* len);
    [LibraryImport(Library)] public static partial int spng_decode_image(nint ctx, byte* output, nuint len, int fmt, int flags);
    [LibraryImport(Library)] public static partial int spng_set_ihdr(nint ctx, Ihdr* ihdr);
    [LibraryImport(Library)] public static partial int spng_set_plte(nint ctx, Plte* plte);
    [LibraryImport(Library)] public static partial int spng_set_option(nint ctx, int option, int value);
    [LibraryImport(Library)] public static partial int spng_encode_image(nint ctx, byte* img, nuint len, int fmt, int flags);
    [LibraryImport(Library)] public static partial void* spng_get_png_buffer(nint ctx, nuint* len, int* error);
    [LibraryImport(Library)] public static partial byte* spng_strerror(int err);

    public static string ErrorText(int code)
        => Marshal.PtrToStringUTF8((nint)spng_strerror(code)) ?? $"libspng error {code}";
}
