using System.Buffers;
using static Engine.Data.Codecs.SpngNative;

namespace Engine.Data.Codecs;

/// <summary>
/// PNG decoding and encoding through libspng. Images decode to 8-bit RGB or gray from any PNG
/// format (16-bit, gray, palette; alpha is dropped, not composited). Label masks decode with
/// SPNG_FMT_PNG so palette PNGs keep their indices (VOC's SegmentationClass/Object).
/// </summary>
public static unsafe class PngCodec
{
    private const uint MaxSide = 1 << 16;
    private static readonly NativeImageLibrary Lib = NativeImageLibrary.Spng;

    /// <summary>Decodes to 1 or 3 channels; with a <paramref name="pool"/> the pixel array is rented from it (return it when done).</summary>
    public static Image8 Decode(ReadOnlySpan<byte> data, int channels = 3, ArrayPool<byte>? pool = null)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"channels {channels}: expected 1 or 3");
        using var ctx = DecoderContext.Open(data);
        var ihdr = ctx.Header();
        bool grayDirect = channels == 1 && ihdr.ColorType == SPNG_COLOR_TYPE_GRAYSCALE && ihdr.BitDepth <= 8;
        int fmt = grayDirect ? SPNG_FMT_G8 : SPNG_FMT_RGB8;
        var pixels = ctx.Decode(fmt, pool);
        int w = (int)ihdr.Width, h = (int)ihdr.Height;
        if (channels == 1 && !grayDirect)
        {
            var gray = pool?.Rent(w * h) ?? new byte[w * h];
            for (int i = 0; i < w * h; i++) gray[i] = JpegCodec.Luma(pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]);
            pool?.Return(pixels);
            pixels = gray;
        }
        return new Image8(w, h, channels, pixels);
    }

    /// <summary>
    /// Decodes a label image: a palette PNG's indices, or the values of a grayscale PNG of at most 8
    /// bits. Any other kind of PNG is not a label mask and is rejected.
    /// </summary>
    public static IndexedImage DecodeIndexed(ReadOnlySpan<byte> data)
    {
        using var ctx = DecoderContext.Open(data);
        var ihdr = ctx.Header();
        bool indexed = ihdr.ColorType == SPNG_COLOR_TYPE_INDEXED;
        if (!indexed && !(ihdr.ColorType == SPNG_COLOR_TYPE_GRAYSCALE && ihdr.BitDepth <= 8))
            throw new ImageDecodeException(
                $"not a label mask: PNG colour type {ihdr.ColorType} with {ihdr.BitDepth}-bit samples (expected a palette or 8-bit grayscale PNG)");
        int w = (int)ihdr.Width, h = (int)ihdr.Height;
        var packed = ctx.Decode(SPNG_FMT_PNG, null);
        var values = Unpack(packed, w, h, ihdr.BitDepth);
        return new IndexedImage(w, h, values, indexed ? ctx.Palette() : null);
    }

    public static byte[] EncodeRgb(ReadOnlySpan<byte> rgb, int width, int height)
        => Encode(rgb, width, height, SPNG_COLOR_TYPE_TRUECOLOR, 3, null);

    public static byte[] EncodeGray(ReadOnlySpan<byte> gray, int width, int height)
        => Encode(gray, width, height, SPNG_COLOR_TYPE_GRAYSCALE, 1, null);

    /// <summary>Writes an 8-bit palette PNG (the VOC mask format).</summary>
    public static byte[] EncodeIndexed(ReadOnlySpan<byte> indices, int width, int height, IReadOnlyList<Rgb> palette)
    {
        if (palette.Count is 0 or > 256) throw new ArgumentException($"a PNG palette has 1 to 256 entries, not {palette.Count}");
        foreach (var v in indices)
            if (v >= palette.Count) throw new ArgumentException($"index {v} outside the {palette.Count}-entry palette");
        return Encode(indices, width, height, SPNG_COLOR_TYPE_INDEXED, 1, palette);
    }

    public static byte[] Encode(Image8 image)
        => image.Channels == 3 ? EncodeRgb(image.PixelSpan, image.Width, image.Height) : EncodeGray(image.PixelSpan, image.Width, image.Height);

    private static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height, byte colorType, int bytesPerPixel, IReadOnlyList<Rgb>? palette)
    {
        if (width <= 0 || height <= 0 || pixels.Length != (long)width * height * bytesPerPixel)
            throw new ArgumentException($"{pixels.Length} bytes do not make a {width}x{height}x{bytesPerPixel} image");
        Lib.Ensure();
        nint ctx = spng_ctx_new(SPNG_CTX_ENCODER);
        if (ctx == 0) throw new OutOfMemoryException("spng_ctx_new failed");
        try
        {
            Check(spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1), "spng_set_option");
            var ihdr = new Ihdr { Width = (uint)width, Height = (uint)height, BitDepth = 8, ColorType = colorType };
            Check(spng_set_ihdr(ctx, &ihdr), "spng_set_ihdr");
            if (palette is not null)
            {
                var plte = new Plte { NEntries = (uint)palette.Count };
                for (int i = 0; i < palette.Count; i++)
                {
                    plte.Entries[4 * i] = palette[i].R;
                    plte.Entries[4 * i + 1] = palette[i].G;
                    plte.Entries[4 * i + 2] = palette[i].B;
                    plte.Entries[4 * i + 3] = 255;
                }
                Check(spng_set_plte(ctx, &plte), "spng_set_plte");
            }
            fixed (byte* src = pixels)
                Check(spng_encode_image(ctx, src, (nuint)pixels.Length, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE), "spng_encode_image");
            nuint len;
            int error;
            void* png = spng_get_png_buffer(ctx, &len, &error);
            Check(error, "spng_get_png_buffer");
            if (png == null) throw new InvalidOperationException("spng_get_png_buffer returned no data");
            try { return new ReadOnlySpan<byte>(png, checked((int)len)).ToArray(); }
            finally { System.Runtime.InteropServices.NativeMemory.Free(png); }   // libspng hands over a malloc'd buffer
        }
        finally { spng_ctx_free(ctx); }
    }

    private static void Check(int rc, string call)
    {
        if (rc != 0) throw new InvalidOperationException($"{call} failed: {ErrorText(rc)} ({rc})");
    }

    private static byte[] Unpack(byte[] packed, int width, int height, int bitDepth)
    {
        if (bitDepth == 8) return packed;
        var values = new byte[width * height];
        int rowBytes = (width * bitDepth + 7) / 8, mask = (1 << bitDepth) - 1, perByte = 8 / bitDepth;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int b = packed[y * rowBytes + x / perByte];
                int shift = 8 - bitDepth * (x % perByte + 1);
                values[y * width + x] = (byte)((b >> shift) & mask);
            }
        return values;
    }

    /// <summary>A decoder over a pinned copy of the input (libspng reads the buffer lazily while decoding).</summary>
    private sealed class DecoderContext : IDisposable
    {
        private readonly nint _ctx;
        private readonly byte* _data;

        private DecoderContext(nint ctx, byte* data) { _ctx = ctx; _data = data; }

        public static DecoderContext Open(ReadOnlySpan<byte> data)
        {
            Lib.Ensure();
            if (data.Length < 8) throw new ImageDecodeException($"PNG of {data.Length} bytes is truncated");
            var copy = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)data.Length);
            data.CopyTo(new Span<byte>(copy, data.Length));
            nint ctx = spng_ctx_new(0);
            if (ctx == 0)
            {
                System.Runtime.InteropServices.NativeMemory.Free(copy);
                throw new OutOfMemoryException("spng_ctx_new failed");
            }
            var d = new DecoderContext(ctx, copy);
            try
            {
                spng_set_image_limits(ctx, MaxSide, MaxSide);
                d.Fail(spng_set_png_buffer(ctx, copy, (nuint)data.Length), "cannot read PNG");
                return d;
            }
            catch { d.Dispose(); throw; }
        }

        public Ihdr Header()
        {
            Ihdr ihdr;
            Fail(spng_get_ihdr(_ctx, &ihdr), "unreadable PNG header");
            ImageLimits.Check("PNG", ihdr.Width, ihdr.Height);
            return ihdr;
        }

        public byte[] Decode(int fmt, ArrayPool<byte>? pool)
        {
            nuint len;
            Fail(spng_decoded_image_size(_ctx, fmt, &len), "cannot decode PNG");
            var output = pool?.Rent(checked((int)len)) ?? new byte[len];
            try
            {
                fixed (byte* dst = output)
                    Fail(spng_decode_image(_ctx, dst, len, fmt, 0), "corrupt or truncated PNG");
            }
            catch
            {
                pool?.Return(output);
                throw;
            }
            return output;
        }

        public Rgb[]? Palette()
        {
            Plte plte;
            if (spng_get_plte(_ctx, &plte) != 0) return null;
            var palette = new Rgb[plte.NEntries];
            for (int i = 0; i < palette.Length; i++)
                palette[i] = new Rgb(plte.Entries[4 * i], plte.Entries[4 * i + 1], plte.Entries[4 * i + 2]);
            return palette;
        }

        public void Fail(int rc, string what)
        {
            if (rc != 0) throw new ImageDecodeException($"{what}: {ErrorText(rc)}");
        }

        public void Dispose()
        {
            spng_ctx_free(_ctx);
            System.Runtime.InteropServices.NativeMemory.Free(_data);
        }
    }
}
