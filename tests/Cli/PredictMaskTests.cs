using Engine.Data.Codecs;
using Engine.Tensors;
using Engine.Training.Reports;
using static Engine.Tests.Cli.TrainCommandTests;
using TempDir = Engine.Tests.Training.Support.TempDir;

namespace Engine.Tests.Cli;

/// <summary>`host predict --masks index`: masks whose pixel values are the class numbers.</summary>
[NonParallelizable]
public class PredictMaskTests
{
    [Test]
    public void Index_masks_hold_the_argmax_class_and_colour_masks_its_colour()
    {
        using var dir = new TempDir();
        var run = dir["run"];
        var (code, _, stderr) = Run("train", "--net", "segnet", "--width", "0.125", "--examples", "8", "--batch", "4", "--epochs", "1", "--threads", "2", "--out", run);
        Assert.That(code, Is.Zero, stderr);
        var image = Path.Combine(run, "predictions", "val-0.png");

        (code, var stdout, stderr) = Run("predict", "--weights", run, image, "--out", dir["index"], "--masks", "index", "--save-logits", dir["logits.npy"]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("class-index mask 32x32"));
        var mask = PngCodec.DecodeIndexed(File.ReadAllBytes(dir["index/val-0.mask.png"]));
        var logits = Npy.Read<float>(dir["logits.npy"]);
        int classes = logits.Shape[1], plane = 32 * 32;
        Assert.That(mask.Palette, Is.Not.Null.And.Count.EqualTo(classes));
        var data = logits.Data;
        for (int p = 0; p < plane; p++)
        {
            int best = 0;
            for (int c = 1; c < classes; c++) if (data[c * plane + p] > data[best * plane + p]) best = c;
            Assert.That(mask.Indices[p], Is.EqualTo(best), $"pixel {p}");
        }

        (code, _, stderr) = Run("predict", "--weights", run, image, "--out", dir["colour"]);
        Assert.That(code, Is.Zero, stderr);
        var colour = PngCodec.Decode(File.ReadAllBytes(dir["colour/val-0.mask.png"]), 3);
        for (int p = 0; p < plane; p++)
        {
            var (r, g, b) = SegmentationImages.Colour(mask.Indices[p]);
            Assert.That((colour.Pixels[3 * p], colour.Pixels[3 * p + 1], colour.Pixels[3 * p + 2]), Is.EqualTo((r, g, b)), $"pixel {p}");
        }

        (code, _, stderr) = Run("predict", "--weights", run, image, "--masks", "ids");
        Assert.That((code, stderr.Trim()), Is.EqualTo((2, "error: --masks 'ids': expected colour or index")));
        (code, stdout, _) = Run("predict", "--help");
        Assert.That(stdout, Does.Contain("--masks").And.Contain("class numbers"));
    }
}
