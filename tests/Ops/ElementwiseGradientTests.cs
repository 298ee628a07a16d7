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
