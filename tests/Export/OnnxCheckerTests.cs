using Engine.Export.Onnx;
using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;
using Engine.Tests.PyTorch;
using TempDir = Engine.Tests.Training.Support.TempDir;

namespace Engine.Tests.Export;

/// <summary>
/// Exported models through the onnx package's own checker with shape inference
/// (tools/reference/onnx_check.py); skipped with the reason where python3-onnx is missing, or
/// where the installed onnx predates an operator the model uses (onnx 1.12 stops at opset 17: no Mish).
/// </summary>
public class OnnxCheckerTests
{
    private static IEnumerable<TestCaseData> Nets()
    {
        yield return new TestCaseData("vgg11-lrn", Norm.Default).SetArgDisplayNames("vgg11-lrn");
        yield return new TestCaseData("segnet", Norm.Default).SetArgDisplayNames("segnet");
        yield return new TestCaseData("fcn", Norm.Group).SetArgDisplayNames("fcn", "gn");
        yield return new TestCaseData("vovnet57", Norm.Default).SetArgDisplayNames("vovnet57");
    }

    [TestCaseSource(nameof(Nets))]
    public void The_onnx_checker_accepts_the_export(string name, Norm norm)
    {
        var python = PythonTorch.OnnxPython(out var reason) ?? throw new IgnoreException(reason);
        var info = NetRegistry.Find(name);
        var g = NetRegistry.Build(name, new NetOptions
        {
            Width = 1.0 / 16, Input = info.Segmentation ? new Shape(3, 32, 32) : new Shape(3, 48, 48), Classes = 3, Norm = norm,
        });
        using var dir = new TempDir();
        using var backend = new CpuBackend<float>();
        using var parameters = new ParameterBuffers(g, backend);
        parameters.Initialize(3);
        using (var file = File.Create(dir["model.onnx"])) OnnxExporter.Write(file, OnnxExporter.Build(g, parameters));

        var (code, output) = PythonTorch.Run(python, Path.Combine(PythonTorch.RepoRoot, "tools", "reference", "onnx_check.py"), dir["model.onnx"]);
        Assert.That(code, Is.Zero, output);
        if (output.StartsWith("newer ", StringComparison.Ordinal)) Assert.Ignore($"the installed onnx cannot judge it: {output.Trim()}");
        Assert.That(output.Trim(), Is.EqualTo($"ok {dir["model.onnx"]}"));
    }
}
