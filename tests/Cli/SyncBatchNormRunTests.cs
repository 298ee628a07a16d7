using Host;
using TempDir = Engine.Tests.Training.Support.TempDir;

namespace Engine.Tests.Cli;

/// <summary>A run trained with --norm syncbn (here in one process) is evaluated and exported like any other.</summary>
[NonParallelizable]
public class SyncBatchNormRunTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) =>
        CliRunner.Run([TrainCommand.Create(), EvalCommand.Create(), ExportCommand.Create()], args);

    [Test]
    public void A_syncbn_run_evaluates_and_exports()
    {
        using var dir = new TempDir();
        var run = dir["run"];
        var (code, _, stderr) = Run("train", "--net", "segnet", "--width", "0.125", "--examples", "8", "--batch", "4", "--epochs", "1",
            "--norm", "syncbn", "--threads", "1", "--out", run);
        Assert.That(code, Is.Zero, stderr);
        (code, var stdout, stderr) = Run("eval", "--weights", run);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.Match(@"pixel accuracy \d+\.\d+ %, mIoU \d+\.\d+ %"));
        (code, _, stderr) = Run("export", "--weights", run, "--format", "onnx");
        Assert.That(code, Is.Zero, stderr);
        Assert.That(File.Exists(Path.Combine(run, "model.onnx")));
    }
}
