using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

public class LrnTests
{
    // The paper's settings, where alpha * sum is small beside k, and strong ones, where the cross-channel term dominates.
    [TestCase(2, 5, 1e-4, 0.75, 2.0, new[] { 7, 3, 4 })]
    [TestCase(2, 5, 0.4, 0.75, 1.5, new[] { 7, 3, 4 })]
    [TestCase(3, 3, 0.8, 1.3, 0.7, new[] { 4, 2, 3 })]
    [TestCase(2, 7, 0.5, 0.6, 1.0, new[] { 3, 2, 2 })]
    [TestCase(3, 1, 0.9, 0.75, 1.0, new[] { 2, 3, 1 })]
    [TestCase(3, 5, 0.3, 0.75, 2.0, new[] { 9 })]
    public void Gradient_matches_central_differences(int batch, int size, double alpha, double beta, double k, int[] sample)
    {
        var (g, y) = OpHarness.Single(new Lrn(size, alpha, beta, k), new Shape(sample));
        var report = new GradientChecker().Check(g, batch, y[0]);
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(batch * new Shape(sample).Numel));
    }

    [Test]
    public void Follows_the_papers_formula_with_alpha_on_the_sum_itself()
    {
        // Channels x = 1, 2, 3 at one pixel, size 3 (neighbours only), alpha 0.25, beta 1, k 1:
        // y_c = x_c / (1 + 0.25 * sum of squares of the window), windows {1,2}, {1,2,3}, {2,3}.
        var (g, y) = OpHarness.Single(new Lrn(3, 0.25, 1, 1), new Shape(3, 1, 1));
        using var backend = new CpuBackend<double>();
        using var exec = new Executor(g, backend, 1);
        exec.SetInput("x0", [1.0, 2, 3]);
        exec.Forward(training: false);
        Assert.That(exec.Read(y[0]), Is.EqualTo(new[] { 1 / 2.25, 2 / 4.5, 3 / 4.25 }).Within(1e-15));
    }

    [TestCase(4, 1e-4, 0.75, 2.0, "size must be a positive odd number of channels, got 4")]
    [TestCase(0, 1e-4, 0.75, 2.0, "size must be a positive odd number of channels, got 0")]
    [TestCase(5, 1e-4, 0.75, 0.0, "needs k > 0")]
    [TestCase(5, -1e-4, 0.75, 2.0, "needs k > 0 and alpha, beta >= 0")]
    public void Rejects_settings_it_cannot_take_naming_the_layer(int size, double alpha, double beta, double k, string expected)
    {
        var e = Assert.Throws<ShapeException>(() => OpHarness.Single(new Lrn(size, alpha, beta, k), new Shape(4, 2, 2)));
        Assert.That(e!.Message, Does.StartWith("layer op (lrn) cannot take input 4x2x2: ").And.Contain(expected));
    }
}
