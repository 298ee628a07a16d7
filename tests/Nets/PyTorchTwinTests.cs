using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;
using Engine.Tests.PyTorch;

namespace Engine.Tests.Nets;

/// <summary>
/// tools/reference/nets.py against the engine: tiny versions of every net are exported (parameters,
/// BN running statistics, an image), the PyTorch twin loads them by name and computes logits in
/// float64 eval mode. Same names and shapes, and the same logits, mean the same architecture.
/// </summary>
public class PyTorchTwinTests
{
    private const int Batch = 2;

    private static readonly (string Net, NetOptions Options, string Args)[] Cases =
    [
        ("vovnet57", new() { Width = 1.0 / 16, Input = new Shape(3, 32, 32), Classes = 4 }, "--width 0.0625 --input 3x32x32 --classes 4"),
        ("vovnet57-paper", new() { Width = 1.0 / 16, Input = new Shape(2, 32, 32), Classes = 4, Norm = Norm.Group }, "--width 0.0625 --input 2x32x32 --classes 4 --norm gn"),
        ("vgg11", new() { Width = 1.0 / 16, Input = new Shape(3, 32, 32), Classes = 4 }, "--width 0.0625 --input 3x32x32 --classes 4"),
        ("vgg11-lrn", new() { Width = 1.0 / 16, Input = new Shape(3, 32, 32), Classes = 4 }, "--width 0.0625 --input 3x32x32 --classes 4"),
        ("vgg13", new() { Width = 1.0 / 16, Input = new Shape(3, 64, 64), Classes = 4, Norm = Norm.Batch }, "--width 0.0625 --input 3x64x64 --classes 4 --norm bn"),
        ("vgg16-c", new() { Width = 1.0 / 16, Input = new Shape(3, 64, 64), Classes = 4 }, "--width 0.0625 --input 3x64x64 --classes 4"),
        ("vgg16", new() { Width = 1.0 / 16, Input = new Shape(3, 96, 96), Classes = 4, DenseEvaluation = true, DenseKernel = 2 }, "--width 0.0625 --input 3x96x96 --classes 4 --dense-eval --dense-kernel 2"),
        ("vgg19", new() { Width = 1.0 / 16, Input = new Shape(3, 64, 64), Classes = 4, Norm = Norm.Group }, "--width 0.0625 --input 3x64x64 --classes 4 --norm gn"),
        ("segnet", new() { Width = 1.0 / 8, Input = new Shape(3, 36, 20), Classes = 5 }, "--width 0.125 --input 3x36x20 --classes 5"),
        ("fcn-clean", new() { Width = 1.0 / 8, Input = new Shape(3, 16, 32), Classes = 5 }, "--width 0.125 --input 3x16x32 --classes 5"),
        ("fcn", new() { Width = 1.0 / 8, Input = new Shape(3, 32, 32), Classes = 5, Norm = Norm.Group }, "--width 0.125 --input 3x32x32 --classes 5 --norm gn"),
    ];

    [Test]
    public void Twins_have_our_names_and_shapes_and_compute_our_logits()
    {
        var python = PythonTorch.Python(out var reason) ?? Ignore(reason);
        var script = Path.Combine(PythonTorch.RepoRoot, "tools", "reference", "nets.py");
        var root = Directory.CreateTempSubdirectory("nets-parity-");
        try
        {
            var expected = new Dictionary<string, double[]>();
            foreach (var (net, options, args) in Cases)
            {
                var dir = Directory.CreateDirectory(Path.Combine(root.FullName, net)).FullName;
                File.WriteAllText(Path.Combine(dir, "args.txt"), $"{net} {args}");
                expected[net] = Export(NetRegistry.Build(net, options), dir);
            }
            var (code, output) = PythonTorch.Run(python, script, "--parity", root.FullName);
            Assert.That(code, Is.Zero, output);

            foreach (var (net, options, _) in Cases)
            {
                var dir = Path.Combine(root.FullName, net);
                var g = NetRegistry.Build(net, options);
                var ours = g.Parameters.Views.Select(v => $"param\t{v.Name}\t{v.Shape}")
                    .Concat(g.States.Views.Select(v => $"state\t{v.Name}\t{v.Shape}")).Order();
                var theirs = File.ReadAllLines(Path.Combine(dir, "keys.txt")).Order();
                Assert.That(theirs, Is.EqualTo(ours), $"{net}: names and shapes");
                var logits = Npy.Read<double>(Path.Combine(dir, "logits.npy"));
                Assert.That(logits.Shape, Is.EqualTo(g.Output("logits").Shape.WithBatch(Batch)), net);
                double scale = expected[net].Max(Math.Abs);
                Assert.That(logits.Data, Is.EqualTo(expected[net]).Within(1e-9 * Math.Max(1, scale)), net);
            }
        }
        finally { root.Delete(recursive: true); }
    }

    /// <summary>Writes every parameter and state (non-trivial values), an image; returns our eval-mode logits.</summary>
    private static double[] Export(Graph.Graph g, string dir)
    {
        using var backend = new CpuBackend<double>();
        using var exec = new Executor(g, backend, Batch);
        var rng = new Rng(17);
        exec.Parameters.Initialize(5);
        var p = exec.Parameters.GetValues();
        for (int i = 0; i < p.Length; i++) p[i] += 0.05 * rng.NextNormal();
        exec.Parameters.SetValues(p);
        var s = new double[g.States.Count];
        foreach (var v in g.States.Views)
            for (long i = 0; i < v.Count; i++)
                s[v.Offset + i] = v.Name.EndsWith("running_var") ? rng.NextUniform(0.5, 1.5) : 0.2 * rng.NextNormal();
        exec.Parameters.SetStates(s);
        foreach (var v in g.Parameters.Views) Npy.Write(Path.Combine(dir, v.Name + ".npy"), new Tensor<double>(v.Shape, p.AsSpan((int)v.Offset, (int)v.Count).ToArray()));
        foreach (var v in g.States.Views) Npy.Write(Path.Combine(dir, v.Name + ".npy"), new Tensor<double>(v.Shape, s.AsSpan((int)v.Offset, (int)v.Count).ToArray()));

        var image = g.Input("image").Shape.WithBatch(Batch);
        var x = new double[image.Numel];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble();
        Npy.Write(Path.Combine(dir, "image.npy"), new Tensor<double>(image, x));
        exec.SetInput("image", x);
        exec.Forward(training: false);
        return exec.Read(g.Output("logits"));
    }

    private static string Ignore(string reason)
    {
        Assert.Ignore(reason);
        return "";
    }
}
