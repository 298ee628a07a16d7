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
    public void Float_matches_naive_loops_over_long_rows()
    {
        // 2500 features cross several dot-product chunks; 200 outputs split over the cores.
        const int batch = 5, inFeatures = 2500, outFeatures = 200;
        var (g, y) = OpHarness.Single(new Dense(outFeatures), new Shape(inFeatures));
        using var backend = new CpuBackend<float>();
        using var exec = new Executor(g, backend, batch, inputGradients: true);
        var rng = new Rng(4);
        var p = exec.Parameters.GetValues();
        for (int i = 0; i < p.Length; i++) p[i] = (float)rng.NextNormal();
        exec.Parameters.SetValues(p);
        var x = new double[batch * inFeatures];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextNormal();
        exec.SetInput("x0", x);
        exec.Forward(training: false);
        var output = exec.Read(y[0]);
        var dy = new double[batch * outFeatures];
        for (int i = 0; i < dy.Length; i++) dy[i] = (float)rng.NextNormal();
        exec.Parameters.ZeroGrads();
        exec.Backward(y[0], dy);
        var dx = exec.ReadGrad(g.Input("x0"));
        var grads = exec.Parameters.GetGrads();

        for (int n = 0; n < batch; n++)
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = p[outFeatures * inFeatures + o], scale = Math.Abs(sum);
                for (int i = 0; i < inFeatures; i++) { sum += x[n * inFeatures + i] * p[o * inFeatures + i]; scale += Math.Abs(x[n * inFeatures + i] * p[o * inFeatures + i]); }
                Assert.That(output[n * outFeatures + o], Is.EqualTo(sum).Within(1e-5 * scale), $"y[{n},{o}]");
            }
        for (int n = 0; n < batch; n++)
            for (int i = 0; i < inFeatures; i += 7)
            {
                double sum = 0, scale = 0;
                for (int o = 0; o < outFeatures; o++) { sum += dy[n * outFeatures + o] * p[o * inFeatures + i]; scale += Math.Abs(dy[n * outFeatures + o] * p[o * inFeatures + i]); }
                Assert.That(dx[n * inFeatures + i], Is.EqualTo(sum).Within(1e-5 * scale), $"dx[{n},{i}]");
            }
        for (int o = 0; o < outFeatures; o += 3)
            for (int i = 0; i < inFeatures; i += 11)
            {
                double sum = 0, scale = 0;
                for (int n = 0; n < batch; n++) { sum += dy[n * outFeatures + o] * x[n * inFeatures + i]; scale += Math.Abs(dy[n * outFeatures + o] * x[n * inFeatures + i]); }
                Assert.That(grads[o * inFeatures + i], Is.EqualTo(sum).Within(1e-5 * scale), $"dW[{o},{i}]");
            }
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
