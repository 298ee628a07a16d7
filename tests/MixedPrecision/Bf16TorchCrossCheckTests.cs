using System.Text.Json;
using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.PyTorch;

namespace Engine.Tests.MixedPrecision;

/// <summary>
/// A training step of a small conv net under emulated bf16 against the same rule written in
/// PyTorch with its own bfloat16 conversion (tools/reference/bf16_step.py). The two sum in
/// different orders, so a value near a rounding boundary can round the other way; they must
/// agree far more closely than either agrees with fp32.
/// </summary>
public class Bf16TorchCrossCheckTests
{
    private const int Batch = 8;

    private static Graph.Graph SmallCnn()
    {
        var b = new GraphBuilder("bf16-xcheck");
        var x = b.Input("image", new Shape(3, 16, 16));
        var label = b.Input("label", new Shape(), isInt: true);
        var h = b.Relu(b.BatchNorm(b.Conv2d(x, 8, 3, padding: 1, name: "c1"), name: "n1"));
        h = b.MaxPool(h, 2, 2);
        h = b.Relu(b.BatchNorm(b.Conv2d(h, 16, 3, padding: 1, bias: false, name: "c2"), name: "n2"));
        var logits = b.Dense(b.GlobalAvgPool(h), 4, name: "fc");
        b.SetLoss(b.SoftmaxCrossEntropy(logits, label));
        return b.Build();
    }

    private static (double Loss, double[] Grads) Step(Graph.Graph g, Backend backend, double[] image, int[] labels)
    {
        using var exec = new Executor(g, backend, Batch);
        exec.Parameters.Initialize(7);
        exec.Parameters.SetValues(exec.Parameters.GetValues().Select((v, i) => v + 0.01 * Math.Sin(i)).ToArray());  // BN's gamma/beta off 1/0
        exec.SetInput("image", image);
        exec.SetInput("label", labels);
        exec.Parameters.ZeroGrads();
        exec.Forward(training: true);
        exec.Backward();
        return (exec.Read(g.Loss!)[0], exec.Parameters.GetGrads());
    }

    [Test]
    public void A_bf16_step_matches_the_rule_written_in_pytorch()
    {
        var python = PythonTorch.Python(out var reason);
        if (python is null) Assert.Ignore(reason);
        var g = SmallCnn();
        var rng = new Rng(11);
        var image = Enumerable.Range(0, Batch * 3 * 16 * 16).Select(_ => rng.NextNormal()).ToArray();
        var labels = Enumerable.Range(0, Batch).Select(i => i % 4).ToArray();
        using var bf16 = new CpuBackend<float>(emulateBf16: true);
        using var fp32 = new CpuBackend<float>();
        var engine = Step(g, bf16, image, labels);
        var reference = Step(g, fp32, image, labels);

        var dir = Directory.CreateTempSubdirectory("bf16-xcheck-").FullName;
        try
        {
            Npy.Write(Path.Combine(dir, "x.npy"), new Tensor<double>(new Shape(Batch, 3, 16, 16), image));
            Npy.Write(Path.Combine(dir, "labels.npy"), new Tensor<int>(new Shape(Batch), labels));
            using (var exec = new Executor(g, fp32, Batch))
            {
                exec.Parameters.Initialize(7);
                var values = exec.Parameters.GetValues().Select((v, i) => v + 0.01 * Math.Sin(i)).ToArray();
                foreach (var v in g.Parameters.Views)
                    Npy.Write(Path.Combine(dir, v.Name + ".npy"), new Tensor<double>(v.Shape, values.AsSpan((int)v.Offset, (int)v.Count).ToArray()));
            }
            var (code, output) = PythonTorch.Run(python, Path.Combine(PythonTorch.RepoRoot, "tools", "reference", "bf16_step.py"), dir);
            Assert.That(code, Is.Zero, output);
            var losses = JsonSerializer.Deserialize<Dictionary<string, double>>(output.Trim().Split('\n')[^1])!;
            Assert.That(losses["fp32"], Is.EqualTo(reference.Loss).Within(1e-5).Percent, "the fp32 nets agree (same weights, same maths)");
            double lossToTorch = Math.Abs(engine.Loss - losses["bf16"]) / losses["bf16"], lossToFp32 = Math.Abs(engine.Loss - reference.Loss) / reference.Loss;
            TestContext.Out.WriteLine($"loss: engine bf16 {engine.Loss:R}, torch bf16 {losses["bf16"]:R}, fp32 {reference.Loss:R}; engine-torch {lossToTorch:E2}, bf16-fp32 {lossToFp32:E2}");
            Assert.That(lossToTorch, Is.LessThan(lossToFp32 / 10));

            foreach (var v in g.Parameters.Views)
            {
                var torch = Npy.Read<double>(Path.Combine(dir, "torch-bf16." + v.Name + ".npy")).Data;
                var ours = engine.Grads.AsSpan((int)v.Offset, (int)v.Count).ToArray();
                var fp = reference.Grads.AsSpan((int)v.Offset, (int)v.Count).ToArray();
                double toTorch = RelativeL2(ours, torch), toFp32 = RelativeL2(ours, fp);
                TestContext.Out.WriteLine($"{v.Name}: gradient engine-torch {toTorch:E2}, bf16-fp32 {toFp32:E2}");
                Assert.That(toTorch, Is.LessThan(toFp32 / 10), v.Name);
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static double RelativeL2(double[] a, double[] b) =>
        Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum()) / Math.Max(Math.Sqrt(b.Sum(y => y * y)), 1e-30);
}
