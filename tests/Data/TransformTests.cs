using Engine.Data.Codecs;
using Engine.Data.Transforms;
using Engine.Tensors;

namespace Engine.Tests.Data;

public class TransformTests
{
    /// <summary>An image whose red channel is 3x its column and a mask whose value is its column.</summary>
    private static (Image8 Image, IndexedImage Mask) ColumnRamp(int width, int height)
    {
        var rgb = new byte[width * height * 3];
        var labels = new byte[width * height];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                rgb[(y * width + x) * 3] = (byte)(3 * x);
                rgb[(y * width + x) * 3 + 1] = (byte)(3 * y);
                labels[y * width + x] = (byte)x;
            }
        return (new Image8(width, height, 3, rgb), new IndexedImage(width, height, labels));
    }

    private static int[] Identity256() => Enumerable.Range(0, 256).ToArray();

    [Test]
    public void Resize_to_the_same_size_is_an_exact_copy()
    {
        var (image, _) = ColumnRamp(20, 10);
        var chw = new float[3 * 10 * 20];
        Resampler.Linear(image, CropBox.Full, 10, 20, chw);
        for (int y = 0; y < 10; y++)
            for (int x = 0; x < 20; x++)
                Assert.That(chw[y * 20 + x], Is.EqualTo(3 * x));
    }

    [Test]
    public void Flip_mirrors_image_and_mask_alike()
    {
        var (image, mask) = ColumnRamp(16, 4);
        var chw = new float[3 * 4 * 16];
        var labels = new int[4 * 16];
        var box = CropBox.Full with { Flip = true };
        Resampler.Linear(image, box, 4, 16, chw);
        Resampler.Nearest(mask, box, 4, 16, Identity256(), labels);
        for (int x = 0; x < 16; x++)
        {
            Assert.That(labels[x], Is.EqualTo(15 - x));
            Assert.That(chw[x], Is.EqualTo(3 * (15 - x)));
        }
    }

    [Test]
    public void Downscaling_averages_instead_of_aliasing()
    {
        // alternating black/white columns: a 4x shrink must come out mid-gray, not black or white
        var rgb = new byte[64 * 4 * 3];
        for (int i = 0; i < 64 * 4; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (byte)(i % 2 == 0 ? 0 : 255);
        var chw = new float[3 * 1 * 16];
        Resampler.Linear(new Image8(64, 4, 3, rgb), CropBox.Full, 1, 16, chw);
        Assert.That(chw, Is.All.InRange(100f, 155f));
    }

    [Test]
    public void Random_crops_give_mask_and_image_the_same_geometry([Values(1, 2, 3, 4, 5, 6, 7, 8)] int seed)
    {
        var (image, mask) = ColumnRamp(80, 60);
        var recipe = new VoVNetRecipe(size: 24, jitter: 0);
        var chw = new float[3 * 24 * 24];
        var labels = new int[24 * 24];
        recipe.Render(image, mask, Identity256(), new Rng((ulong)seed), chw, labels);
        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 24; x++)
            {
                float column = chw[y * 24 + x] * 255f / 3f;   // undo /255 and the ramp's factor 3
                Assert.That(column, Is.EqualTo(labels[y * 24 + x]).Within(1.5), $"pixel ({x},{y})");
            }
        bool flippedImage = chw[23] < chw[0], flippedMask = labels[23] < labels[0];
        Assert.That(flippedImage, Is.EqualTo(flippedMask));
    }

    [Test]
    public void Random_crops_flip_about_half_the_time_and_stay_inside_the_image()
    {
        var recipe = new VoVNetRecipe();
        var rng = new Rng(7);
        int flips = 0;
        for (int i = 0; i < 400; i++)
        {
            var box = recipe.ChooseCrop(500, 375, rng);
            Assert.That(box.Width * 500, Is.EqualTo(0.875 * 375).Within(1e-9), "square side = 0.875 x shorter side");
            Assert.That(box.Height * 375, Is.EqualTo(0.875 * 375).Within(1e-9));
            Assert.That(box.X, Is.InRange(0, 1 - box.Width + 1e-12));
            Assert.That(box.Y, Is.InRange(0, 1 - box.Height + 1e-12));
            if (box.Flip) flips++;
        }
        Assert.That(flips, Is.InRange(160, 240));
    }

    [Test]
    public void Evaluation_takes_the_centre_deterministically()
    {
        var box = new VoVNetRecipe().ChooseCrop(500, 300, null);
        Assert.That(box.X * 500 + box.Width * 500 / 2, Is.EqualTo(250).Within(1e-9));
        Assert.That(box.Y * 300 + box.Height * 300 / 2, Is.EqualTo(150).Within(1e-9));
        Assert.That(box.Flip, Is.False);
        var vgg = new VggRecipe(224, 256, 512).ChooseCrop(500, 300, null);
        Assert.That(vgg.Height * 300, Is.EqualTo(224.0 * 300 / 384).Within(1e-9), "Q = (256 + 512) / 2");
    }

    [Test]
    public void Vgg_scale_jitter_crops_between_the_two_scales()
    {
        var recipe = new VggRecipe(224, 256, 512);
        var rng = new Rng(3);
        for (int i = 0; i < 200; i++)
        {
            double side = recipe.ChooseCrop(600, 400, rng).Height * 400;
            Assert.That(side, Is.InRange(224.0 * 400 / 512 - 1e-9, 224.0 * 400 / 256 + 1e-9));
        }
    }

    [Test]
    public void Vgg_by_name_scales_the_papers_range_with_the_crop_unless_told()
    {
        var at224 = (VggRecipe)ImageRecipe.ForName("vgg", 224);
        var at32 = (VggRecipe)ImageRecipe.ForName("vgg", 32);
        var fixedS = (VggRecipe)ImageRecipe.ForName("vgg", 32, (37, 37));
        Assert.That((at224.MinScale, at224.MaxScale), Is.EqualTo((256, 512)));
        Assert.That((at32.MinScale, at32.MaxScale), Is.EqualTo((37, 73)));
        Assert.That((fixedS.MinScale, fixedS.MaxScale), Is.EqualTo((37, 37)));
        // A 28x28 image at 32: the training crop covers 32/73..32/37 of its side, never a sliver.
        var rng = new Rng(5);
        for (int i = 0; i < 100; i++)
            Assert.That(at32.ChooseCrop(28, 28, rng).Height, Is.InRange(32.0 / 73 - 1e-9, 32.0 / 37 + 1e-9));
    }

    [Test]
    public void Mirroring_is_each_recipes_own_unless_told()
    {
        var rng = new Rng(11);
        int Flips(ImageRecipe recipe) => Enumerable.Range(0, 200).Count(_ => recipe.ChooseCrop(28, 28, rng).Flip);
        Assert.That(Flips(ImageRecipe.ForName("vgg", 32)), Is.InRange(70, 130));
        Assert.That(Flips(ImageRecipe.ForName("vovnet", 24)), Is.InRange(70, 130));
        Assert.That(Flips(ImageRecipe.ForName("resize", 24)), Is.Zero);
        Assert.That(Flips(ImageRecipe.ForName("vgg", 32, flip: false)) + Flips(ImageRecipe.ForName("vovnet", 24, flip: false)), Is.Zero);
        Assert.That(Flips(ImageRecipe.ForName("resize", 24, flip: true)), Is.InRange(70, 130));
        Assert.That(ImageRecipe.ForName("vgg", 32, flip: false).Describe(), Does.Contain("no flip"));
    }

    [Test]
    public void Vgg_subtracts_the_mean_rgb()
    {
        var rgb = new byte[8 * 8 * 3];
        for (int i = 0; i < 64; i++) { rgb[3 * i] = 124; rgb[3 * i + 1] = 117; rgb[3 * i + 2] = 104; }
        var chw = new float[3 * 4 * 4];
        new VggRecipe(4, 4, 8, channelShift: 0).Render(new Image8(8, 8, 3, rgb), null, default, null, chw, default);
        Assert.That(chw, Is.All.InRange(-0.5f, 0.5f));
    }

    [Test]
    public void Color_jitter_keeps_gray_gray_and_zero_jitter_changes_nothing()
    {
        var rng = new Rng(11);
        var gray = Enumerable.Repeat(100f, 3 * 16).ToArray();
        for (int i = 0; i < 16; i++) gray[i] = gray[16 + i] = gray[32 + i] = 50 + 10 * i;
        var copy = (float[])gray.Clone();
        Photometric.ColorJitter(copy, 3, rng, 0, 0, 0);
        Assert.That(copy, Is.EqualTo(gray).Within(1e-3));
        Photometric.ColorJitter(copy, 3, rng, 0.2, 0.2, 0.2);
        for (int i = 0; i < 16; i++)
        {
            Assert.That(copy[16 + i], Is.EqualTo(copy[i]).Within(1e-3));
            Assert.That(copy[32 + i], Is.EqualTo(copy[i]).Within(1e-3));
        }
        Assert.That(copy, Is.Not.EqualTo(gray).Within(1e-3), "a +-0.2 jitter changes brightness or contrast");
    }

    [Test]
    public void Resize_recipe_squashes_the_whole_image()
    {
        var (image, mask) = ColumnRamp(40, 10);
        var chw = new float[3 * 8 * 8];
        var labels = new int[64];
        new ResizeRecipe(8, 8).Render(image, mask, Identity256(), new Rng(1), chw, labels);
        Assert.That(labels.Take(8), Is.EqualTo(new[] { 2, 7, 12, 17, 22, 27, 32, 37 }), "nearest of 8 columns spread over 40");
        Assert.That(chw.Max(), Is.LessThanOrEqualTo(1f), "pixels / 255");
    }
}
