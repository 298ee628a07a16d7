using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

public class ElementwiseGradientTests
{
    [TestCase(2, 3, 5, 7)]
    [TestCase(1, 1, 1, 1)]
    public void Relu_gradient_matches_central_differences(int n, int c, int h, int w)
    {
        var (g, y) = OpHarness.Single(new Relu(), new Shape(c, h, w));
        var report = new GradientChecker().Check(g, n, y[0]);
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(n * c * h * w));
    }

    [Test]
    public void Relu_on_a_tensor_of_several_parallel_chunks_and_a_ragged_tail_is_exact_in_both_passes()
    {
        // 3 x 65,537 elements: three chunks, the last a partial SIMD vector; NaN propagates, as in PyTorch.
        var (g, y) = OpHarness.Single(new Relu(), new Shape(65_537));
        using var backend = new Engine.Graph.CpuBackend<float>();
        using var exec = new Engine.Graph.Executor(g, backend, 3, inputGradients: true);
        var rng = new Rng(9);
        var x = new float[3 * 65_537];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() - 0.5);
        x[5] = 0f; x[70_000] = float.NaN; x[^1] = 0.25f; x[^2] = -0.25f;
        var dy = new double[x.Length];
        for (int i = 0; i < dy.Length; i++) dy[i] = rng.NextDouble();
        exec.SetInput("x0", x);
        exec.Forward(training: true);
        exec.Backward(y[0], dy);
        var outY = exec.ReadFloat(y[0]);
        var dx = exec.ReadGrad(g.Input("x0"));
        for (int i = 0; i < x.Length; i++)
        {
            float expected = float.IsNaN(x[i]) ? float.NaN : Math.Max(x[i], 0f);
            Assert.That(outY[i], Is.EqualTo(expected), $"y[{i}] for x = {x[i]}");
            Assert.That(dx[i], Is.EqualTo(x[i] > 0 ? (double)(float)dy[i] : 0.0), $"dx[{i}] for x = {x[i]}");
        }
    }

    [Test]
    public void Add_gradient_reaches_both_inputs()
    {
        var (g, y) = OpHarness.Single(new Add(), new Shape(3, 4, 5), new Shape(3, 4, 5));
        var report = new GradientChecker().Check(g, 2, y[0]);
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(2 * 2 * 60));
    }

    [Test]
    public void Add_rejects_mismatched_shapes_naming_the_layer()
    {
        var ex = Assert.Throws<ShapeException>(() => OpHarness.Single(new Add(), new Shape(3, 4, 5), new Shape(2, 4, 5)));
        Assert.That(ex!.Message, Does.Contain("op").And.Contain("3x4x5"));
    }
}
