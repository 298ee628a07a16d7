using Engine.Data.Codecs;

namespace Engine.Tests.Data;

public class CodecTests
{
    [Test]
    public void Png_rgb_round_trips_exactly()
    {
        var rgb = TestImages.Gradient(13, 7);
        var image = ImageDecoder.Decode(PngCodec.EncodeRgb(rgb, 13, 7));
        Assert.That((image.Width, image.Height, image.Channels), Is.EqualTo((13, 7, 3)));
        Assert.That(image.Pixels, Is.EqualTo(rgb));
    }

    [Test]
    public void Png_gray_decodes_to_three_equal_channels_and_rgb_to_luma()
    {
        var gray = Enumerable.Range(0, 20).Select(i => (byte)(i * 12)).ToArray();
        var asRgb = PngCodec.Decode(PngCodec.EncodeGray(gray, 5, 4), channels: 3);
        for (int i = 0; i < 20; i++)
            Assert.That(new[] { asRgb.Pixels[3 * i], asRgb.Pixels[3 * i + 1], asRgb.Pixels[3 * i + 2] }, Is.All.EqualTo(gray[i]));

        var red = new byte[] { 255, 0, 0, 0, 0, 255 };
        var luma = PngCodec.Decode(PngCodec.EncodeRgb(red, 2, 1), channels: 1);
        Assert.That(luma.Pixels[0], Is.EqualTo(76).Within(1), "0.299 * 255");
        Assert.That(luma.Pixels[1], Is.EqualTo(29).Within(1), "0.114 * 255");
    }

    [Test]
    public void Png_palette_mask_keeps_indices_and_palette()
    {
        var indices = new byte[] { 0, 1, 2, 255, 2, 1, 0, 255 };
        var palette = TestImages.Palette(256);
        var mask = ImageDecoder.DecodeMask(PngCodec.EncodeIndexed(indices, 4, 2, palette));
        Assert.That(mask.Indices, Is.EqualTo(indices));
        Assert.That(mask.Palette, Is.EqualTo(palette));
    }

    [Test]
    public void Png_sixteen_bit_rgb_decodes_to_its_high_bytes()
    {
        // 2x1 pixels, 16-bit big-endian samples: (0x1234, 0x8000, 0xFFFF), (0, 0x0101, 0xABCD)
        byte[] row = [0x12, 0x34, 0x80, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x01, 0x01, 0xAB, 0xCD];
        var image = PngCodec.Decode(TestImages.RawPng(2, 1, 16, 2, row, 12));
        Assert.That(image.Pixels, Is.EqualTo(new byte[] { 0x12, 0x80, 0xFF, 0x00, 0x01, 0xAB }).Within(1).AsCollection);
    }

    [Test]
    public void Png_four_bit_palette_mask_is_unpacked()
    {
        // 3 pixels per row at 4 bits: indices 1, 2, 3 then 4, 5, 6
        byte[] rows = [0x12, 0x30, 0x45, 0x60];
        var mask = PngCodec.DecodeIndexed(TestImages.RawPng(3, 2, 4, 3, rows, 2, TestImages.Palette(7)));
        Assert.That(mask.Indices, Is.EqualTo(new byte[] { 1, 2, 3, 4, 5, 6 }));
    }

    [Test]
    public void Rgb_png_is_not_a_mask()
    {
        var ex = Assert.Throws<ImageDecodeException>(() => ImageDecoder.DecodeMask(PngCodec.EncodeRgb(new byte[12], 2, 2)));
        Assert.That(ex!.Message, Does.Contain("not a label mask"));
    }

    [Test]
    public void Jpeg_rgb_decodes_close_to_the_source()
    {
        var rgb = TestImages.Gradient(40, 24);
        var image = ImageDecoder.Decode(JpegCodec.Encode(rgb, 40, 24, JpegPixels.Rgb, 95));
        Assert.That((image.Width, image.Height, image.Channels), Is.EqualTo((40, 24, 3)));
        Assert.That(MaxDifference(image.Pixels, rgb), Is.LessThanOrEqualTo(8));
    }

    [Test]
    public void Jpeg_gray_decodes_to_three_equal_channels_when_asked()
    {
        var gray = Enumerable.Range(0, 16 * 16).Select(i => (byte)(i % 16 * 10 + 40)).ToArray();
        var jpeg = JpegCodec.Encode(gray, 16, 16, JpegPixels.Gray, 95);
        Assert.That(JpegCodec.ReadHeader(jpeg).IsGray);
        var rgb = ImageDecoder.Decode(jpeg, channels: 3);
        for (int i = 0; i < gray.Length; i++)
        {
            Assert.That(rgb.Pixels[3 * i + 1], Is.EqualTo(rgb.Pixels[3 * i]));
            Assert.That(rgb.Pixels[3 * i + 2], Is.EqualTo(rgb.Pixels[3 * i]));
            Assert.That(rgb.Pixels[3 * i], Is.EqualTo(gray[i]).Within(10));
        }
        Assert.That(ImageDecoder.Decode(jpeg, channels: 1).Channels, Is.EqualTo(1));
    }

    [Test]
    public void Cmyk_jpeg_is_converted_to_rgb()
    {
        var rgb = TestImages.Gradient(16, 16);
        var cmyk = new byte[16 * 16 * 4];
        for (int i = 0; i < 256; i++)   // inverted CMYK: K = max(R,G,B), C = R*255/K, ...
        {
            int r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2], k = Math.Max(r, Math.Max(g, b));
            cmyk[4 * i] = (byte)(r * 255 / k);
            cmyk[4 * i + 1] = (byte)(g * 255 / k);
            cmyk[4 * i + 2] = (byte)(b * 255 / k);
            cmyk[4 * i + 3] = (byte)k;
        }
        var jpeg = JpegCodec.Encode(cmyk, 16, 16, JpegPixels.Cmyk, 98);
        Assert.That(JpegCodec.ReadHeader(jpeg).IsCmyk);
        var image = ImageDecoder.Decode(jpeg);
        Assert.That(image.Channels, Is.EqualTo(3));
        Assert.That(MaxDifference(image.Pixels, rgb), Is.LessThanOrEqualTo(12));
    }

    [Test]
    public void Large_jpeg_decodes_at_a_reduced_scale_when_the_hint_allows()
    {
        var jpeg = TestImages.GradientJpeg(256, 128);
        var quarter = JpegCodec.Decode(jpeg, 3, new DecodeHint(MinShortSide: 30));
        Assert.That((quarter.Width, quarter.Height), Is.EqualTo((64, 32)), "1/4 is the smallest scale keeping the short side >= 30");
        Assert.That((quarter.SourceWidth, quarter.SourceHeight), Is.EqualTo((256, 128)));
        var full = JpegCodec.Decode(jpeg, 3, new DecodeHint(MinShortSide: 200));
        Assert.That((full.Width, full.Height), Is.EqualTo((256, 128)), "never scaled below the hint, never above 1");
    }

    [Test]
    public void Truncated_jpeg_is_rejected_with_a_reason()
    {
        var jpeg = TestImages.GradientJpeg(64, 64);
        var ex = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(jpeg.AsSpan(0, jpeg.Length * 2 / 3)));
        Assert.That(ex!.Message, Does.Contain("truncated").Or.Contain("corrupt"));
        var header = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(jpeg.AsSpan(0, 40)));
        Assert.That(header!.Message, Does.Contain("JPEG"));
    }

    [Test]
    public void Truncated_and_corrupt_png_are_rejected_with_a_reason()
    {
        var png = PngCodec.EncodeRgb(TestImages.Gradient(32, 32), 32, 32);
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(png.AsSpan(0, png.Length - 30)));
        var corrupt = (byte[])png.Clone();
        corrupt[20] ^= 0xFF;   // inside IHDR: its CRC no longer matches
        var ex = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(corrupt));
        Assert.That(ex!.Message, Does.Contain("PNG"));
    }

    [TestCase(new byte[0], "empty file")]
    [TestCase(new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o' }, "not a JPEG or PNG")]
    [TestCase(new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a' }, "GIF")]
    public void Unknown_content_is_named(byte[] data, string expected)
    {
        var ex = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(data));
        Assert.That(ex!.Message, Does.Contain(expected));
    }

    [Test]
    public void Format_is_detected_by_content()
    {
        Assert.That(ImageDecoder.Detect(TestImages.GradientJpeg(8, 8)), Is.EqualTo(ImageFormat.Jpeg));
        Assert.That(ImageDecoder.Detect(PngCodec.EncodeGray(new byte[4], 2, 2)), Is.EqualTo(ImageFormat.Png));
    }

    [Test]
    public void Pooled_decoding_gives_the_same_pixels()
    {
        var pool = System.Buffers.ArrayPool<byte>.Create();
        var jpeg = TestImages.GradientJpeg(33, 17);
        var png = PngCodec.EncodeRgb(TestImages.Gradient(9, 5), 9, 5);
        foreach (var (data, channels) in new[] { (jpeg, 3), (jpeg, 1), (png, 3), (png, 1) })
        {
            var plain = ImageDecoder.Decode(data, channels);
            var pooled = ImageDecoder.Decode(data, channels, null, pool);
            Assert.That(pooled.PixelSpan.ToArray(), Is.EqualTo(plain.Pixels));
            pool.Return(pooled.Pixels);
        }
    }

    private static int MaxDifference(byte[] a, byte[] b)
    {
        Assert.That(a, Has.Length.EqualTo(b.Length));
        int max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }
}
