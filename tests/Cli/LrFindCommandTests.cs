using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Engine.Tests.Training.Support;
using Host;

namespace Engine.Tests.Cli;

/// <summary>`host lr-find` on the embedded synthetic set with a tiny segnet on the CPU (about a second).</summary>
[NonParallelizable]
public class LrFindCommandTests
{
    private static readonly string[] Tiny = ["lr-find", "--net", "segnet", "--width", "0.125", "--examples", "48", "--batch", "4", "--threads", "2",
        "--device", "cpu", "--start-lr", "1e-5", "--end-lr", "10", "--steps", "50"];

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        return CliRunner.Run([LrFindCommand.Create()], args);
    }

    [Test]
    public void Draws_the_plot_and_suggests_an_lr_where_the_loss_falls()
    {
        using var dir = new TempDir();
        var svg = dir["plots/lr.svg"];
        var (code, stdout, stderr) = Run([.. Tiny, "--out", svg]);
        Assert.That(code, Is.EqualTo(0), stdout + stderr);
        Assert.That(File.ReadAllText(svg), Does.StartWith("<svg").And.Contain("steepest descent"));
        var rows = File.ReadAllLines(dir["plots/lr.csv"]).Skip(1).Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
        Assert.That(rows, Has.Count.InRange(10, 50));
        Assert.That(rows[0][1], Is.EqualTo(1e-5).Within(1e-12));

        var m = Regex.Match(stdout, @"suggested lr: (\S+)  \(steepest descent of the loss over (\d+) steps, centred on step (\d+)\)");
        Assert.That(m.Success, stdout);
        Assert.That(stdout, Does.Match(@"cautious hint: \S+  \(a tenth of the lr at the lowest \d+-step mean"));
        double lr = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        int window = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), step = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) - 1;
        Assert.That(rows[step][1], Is.EqualTo(lr).Within(lr * 0.01));
        AssertInsideTheFall(rows, lr, window, stdout);
    }

    /// <summary>
    /// The suggestion lies where the loss falls: between the highest and the lowest mean of
    /// <paramref name="window"/> consecutive raw losses (the highest before the lowest), and the mean of
    /// the window that ends at the suggestion is above that of the window that starts there.
    /// </summary>
    internal static void AssertInsideTheFall(List<double[]> rows, double lr, int window, string output)
    {
        var means = Enumerable.Range(0, rows.Count - window + 1).Select(i => rows.Skip(i).Take(window).Average(r => r[2])).ToList();
        int lowest = means.IndexOf(means.Min());
        int highest = means.Take(lowest + 1).ToList().IndexOf(means.Take(lowest + 1).Max());
        double fallStart = rows[highest + window / 2][1], fallEnd = rows[lowest + window / 2][1];
        Assert.That(lr, Is.GreaterThan(fallStart).And.LessThan(fallEnd), $"the loss falls from lr {fallStart:G3} to {fallEnd:G3}\n{output}");
        int at = rows.FindIndex(r => Math.Abs(r[1] - lr) <= lr * 0.01);
        Assert.That(rows.Skip(at).Take(window).Average(r => r[2]), Is.LessThan(rows.Skip(Math.Max(0, at - window + 1)).Take(window).Average(r => r[2])),
            "the loss is lower in the window after the suggestion than in the one before");
    }

    [Test]
    public void A_loss_that_never_falls_gives_no_suggestion_and_exit_code_1_but_still_the_plot()
    {
        // vgg11 on 32x32 synthetic images: flat at 2.30 until Adam diverges near lr 0.4.
        using var dir = new TempDir();
        var (code, stdout, stderr) = Run(["lr-find", "--net", "vgg11", "--examples", "128", "--batch", "8", "--threads", "2", "--steps", "60", "--out", dir["lr.svg"]]);
        Assert.That(code, Is.EqualTo(1), stdout + stderr);
        Assert.That(stdout, Does.Contain("stopped early after"));
        Assert.That(stderr.Trim().Split('\n')[^1], Does.StartWith("error: no suggestion: the loss diverged before it fell"));
        Assert.That(File.Exists(dir["lr.svg"]) && File.Exists(dir["lr.csv"]));
    }

    [TestCase(new[] { "--end-lr", "1e-8" }, "--end-lr 1E-08: must be a number above --start-lr 1E-07")]
    [TestCase(new[] { "--start-lr", "0" }, "--start-lr 0: must be a positive number")]
    [TestCase(new[] { "--steps", "1" }, "--steps 1: must be at least 2")]
    [TestCase(new[] { "--optimizer", "rmsprop" }, "--optimizer 'rmsprop': expected sgd, sgd-unit or adam")]
    public void Bad_input_gives_one_error_line_and_exit_code_2(string[] args, string message)
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Run(["lr-find", "--net", "segnet", "--out", dir["lr.svg"], .. args]);
        Assert.That(code, Is.EqualTo(2), stderr);
        Assert.That(stderr.Trim(), Does.StartWith("error: " + message));
        Assert.That(File.Exists(dir["lr.svg"]), Is.False);
    }
}
