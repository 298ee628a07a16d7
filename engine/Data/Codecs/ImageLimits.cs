namespace Engine.Data.Codecs;

/// <summary>
/// The largest image the decoders accept, checked against the size the header declares before
/// anything is allocated. 2^26 pixels (64 megapixels, e.g. 8192 x 8192) need at most 256 MiB of
/// decoded CMYK or 192 MiB of RGB; a progressive JPEG that size also needs about 2 bytes per sample
/// of coefficients inside libjpeg (384 MiB at 4:4:4). A few hundred crafted bytes can declare
/// 65535 x 65535, which without the check would cost gigabytes.
/// </summary>
public static class ImageLimits
{
    public const long MaxPixels = 1L << 26;

    /// <summary>Throws <see cref="ImageDecodeException"/> when <paramref name="width"/> x <paramref name="height"/> is over the bound.</summary>
    public static void Check(string format, long width, long height)
    {
        if (width * height > MaxPixels)
            throw new ImageDecodeException(
                $"{format} header declares {width}x{height} pixels ({width * height / 1e6:F0} megapixels), over the limit of " +
                $"{MaxPixels >> 20} megapixels (ImageLimits.MaxPixels); refused before decoding");
    }
}
