using Engine.Tests.Training.Support;
using Engine.Training.Checkpoints;
using Host;

namespace Engine.Tests.Cli;

/// <summary>`host train --recipe`: the data recipe's line on a small image folder, `paper`, and flags that win.</summary>
[NonParallelizable]
public class RecipeCommandTests
{
    private static string Folder(TempDir dir)
    {
        var data = dir["data"];
        for (int c = 0; c < 3; c++)
        {
            Directory.CreateDirectory(Path.Combine(data, $"class{c}"));
            for (int i = 0; i < 8; i++)
                File.WriteAllBytes(Path.Combine(data, $"class{c}", $"{i}.jpg"), Engine.Tests.Data.TestImages.GradientJpeg(20 + 4 * c + i, 24));
        }
        return data;
    }

    private static string[] Vgg(string data, string run) =>
        ["train", "--net", "vgg11", "--input", "3x32x32", "--data", data, "--val-fraction", "0.25", "--device", "cpu", "--width", "0.0625", "--threads", "2", "--out", run, "--max-steps", "1"];

    private static TrainSettings Saved(string run) => TrainSettings.FromJson(Checkpoint.ReadState(run).Config, run);

    [Test]
    public void A_small_folder_run_starts_by_saying_what_the_data_recipe_chose_and_why()
    {
        using var dir = new TempDir();
        var (code, stdout, stderr) = TrainCommandTests.Run(Vgg(Folder(dir), dir["run"]));
        Assert.That(code, Is.Zero, stderr);
        // 3 classes x 8 images, a quarter held out: 18 training examples, one batch of 16 an epoch.
        const string line = "recipe data: 18 training examples -> batch 16 (1 steps an epoch; the largest power of two in 16..256 with at least 50 where the data allows), " +
            "Adam lr 0.001 (robust for small data at any batch), linear warm-up over 10 steps, then lr/10 at 2/3 and 8/9 of the steps, 200 steps in 200 epochs";
        Assert.That(stdout.Split('\n').Take(3), Has.Some.StartsWith(line), stdout);
        Assert.That(File.ReadLines(dir["run/train.log"]).First(), Does.Contain(line));
        var s = Saved(dir["run"]);
        Assert.That((s.Batch, s.Epochs, s.Optimizer, s.LearningRate, s.Schedule, s.Classes), Is.EqualTo((16, 200, "adam", 1e-3, "warmup", 3)));
        Assert.That(stdout.Split('\n').Take(4), Has.Some.StartsWith("recipe data: augmentation: VGG scale S in [32, 36]"), stdout);
        Assert.That((s.VggScale, s.Flip), Is.EqualTo(("32:36", (bool?)false)));
    }

    [Test]
    public void Paper_keeps_the_seeds_settings_and_explicit_flags_win()
    {
        using var dir = new TempDir();
        var data = Folder(dir);
        var (code, stdout, stderr) = TrainCommandTests.Run([.. Vgg(data, dir["paper"]), "--recipe", "paper", "--batch", "8"]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("defaults: " + TrainDefaults.For("vgg11").Source).And.Not.Contain("recipe data"));
        var s = Saved(dir["paper"]);
        Assert.That((s.Batch, s.Epochs, s.Optimizer, s.LearningRate, s.Momentum, s.WeightDecay, s.Schedule), Is.EqualTo((8, 74, "sgd", 0.01, 0.9, 5e-4, "plateau")));

        (code, stdout, stderr) = TrainCommandTests.Run([.. Vgg(data, dir["given"]), "--batch", "4", "--epochs", "3", "--optimizer", "sgd", "--weight-decay", "0.001",
            "--scale", "40", "--flip", "on"]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("batch 4 as given (4 steps an epoch)").And.Contain("12 steps in 3 epochs (as given)")
            .And.Contain("VGG scale S 40 as given, mirroring on as given"));
        s = Saved(dir["given"]);
        Assert.That((s.Batch, s.Epochs, s.Optimizer, s.LearningRate, s.WeightDecay, s.Schedule), Is.EqualTo((4, 3, "sgd", 0.01 * 4 / 256, 0.001, "warmup")));
        Assert.That((s.VggScale, s.Flip), Is.EqualTo(("40", (bool?)true)));
    }

    [TestCase(new[] { "--recipe", "fast" }, "error: --recipe 'fast': expected data or paper")]
    [TestCase(new[] { "--recipe", "data" }, "error: --recipe data fits the size of a dataset folder; give it with --data DIR")]
    [TestCase(new[] { "--flip", "maybe" }, "error: --flip 'maybe': expected on or off")]
    public void A_bad_recipe_is_one_error_line(string[] args, string message)
    {
        using var dir = new TempDir();
        var (code, _, stderr) = TrainCommandTests.Run(["train", "--out", dir["run"], .. args]);
        Assert.That((code, stderr.Trim()), Is.EqualTo((2, message)));
    }
}
