using System.Diagnostics;
using Engine.Data;
using Engine.Data.Codecs;
using Engine.Data.Datasets;
using Engine.Data.Transforms;
using Engine.Tensors;

namespace Engine.Tests.Data;

/// <summary>Images whose header declares more than <see cref="ImageLimits.MaxPixels"/> are refused, named, before any allocation.</summary>
public class ImageLimitTests
{
    /// <summary>A valid small JPEG whose frame header is patched to declare another size, as a progressive (SOF2) frame.</summary>
    private static byte[] CraftedJpeg(int width, int height)
    {
        var jpeg = TestImages.GradientJpeg(16, 16);
        for (int i = 2; i + 8 < jpeg.Length; i++)
            if (jpeg[i] == 0xFF && jpeg[i + 1] is 0xC0 or 0xC2)
            {
                jpeg[i + 1] = 0xC2;
                jpeg[i + 5] = (byte)(height >> 8); jpeg[i + 6] = (byte)height;
                jpeg[i + 7] = (byte)(width >> 8); jpeg[i + 8] = (byte)width;
                return jpeg;
            }
        throw new InvalidOperationException("no SOF marker in the test JPEG");
    }

    [TestCase(60000, 60000)]
    [TestCase(16000, 16000)]
    public void A_crafted_jpeg_declaring_a_huge_size_is_refused_before_allocating(int width, int height)
    {
        var jpeg = CraftedJpeg(width, height);
        Assert.Throws<ImageDecodeException>(() => JpegCodec.Decode(jpeg, 3));   // warm up: load the library, JIT
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var ex = Assert.Throws<ImageDecodeException>(() => JpegCodec.Decode(jpeg, 3));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.That(ex!.Message, Does.Contain($"{width}x{height}").And.Contain("MaxPixels"));
        Assert.That(allocated, Is.LessThan(1 << 20), "bytes allocated by the refusal");
        Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(1));
    }

    [Test]
    public void A_png_declaring_a_huge_size_is_refused()
    {
        var png = TestImages.WithDeclaredSize(PngCodec.EncodeGray(new byte[64], 8, 8), 9000, 8000);
        var ex = Assert.Throws<ImageDecodeException>(() => PngCodec.Decode(png, 3));
        Assert.That(ex!.Message, Does.Contain("9000x8000").And.Contain("MaxPixels"));
    }

    [Test]
    public void The_loader_skips_a_crafted_jpeg_as_unreadable_and_names_it()
    {
        using var dir = new TempDir();
        dir.File("a/good.jpg", TestImages.GradientJpeg(8, 8));
        var bad = dir.File("a/bomb.jpg", CraftedJpeg(60000, 60000));
        var ds = ImageFolderDataset.Scan(dir.Path, new ResizeRecipe(8, 8));
        int badIndex = Enumerable.Range(0, ds.Count).Single(i => ds.Describe(i) == bad);
        var ex = Assert.Throws<BadSampleException>(() => ds.Load(badIndex, new Rng(1), false));
        Assert.That(ex!.Message, Does.StartWith(bad).And.Contain("60000x60000"));
    }
}
