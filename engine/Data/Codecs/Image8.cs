namespace Engine.Data.Codecs;

/// <summary>
/// A decoded 8-bit image, interleaved (HWC), with 1 (gray) or 3 (RGB) channels.
/// <see cref="SourceWidth"/> x <see cref="SourceHeight"/> is the size stored in the file, which is
/// larger than Width x Height when a JPEG was decoded at a reduced scale. <see cref="Pixels"/> may be
/// longer than <see cref="PixelCount"/> when it was rented from an array pool.
/// </summary>
public sealed record Image8
{
    public Image8(int width, int height, int channels, byte[] pixels, int sourceWidth = 0, int sourceHeight = 0)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"image size {width}x{height} must be positive");
        if (channels is not (1 or 3)) throw new ArgumentException($"image channels {channels}: expected 1 or 3");
        if (pixels.Length < (long)width * height * channels)
            throw new ArgumentException($"{pixels.Length} bytes do not make a {width}x{height}x{channels} image");
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
        SourceWidth = sourceWidth > 0 ? sourceWidth : width;
        SourceHeight = sourceHeight > 0 ? sourceHeight : height;
    }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }
    public byte[] Pixels { get; }
    public int PixelCount => Width * Height * Channels;
    public ReadOnlySpan<byte> PixelSpan => Pixels.AsSpan(0, PixelCount);
    public int SourceWidth { get; }
    public int SourceHeight { get; }
}

/// <summary>A single-channel image of 8-bit values that are labels, not intensities (palette indices of a VOC mask).</summary>
public sealed record IndexedImage
{
    public IndexedImage(int width, int height, byte[] indices, IReadOnlyList<Rgb>? palette = null)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"image size {width}x{height} must be positive");
        if (indices.Length != (long)width * height)
            throw new ArgumentException($"{indices.Length} values do not make a {width}x{height} image");
        Width = width;
        Height = height;
        Indices = indices;
        Palette = palette;
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Indices { get; }
    /// <summary>The PNG's palette (index = value), or null for a grayscale PNG.</summary>
    public IReadOnlyList<Rgb>? Palette { get; }
}

public readonly record struct Rgb(byte R, byte G, byte B);

/// <summary>
/// The smallest decoded size a caller can use; lets a JPEG decode at 1/2, 1/4 or 1/8 scale
/// (much faster) when the target is much smaller than the file. Zero fields impose nothing.
/// </summary>
public readonly record struct DecodeHint(int MinShortSide, int MinWidth = 0, int MinHeight = 0)
{
    public bool Accepts(int width, int height)
        => Math.Min(width, height) >= MinShortSide && width >= MinWidth && height >= MinHeight;
}
