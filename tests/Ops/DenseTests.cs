using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

public class DenseTests
{
    [TestCase(3, true)]
    [TestCase(1, false)]
    public void Gradient_matches_central_differences_on_a_4d_input(int batch, bool bias)
    {
        var (g, y) = OpHarness.Single(new Dense(5, bias), new Shape(2, 3, 4));
        var report = new GradientChecker().Check(g, batch, y[0]);
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(5 * 24 + (bias ? 5 : 0) + batch * 24));
    }

    [Test]
    public void Forward_is_x_times_weight_transposed_plus_bias()
    {
        var (g, y) = OpHarness.Single(new Dense(2), new Shape(3, 1, 1));
        using var backend = new CpuBackend<float>();
        using var exec = new Executor(g, backend, 2);
        // weight [[1, 2, 3], [4, 5, 6]], bias [10, 20] (PyTorch Linear layout)
        exec.Parameters.SetValues([1, 2, 3, 4, 5, 6, 10, 20]);
        exec.SetInput("x0", new float[] { 1, 0, -1, 2, 1, 0 });
        exec.Forward(training: false);
        Assert.That(exec.Read(y[0]), Is.EqualTo(new double[] { 1 - 3 + 10, 4 - 6 + 20, 2 + 2 + 10, 8 + 5 + 20 }));
    }

    [Test]
    public void Declares_glorot_weight_out_by_in_and_counts_macs()
    {
        var b = new GraphBuilder("t");
        var x = b.Input("x", new Shape(64, 7, 7));
        var y = b.Dense(x, 1000, name: "fc");
        var g = b.Build();
        Assert.That(y.Shape, Is.EqualTo(new Shape(1, 1000)));
        Assert.That(g.Parameters["fc.weight"].Shape, Is.EqualTo(new Shape(1000, 3136)));
        Assert.That(g.Parameters["fc.weight"].Init, Is.EqualTo(Init.Glorot(3136, 1000)));
        Assert.That(g.Parameters["fc.bias"].Init.Kind, Is.EqualTo(InitKind.Zeros));
        Assert.That(g.MultiplyAccumulates, Is.EqualTo(3136L * 1000));
        Assert.That(new Dense(10).Describe().Filters, Is.EqualTo("10"));
    }

    [Test]
    public void Rejects_an_input_without_features()
    {
        var b = new GraphBuilder("t");
        var x = b.Input("x", new Shape());
        var ex = Assert.Throws<ShapeException>(() => b.Dense(x, 3, name: "fc"));
        Assert.That(ex!.Message, Does.Contain("fc").And.Contain("rank 1"));
    }
}
