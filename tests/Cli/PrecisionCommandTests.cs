using System.Text.Json.Nodes;
using Engine.Tests.Training.Support;

namespace Engine.Tests.Cli;

/// <summary>`--precision` on `host train` and `host eval`: stored in the run, kept on resume, refused where the device cannot run it.</summary>
[NonParallelizable]
public class PrecisionCommandTests
{
    private static readonly string[] Tiny = ["--net", "segnet", "--width", "0.125", "--examples", "16", "--batch", "4", "--epochs", "1", "--threads", "2"];

    private static (int Code, string Out, string Err) Run(params string[] args) => TrainCommandTests.Run(args);

    private static string StoredPrecision(string run) =>
        (string)JsonNode.Parse(File.ReadAllText(Path.Combine(run, "checkpoint.json")))!["config"]!["precision"]!;

    [TestCase(new[] { "--precision", "fp16" }, "--precision 'fp16': expected fp32, tf32, bf16 or fp64")]
    [TestCase(new[] { "--precision", "tf32" }, "--precision tf32: tf32 is a GPU tensor-core mode; the CPU computes fp32, fp64, or emulates bf16")]
    [TestCase(new[] { "--precision", "bf16", "--gpu", "0" }, "--precision bf16 --gpu 0: bf16 runs on the CPU reference only for now: the GPU's bf16 path is not built yet; on the GPU use fp32 or tf32")]
    [TestCase(new[] { "--precision", "fp64", "--gpu", "0" }, "--precision fp64 --gpu 0: fp64 is the CPU backend's; the GPU computes fp32 or tf32")]
    public void A_precision_the_device_cannot_run_is_one_error_line_and_exit_code_2(string[] args, string message)
    {
        using var dir = new TempDir();
        var (code, _, stderr) = Run(["train", .. Tiny, "--out", dir["run"], .. args]);
        Assert.That((code, stderr.Trim()), Is.EqualTo((2, "error: " + message)));
    }

    [Test]
    public void A_bf16_run_stores_its_precision_resumes_in_it_refuses_another_and_evaluates()
    {
        using var dir = new TempDir();
        var run = dir["run"];
        var (code, stdout, stderr) = Run(["train", .. Tiny[..^4], "--epochs", "2", "--threads", "2", "--out", run, "--precision", "bf16", "--max-steps", "5"]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("precision: bf16 (cpu (single, bf16 emulated))"));
        Assert.That(StoredPrecision(run), Is.EqualTo("bf16"));

        (code, _, stderr) = Run("train", "--out", run, "--resume", "--precision", "fp32");
        Assert.That((code, stderr.Trim()), Is.EqualTo((2, $"error: --precision fp32: {run} was trained in bf16, and a resumed run continues exactly as it was; leave --precision out, or start a new run")));

        (code, _, stderr) = Run("train", "--out", run, "--resume", "--gpu", "0");
        Assert.That((code, stderr.Trim()), Is.EqualTo((2, $"error: --resume: {run} was trained in bf16 --gpu 0: bf16 runs on the CPU reference only for now: the GPU's bf16 path is not built yet; on the GPU use fp32 or tf32")));

        (code, stdout, stderr) = Run("train", "--out", run, "--resume");
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain("precision: bf16"));
        Assert.That(StoredPrecision(run), Is.EqualTo("bf16"));

        (code, stdout, stderr) = Run("eval", "--weights", run, "--precision", "bf16");
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain(", bf16) on "));
        (code, stdout, stderr) = Run("eval", "--weights", run);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Contain(", fp32) on "), "evaluation's own default, whatever the run trained in");
    }

    [Test]
    public void A_run_without_precision_is_fp32_and_says_nothing_of_it()
    {
        using var dir = new TempDir();
        var (code, stdout, stderr) = Run(["train", .. Tiny, "--out", dir["run"]]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Not.Contain("precision:"));
        Assert.That(StoredPrecision(dir["run"]), Is.EqualTo("fp32"));
    }
}
