using System.Buffers;
using System.Runtime.InteropServices;
using static Engine.Data.Codecs.TurboJpegNative;

namespace Engine.Data.Codecs;

public enum JpegPixels { Rgb, Gray, Cmyk }

/// <summary>
/// JPEG decoding and encoding through TurboJPEG. Decoding picks the smallest DCT scaling factor
/// among 1, 1/2, 1/4, 1/8 that still satisfies the caller's <see cref="DecodeHint"/>. CMYK/YCCK JPEGs can only
/// be decoded to CMYK; they are converted here with the inverted-CMYK convention of Adobe files
/// (and of libjpeg-turbo's own test tools): R = C*K/255, G = M*K/255, B = Y*K/255.
/// </summary>
public static unsafe class JpegCodec
{
    private static readonly NativeImageLibrary Lib = NativeImageLibrary.TurboJpeg;
    private static readonly Lazy<ScalingFactor[]> Factors = new(LoadScalingFactors);

    public readonly record struct Header(int Width, int Height, bool IsCmyk, bool IsGray);

    public static Header ReadHeader(ReadOnlySpan<byte> data)
    {
        Lib.Ensure();
        nint h = tjInitDecompress();
        if (h == 0) throw new ImageLibraryException($"tjInitDecompress failed: {ErrorText(0)}");
        try { return ReadHeader(h, data); }
        finally { tjDestroy(h); }
    }

    /// <summary>
    /// Decodes to <paramref name="channels"/> (1 = gray, 3 = RGB) interleaved bytes; with a
    /// <paramref name="pool"/> the pixel array is rented from it (return it when done).
    /// </summary>
    public static Image8 Decode(ReadOnlySpan<byte> data, int channels = 3, DecodeHint? hint = null, ArrayPool<byte>? pool = null)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"channels {channels}: expected 1 or 3");
        Lib.Ensure();
        nint h = tjInitDecompress();
        if (h == 0) throw new ImageLibraryException($"tjInitDecompress failed: {ErrorText(0)}");
        try
        {
            var header = ReadHeader(h, data);
            var (w, hgt) = ScaledSize(header.Width, header.Height, hint);
            int format = header.IsCmyk ? TJPF_CMYK : channels == 1 ? TJPF_GRAY : TJPF_RGB;
            int bytesPerPixel = format == TJPF_CMYK ? 4 : format == TJPF_GRAY ? 1 : 3;
            int size = checked(w * hgt * bytesPerPixel);
            var buffer = pool?.Rent(size) ?? new byte[size];
            try
            {
                int rc;
                fixed (byte* src = data)
                fixed (byte* dst = buffer)
                    rc = tjDecompress2(h, src, new CULong((nuint)data.Length), dst, w, w * bytesPerPixel, hgt, format, 0);
                if (rc != 0) CheckDecodeWarning(h);
            }
            catch
            {
                pool?.Return(buffer);
                throw;
            }
            if (header.IsCmyk)
            {
                var rgb = FromCmyk(buffer, w * hgt, channels, pool);
                pool?.Return(buffer);
                buffer = rgb;
            }
            return new Image8(w, hgt, channels, buffer, header.Width, header.Height);
        }
        finally { tjDestroy(h); }
    }

    /// <summary>Encodes interleaved RGB (3 bytes), gray (1) or CMYK (4, inverted as in <see cref="JpegCodec"/>) pixels.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height, JpegPixels format = JpegPixels.Rgb, int quality = 90)
    {
        int bpp = format switch { JpegPixels.Rgb => 3, JpegPixels.Gray => 1, _ => 4 };
        if (width <= 0 || height <= 0 || pixels.Length != (long)width * height * bpp)
            throw new ArgumentException($"{pixels.Length} bytes do not make a {width}x{height} {format} image");
        int pf = format switch { JpegPixels.Rgb => TJPF_RGB, JpegPixels.Gray => TJPF_GRAY, _ => TJPF_CMYK };
        int subsamp = format == JpegPixels.Gray ? TJSAMP_GRAY : TJSAMP_444;
        Lib.Ensure();
        nint h = tjInitCompress();
        if (h == 0) throw new ImageLibraryException($"tjInitCompress failed: {ErrorText(0)}");
        byte* jpeg = null;
        try
        {
            CULong size = default;
            int rc;
            fixed (byte* src = pixels)
                rc = tjCompress2(h, src, width, width * bpp, height, pf, &jpeg, &size, subsamp, quality, 0);
            if (rc != 0) throw new InvalidOperationException($"JPEG encoding failed: {ErrorText(h)}");
            return new ReadOnlySpan<byte>(jpeg, checked((int)size.Value)).ToArray();
        }
        finally
        {
            if (jpeg != null) tjFree(jpeg);
            tjDestroy(h);
        }
    }

    private static Header ReadHeader(nint h, ReadOnlySpan<byte> data)
    {
        int w, hgt, subsamp, colorspace, rc;
        fixed (byte* src = data)
            rc = tjDecompressHeader3(h, src, new CULong((nuint)data.Length), &w, &hgt, &subsamp, &colorspace);
        if (rc != 0) throw new ImageDecodeException($"unreadable JPEG header: {ErrorText(h)}");
        if (w <= 0 || hgt <= 0) throw new ImageDecodeException($"truncated JPEG: the header ends before the image size ({data.Length} bytes)");
        ImageLimits.Check("JPEG", w, hgt);
        return new Header(w, hgt, colorspace is TJCS_CMYK or TJCS_YCCK, colorspace == TJCS_GRAY);
    }

    /// <summary>
    /// A fatal error always rejects the image. Of the warnings, truncation ("Premature end of JPEG
    /// file", the image is partly grey) rejects it too; benign ones such as extraneous bytes before a
    /// marker, common in ImageNet, are accepted.
    /// </summary>
    private static void CheckDecodeWarning(nint h)
    {
        string text = ErrorText(h);
        bool fatal = tjGetErrorCode(h) == TJERR_FATAL;
        if (fatal) throw new ImageDecodeException($"corrupt JPEG data: {text}");
        if (text.Contains("premature end", StringComparison.OrdinalIgnoreCase))
            throw new ImageDecodeException($"truncated JPEG: {text}");
    }

    private static (int W, int H) ScaledSize(int width, int height, DecodeHint? hint)
    {
        if (hint is not { } need) return (width, height);
        (int W, int H) best = (width, height);
        foreach (var f in Factors.Value)
        {
            if (f.Num != 1) continue;   // 1/2, 1/4, 1/8 have SIMD IDCTs; the other eighths are slower than full size
            int w = (width * f.Num + f.Denom - 1) / f.Denom;    // TJSCALED
            int h = (height * f.Num + f.Denom - 1) / f.Denom;
            if (need.Accepts(w, h) && (long)w * h < (long)best.W * best.H) best = (w, h);
        }
        return best;
    }

    private static ScalingFactor[] LoadScalingFactors()
    {
        Lib.Ensure();
        int n;
        var factors = tjGetScalingFactors(&n);
        if (factors == null || n <= 0) return [new ScalingFactor { Num = 1, Denom = 1 }];
        return new ReadOnlySpan<ScalingFactor>(factors, n).ToArray();
    }

    private static byte[] FromCmyk(byte[] cmyk, int n, int channels, ArrayPool<byte>? pool)
    {
        var output = pool?.Rent(n * channels) ?? new byte[n * channels];
        for (int i = 0; i < n; i++)
        {
            int k = cmyk[4 * i + 3];
            int r = (cmyk[4 * i] * k + 127) / 255, g = (cmyk[4 * i + 1] * k + 127) / 255, b = (cmyk[4 * i + 2] * k + 127) / 255;
            if (channels == 3) { output[3 * i] = (byte)r; output[3 * i + 1] = (byte)g; output[3 * i + 2] = (byte)b; }
            else output[i] = Luma(r, g, b);
        }
        return output;
    }

    /// <summary>ITU-R BT.601 luma, as libjpeg uses for RGB to gray.</summary>
    internal static byte Luma(int r, int g, int b) => (byte)((19595 * r + 38470 * g + 7471 * b + 32768) >> 16);
}
