using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;
using Engine.Tests.Export;
using Engine.Training.Checkpoints;
using Host;
using Microsoft.ML.OnnxRuntime;
using TempDir = Engine.Tests.Training.Support.TempDir;

namespace Engine.Tests.Cli;

/// <summary>`host export --format onnx` on a weights file and on a run folder, and its one-line errors.</summary>
[NonParallelizable]
public class ExportCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) =>
        CliRunner.Run([TrainCommand.Create(), ExportCommand.Create()], args);

    [Test]
    public void A_weights_file_exports_beside_itself_and_runs_in_onnx_runtime_as_in_the_engine()
    {
        using var dir = new TempDir();
        var g = NetRegistry.Build("vgg11-lrn", new NetOptions { Width = 1.0 / 16, Input = new Shape(3, 32, 32), Classes = 4 });
        using var backend = new CpuBackend<float>();
        using var exec = new Executor(g, backend, OnnxRun.Batch, new ExecutorOptions { InferenceOnly = true });
        exec.Parameters.Initialize(11);
        WeightFile.Save(dir["w.safetensors"], exec.Parameters);

        var (code, stdout, stderr) = Run("export", "--weights", dir["w.safetensors"], "--net", "vgg11-lrn", "--width", "0.0625", "--input", "3x32x32", "--classes", "4");
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.StartWith($"wrote {dir["w.onnx"]} (vgg11-lrn, 3x32x32, 4 classes").And.Contain("opset 18"));
        var run = OnnxRun.Of(exec, File.ReadAllBytes(dir["w.onnx"]), OnnxRun.Images(g, 3));
        Assert.That(run.OnnxLogits, Is.EqualTo(run.EngineLogits).Within(1e-4));
        Assert.That(run.EngineLogits.Distinct().Count(), Is.GreaterThan(1));
    }

    [Test]
    public void A_run_folder_exports_its_segmentation_net_with_a_mask_output()
    {
        using var dir = new TempDir();
        var runDir = dir["run"];
        var (code, _, stderr) = Run("train", "--net", "segnet", "--width", "0.125", "--examples", "8", "--batch", "4", "--epochs", "1", "--threads", "2", "--out", runDir);
        Assert.That(code, Is.Zero, stderr);

        (code, var stdout, stderr) = Run("export", "--weights", runDir, "--format", "ONNX");
        Assert.That(code, Is.Zero, stderr);
        var path = Path.Combine(runDir, ExportCommand.DefaultFileName);
        Assert.That(stdout, Does.StartWith($"wrote {path} (segnet, 3x32x32"));
        using var session = new InferenceSession(path);
        Assert.That(session.InputMetadata["image"].Dimensions, Is.EqualTo(new[] { -1, 3, 32, 32 }), "the batch is free");
        Assert.That(session.OutputMetadata.Keys, Is.EquivalentTo(new[] { "logits", "probabilities", "mask" }));
        Assert.That(session.OutputMetadata["mask"].Dimensions, Is.EqualTo(new[] { -1, 32, 32 }));
        var meta = session.ModelMetadata.CustomMetadataMap;
        Assert.That((meta["engine.net"], meta["engine.input"], meta["engine.mean"]), Is.EqualTo(("segnet", "3x32x32", "")));
        Assert.That(float.Parse(meta["engine.scale"], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(1f / 255), "segnet's resize recipe: pixels / 255");
        Assert.That(session.ModelMetadata.ProducerName, Is.EqualTo("engine"));

        (code, _, stderr) = Run("export", "--weights", runDir, "--out", dir["elsewhere/segnet.onnx"]);
        Assert.That(code, Is.Zero, stderr);
        Assert.That(File.ReadAllBytes(dir["elsewhere/segnet.onnx"]), Is.EqualTo(File.ReadAllBytes(path)), "the same model, byte for byte");
    }

    [TestCase(new[] { "--weights", "missing.safetensors" }, "error: --weights missing.safetensors: no such file or folder")]
    [TestCase(new[] { "--weights", "x", "--format", "tflite" }, "error: --format tflite: not a known format (known: onnx)")]
    public void Bad_arguments_are_one_line_errors(string[] args, string expected)
    {
        var (code, _, stderr) = Run(["export", .. args]);
        Assert.That((code, stderr.Trim()), Is.EqualTo((ExitCodes.Usage, expected)));
    }

    [Test]
    public void Help_names_the_outputs_and_the_options()
    {
        var (code, stdout, _) = Run("export", "--help");
        Assert.That(code, Is.Zero);
        Assert.That(stdout, Does.Contain("--weights").And.Contain("--format").And.Contain("--out").And.Contain("\"mask\"").And.Contain("opset 18"));
    }
}
