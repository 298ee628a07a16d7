using Engine.Data.Codecs;
using Engine.Data.Datasets;
using Engine.Tests.Data;
using Engine.Training.Reports;
using static Engine.Tests.Cli.TrainCommandTests;
using TempDir = Engine.Tests.Training.Support.TempDir;

namespace Engine.Tests.Cli;

/// <summary>Masks of a run trained on an ADE20K tree take ADE20K's colours, not VOC's.</summary>
[NonParallelizable]
public class AdeMaskColourTests
{
    [Test]
    public void The_table_is_ade20ks_with_other_black()
    {
        Assert.That(AdePalette.Colour(0), Is.EqualTo(((byte)0, (byte)0, (byte)0)), "other");
        Assert.That(AdePalette.Colour(1), Is.EqualTo(((byte)120, (byte)120, (byte)120)), "wall");
        Assert.That(AdePalette.Colour(3), Is.EqualTo(((byte)6, (byte)230, (byte)230)), "sky");
        Assert.That(AdePalette.Colour(13), Is.EqualTo(((byte)150, (byte)5, (byte)61)), "person");
        Assert.That(AdePalette.Colour(150), Is.EqualTo(((byte)92, (byte)0, (byte)255)), "flag");
        Assert.That(AdePalette.Colour(151), Is.EqualTo(((byte)0, (byte)0, (byte)0)));
        Assert.That(AdePalette.ClassColour(0, otherAsClass: false), Is.EqualTo(AdePalette.Colour(1)), "with other ignored, class 0 is the wall");
        Assert.That(AdePalette.ClassColour(0, otherAsClass: true), Is.EqualTo(AdePalette.Colour(0)));
    }

    [Test]
    public void Predicted_masks_of_an_ade20k_run_use_its_colours()
    {
        using var dir = new TempDir();
        AdeSegmentationDatasetTests.MakeTree(dir["data"], training: 4, validation: 2);
        var run = dir["run"];
        var (code, _, stderr) = Run("train", "--net", "segnet", "--width", "0.125", "--input", "3x32x48", "--data", dir["data"],
            "--batch", "2", "--epochs", "1", "--threads", "1", "--out", run);
        Assert.That(code, Is.Zero, stderr);
        var image = Directory.GetFiles(dir["data"], "*.jpg", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        var name = Path.GetFileNameWithoutExtension(image) + ".mask.png";

        (code, _, stderr) = Run("predict", "--weights", run, image, "--out", dir["index"], "--masks", "index");
        Assert.That(code, Is.Zero, stderr);
        var mask = PngCodec.DecodeIndexed(File.ReadAllBytes(Path.Combine(dir["index"], name)));
        Assert.That(mask.Palette, Has.Count.EqualTo(151));
        for (int c = 0; c < 151; c++)
        {
            var (r, g, b) = AdePalette.Colour(c);
            Assert.That(mask.Palette![c], Is.EqualTo(new Rgb(r, g, b)), $"class {c}");
        }
        Assert.That(mask.Palette![1], Is.Not.EqualTo(new Rgb(SegmentationImages.Colour(1).R, SegmentationImages.Colour(1).G, SegmentationImages.Colour(1).B)), "not VOC's");

        (code, _, stderr) = Run("predict", "--weights", run, image, "--out", dir["colour"]);
        Assert.That(code, Is.Zero, stderr);
        var colour = PngCodec.Decode(File.ReadAllBytes(Path.Combine(dir["colour"], name)), 3);
        for (int p = 0; p < mask.Indices.Length; p++)
        {
            var (r, g, b) = AdePalette.Colour(mask.Indices[p]);
            Assert.That((colour.Pixels[3 * p], colour.Pixels[3 * p + 1], colour.Pixels[3 * p + 2]), Is.EqualTo((r, g, b)), $"pixel {p}");
        }
    }
}
