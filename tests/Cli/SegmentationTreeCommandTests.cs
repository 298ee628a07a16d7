using Engine.Data.Codecs;
using Engine.Tests.Data;
using static Engine.Tests.Cli.TrainCommandTests;
using TempDir = Engine.Tests.Training.Support.TempDir;

namespace Engine.Tests.Cli;

/// <summary>Segmentation trees the tests build, trained and evaluated end to end: ADE20K (non-square input), VOC with its ImageSets lists.</summary>
[NonParallelizable]
public class SegmentationTreeCommandTests
{
    [Test]
    public void An_ade20k_tree_trains_at_a_non_square_input_and_evaluates()
    {
        using var dir = new TempDir();
        AdeSegmentationDatasetTests.MakeTree(dir["data"], training: 4, validation: 2);
        var run = dir["run"];
        var (code, stdout, stderr) = Run("train", "--net", "segnet", "--width", "0.125", "--input", "3x32x48", "--data", dir["data"],
            "--batch", "2", "--epochs", "1", "--threads", "1", "--out", run);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout + File.ReadAllText(Path.Combine(run, "train.log")), Does.Contain("ade20k:").And.Contain("151 classes"));

        (code, stdout, stderr) = Run("eval", "--weights", run);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Match(@"pixel accuracy \d+\.\d+ %, mIoU \d+\.\d+ %"));

        (code, _, stderr) = Run("train", "--net", "segnet", "--width", "0.125", "--input", "3x32x48", "--data", dir["data"], "--ade-other", "sometimes", "--out", dir["bad"]);
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.Trim(), Is.EqualTo("error: --ade-other 'sometimes': expected class or ignore"));
    }

    [Test]
    public void A_voc_tree_with_imagesets_lists_trains_and_evaluates_on_them()
    {
        using var dir = new TempDir();
        var voc = Path.Combine(dir["data"], "VOCdevkit", "VOC2012");
        var jpeg = TestImages.GradientJpeg(16, 16);
        var mask = PngCodec.EncodeIndexed(Enumerable.Range(0, 256).Select(i => (byte)(i % 16 < 8 ? 1 : 0)).ToArray(), 16, 16, TestImages.Palette(256));
        string[] ids = ["a", "b", "c", "d", "e", "f"];
        foreach (var id in ids)
        {
            Directory.CreateDirectory(Path.Combine(voc, "JPEGImages"));
            Directory.CreateDirectory(Path.Combine(voc, "SegmentationClass"));
            File.WriteAllBytes(Path.Combine(voc, "JPEGImages", id + ".jpg"), jpeg);
            File.WriteAllBytes(Path.Combine(voc, "SegmentationClass", id + ".png"), mask);
        }
        Directory.CreateDirectory(Path.Combine(voc, "ImageSets", "Segmentation"));
        File.WriteAllLines(Path.Combine(voc, "ImageSets", "Segmentation", "train.txt"), ids[..4]);
        File.WriteAllLines(Path.Combine(voc, "ImageSets", "Segmentation", "val.txt"), ids[4..]);
        var run = dir["run"];
        var (code, stdout, stderr) = Run("train", "--net", "segnet", "--width", "0.125", "--input", "3x32x32", "--data", dir["data"],
            "--batch", "2", "--epochs", "1", "--threads", "1", "--out", run);
        Assert.That(code, Is.Zero, stderr);
        string log = stdout + File.ReadAllText(Path.Combine(run, "train.log"));
        Assert.That(log, Does.Contain("(train, SegmentationClass)").And.Not.Contain("seed split"));
        (code, stdout, stderr) = Run("eval", "--weights", run);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Match(@"pixel accuracy \d+\.\d+ %, mIoU \d+\.\d+ %"));
    }
}
