using Engine.Data.Codecs;
using Engine.Tests.Data;
using static Engine.Tests.Cli.TrainCommandTests;
using TempDir = Engine.Tests.Training.Support.TempDir;

namespace Engine.Tests.Cli;

/// <summary>`host eval` of a run on data with another label convention: adapted to, or one error line.</summary>
[NonParallelizable]
public class EvalLabelConventionTests
{
    /// <summary>A VOC tree with enough masks for the seed split's validation part (files 2001 on), boundary 255 in every mask.</summary>
    private static string VocTree(string root, string? classNames)
    {
        var voc = Path.Combine(root, "VOCdevkit", "VOC2012");
        foreach (var d in new[] { "JPEGImages", "SegmentationClass" }) Directory.CreateDirectory(Path.Combine(voc, d));
        var jpeg = TestImages.GradientJpeg(8, 8);
        var labels = Enumerable.Range(0, 64).Select(i => (byte)(i % 8 == 0 ? 255 : i % 5)).ToArray();
        var mask = PngCodec.EncodeIndexed(labels, 8, 8, TestImages.Palette(256));
        for (int i = 0; i < 2002; i++)
        {
            File.WriteAllBytes(Path.Combine(voc, "JPEGImages", $"{i:D5}.jpg"), jpeg);
            File.WriteAllBytes(Path.Combine(voc, "SegmentationClass", $"{i:D5}.png"), mask);
        }
        if (classNames is not null) File.WriteAllText(Path.Combine(voc, "classes.txt"), classNames);
        return root;
    }

    [Test]
    public void A_synthetic_segnet_run_on_a_voc_tree_adapts_the_ignore_label_or_names_the_difference()
    {
        using var dir = new TempDir();
        var run = dir["run"];
        var (code, _, stderr) = Run("train", "--net", "segnet", "--width", "0.125", "--examples", "8", "--batch", "4", "--epochs", "1", "--threads", "2", "--out", run);
        Assert.That(code, Is.Zero, stderr);

        var voc5 = VocTree(dir["voc5"], "background\ncircle\nsquare\ntriangle\ncross\n");
        // The crash of issue 14: labels 255 against the run's ignore label -1.
        (code, var stdout, stderr) = Run("eval", "--weights", run, "--data", voc5);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stderr, Does.Not.Contain("Exception"));
        Assert.That(stdout, Does.Contain("note: ").And.Contain("label 255").And.Contain("no ignore label"));
        Assert.That(stdout, Does.Match(@"pixel accuracy \d+\.\d+ %, mIoU \d+\.\d+ %"));

        (code, _, stderr) = Run("eval", "--weights", run, "--data", voc5, "--boundary", "class");
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr.Trim().Split('\n'), Has.Length.EqualTo(1), stderr);
        Assert.That(stderr, Does.StartWith($"error: --data {voc5}: ").And.Contain("6 classes").And.Contain($"the run {run} was trained with 5")
            .And.Contain("--boundary ignore"));

        var voc21 = VocTree(dir["voc21"], null);
        (code, _, stderr) = Run("eval", "--weights", run, "--data", voc21);
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr.Trim(), Does.StartWith($"error: --data {voc21}: ").And.Contain("21 classes (ignore label 255)")
            .And.Contain("trained with 5 (ignore label -1)").And.Not.Contain("\n"));
    }
}
