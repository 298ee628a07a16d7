using System.Buffers;

namespace Engine.Data.Codecs;

public enum ImageFormat { Unknown, Jpeg, Png }

/// <summary>Decodes JPEG and PNG files by their content (magic bytes), whatever the file name says.</summary>
public static class ImageDecoder
{
    public static ImageFormat Detect(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ImageFormat.Jpeg;
        if (data.StartsWith(PngSignature)) return ImageFormat.Png;
        return ImageFormat.Unknown;
    }

    /// <summary>
    /// Decodes to 1 (gray) or 3 (RGB) channels; throws <see cref="ImageDecodeException"/> with the
    /// reason. With a <paramref name="pool"/> the pixel array is rented from it (return it when done).
    /// </summary>
    public static Image8 Decode(ReadOnlySpan<byte> data, int channels = 3, DecodeHint? hint = null, ArrayPool<byte>? pool = null) => Detect(data) switch
    {
        ImageFormat.Jpeg => JpegCodec.Decode(data, channels, hint, pool),
        ImageFormat.Png => PngCodec.Decode(data, channels, pool),
        _ => throw new ImageDecodeException(DescribeUnknown(data)),
    };

    /// <summary>Decodes a label mask: a palette or 8-bit grayscale PNG.</summary>
    public static IndexedImage DecodeMask(ReadOnlySpan<byte> data) => Detect(data) switch
    {
        ImageFormat.Png => PngCodec.DecodeIndexed(data),
        ImageFormat.Jpeg => throw new ImageDecodeException("a JPEG cannot be a label mask (lossy); expected a palette PNG"),
        _ => throw new ImageDecodeException(DescribeUnknown(data)),
    };

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static string DescribeUnknown(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0) return "empty file (0 bytes)";
        string? other =
            data.StartsWith("GIF8"u8) ? "GIF" :
            data.StartsWith("BM"u8) ? "BMP" :
            data.Length >= 12 && data.StartsWith("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8) ? "WebP" :
            data.StartsWith("II*\0"u8) || data.StartsWith("MM\0*"u8) ? "TIFF" : null;
        if (other is not null) return $"unsupported image format {other} (only JPEG and PNG are read)";
        var head = Convert.ToHexString(data[..Math.Min(8, data.Length)]);
        return $"not a JPEG or PNG image (first bytes {head})";
    }
}
