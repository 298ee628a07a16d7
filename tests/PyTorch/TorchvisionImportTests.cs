using System.Text.Json.Nodes;
using Engine.Inference;
using Engine.Nets;
using Engine.Tensors;
using Engine.Weights;
using Engine.Tests.Cli;
using Host;
using TempDir = Engine.Tests.Training.Support.TempDir;

namespace Engine.Tests.PyTorch;

/// <summary>
/// torchvision's VGG in and out (tools/reference/torchvision_vgg.py): a width-reduced vgg11 and
/// vgg16_bn built with torchvision's own VGG class and make_layers, so the same state-dict names
/// as torchvision.models.vgg11 / vgg16_bn, at 1/8 width, 64x64 input (a 2x2 map that the adaptive
/// pool spreads to 7x7) and 10 classes; random weights and BN statistics. The full models differ
/// only in widths (vgg11 at 224 is a 531 MB file), which the name maps do not depend on.
/// </summary>
[TestFixture, NonParallelizable]
public class TorchvisionImportTests
{
    private const string Width = "0.125";
    private static readonly Shape Input = new(3, 64, 64);

    private static (int Code, string Out, string Err) Run(params string[] args) =>
        CliRunner.Run([TrainCommand.Create(), ConvertCommand.Create()], args);

    private static string Script => Path.Combine(PythonTorch.RepoRoot, "tools", "reference", "torchvision_vgg.py");

    private static string PythonOrIgnore()
    {
        var python = PythonTorch.Python(out var reason) ?? throw new IgnoreException(reason);
        var (code, _) = PythonTorch.Run(python, "-c", "import torchvision");
        if (code != 0) Assert.Ignore("torchvision not found: install python3-torchvision (./build.sh does as root)");
        return python;
    }

    private static void RunScript(string python, params string[] args)
    {
        var (code, output) = PythonTorch.Run(python, [Script, .. args]);
        Assert.That(code, Is.Zero, output);
    }

    private static ModelSpec Spec(string net) => new()
    {
        Net = net.Replace("_bn", ""), Input = Input, Width = double.Parse(Width, System.Globalization.CultureInfo.InvariantCulture),
        Norm = net.EndsWith("_bn", StringComparison.Ordinal) ? Norm.Batch : Norm.None,
    };

    private static Tensor<float> Image(string npy)
    {
        var x = Npy.Read<float>(npy);
        return new Tensor<float>(Input, x.Data);
    }

    private static void AssertSameProbabilities(Prediction ours, float[] theirs)
    {
        Assert.That(ours.Probabilities, Is.EqualTo(theirs.Select(p => (double)p)).Within(1e-5));
        var top = theirs.Select((p, c) => (p, c)).OrderByDescending(x => x.p).Take(5).Select(x => x.c);
        Assert.That(ours.Top(5).Select(c => c.Class), Is.EqualTo(top));
    }

    [TestCase("vgg11")]
    [TestCase("vgg16_bn")]
    public void Torchvision_weights_predict_torchvisions_probabilities(string net)
    {
        var python = PythonOrIgnore();
        using var dir = new TempDir();
        RunScript(python, "make", net, Width, "64", "10", "7", dir["w.pth"], dir["x.npy"], dir["p.npy"]);

        using var predictor = Predictor.Load(dir["w.pth"], Device.Cpu, Spec(net));

        Assert.That(predictor.Net.Import.Layout, Is.SameAs(NameMap.TorchvisionVgg));
        Assert.That(predictor.Spec.AdaptivePool, Is.True, "a torchvision file brings its adaptive pooling");
        Assert.That(predictor.Spec.Classes, Is.EqualTo(10), "the class count comes from the file's head");
        AssertSameProbabilities(predictor.Predict(Image(dir["x.npy"])), Npy.Read<float>(dir["p.npy"]).Data);
    }

    [TestCase("vgg11")]
    [TestCase("vgg16_bn")]
    public void Our_trained_weights_load_into_torchvision_and_predict_the_same(string net)
    {
        var python = PythonOrIgnore();
        using var dir = new TempDir();
        var run = dir["run"];
        var spec = Spec(net);
        var (code, _, err) = Run("train", "--net", spec.Net, "--norm", spec.Norm == Norm.Batch ? "bn" : "none", "--adaptive-pool", "--width", Width,
            "--input", "3x64x64", "--examples", "8", "--batch", "4", "--epochs", "1", "--threads", "1", "--out", run);
        Assert.That(code, Is.Zero, err);
        (code, var stdout, err) = Run("convert", "--from", run, "--to", "torchvision", "--out", dir["tv.safetensors"]);
        Assert.That(code, Is.Zero, err);
        Assert.That(stdout, Does.Contain("in torchvision VGG names"));
        var rng = new Rng(3);
        Npy.Write(dir["x.npy"], new Tensor<float>(Input.Prepend(1), Enumerable.Range(0, (int)Input.Numel).Select(_ => (float)rng.NextNormal()).ToArray()));
        using var predictor = Predictor.Load(run);
        RunScript(python, "load", net, Width, predictor.Spec.Classes!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            dir["tv.safetensors"], dir["x.npy"], dir["p.npy"]);

        AssertSameProbabilities(predictor.Predict(Image(dir["x.npy"])), Npy.Read<float>(dir["p.npy"]).Data);
    }

    [Test]
    public void Torch_save_files_of_every_float_type_and_views_are_read_exactly()
    {
        var python = PythonOrIgnore();
        using var dir = new TempDir();
        const string writer = """
            import collections, json, sys, torch
            base = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8 - 0.5
            sd = collections.OrderedDict(
                f32=base, f16=base.half(), bf16=base.bfloat16(), f64=base.double(),
                transposed=base.t(), column=base[:, 1], param=torch.nn.Parameter(base[1:]), steps=torch.tensor(3))
            torch.save({"epoch": 2, "state_dict": sd}, sys.argv[1])
            print(json.dumps({k: v.float().flatten().tolist() for k, v in sd.items()}))
            """;
        var (code, output) = PythonTorch.Run(python, "-c", writer, dir["m.pth"]);
        Assert.That(code, Is.Zero, output);
        var expected = JsonNode.Parse(output)!.AsObject();

        using var reader = WeightFiles.Open(dir["m.pth"]);
        Assert.That(reader.Format, Is.EqualTo("PyTorch zip"));
        foreach (var entry in reader.Tensors.Where(t => t.Name != "steps"))
        {
            var values = new float[entry.Shape.Numel];
            reader.Read<float>(entry, values);
            Assert.That(values, Is.EqualTo(expected[entry.Name]!.AsArray().Select(v => (float)v!)), entry.Name);
        }
        Assert.That(reader.Tensors.Single(t => t.Name == "transposed").Shape, Is.EqualTo(new Shape(4, 3)));
        Assert.That(reader.Tensors.Single(t => t.Name == "steps").DType, Is.EqualTo("I64"));
    }
}
