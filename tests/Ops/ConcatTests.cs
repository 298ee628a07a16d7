using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

public class ConcatTests
{
    [TestCase(1)]
    [TestCase(3)]
    public void Concat_gradient_reaches_every_input(int n)
    {
        var (g, y) = OpHarness.Single(new Concat(), new Shape(2, 3, 5), new Shape(1, 3, 5), new Shape(4, 3, 5));
        PoolingTests.AssertGradient(g, n, y[0], n * 7 * 15);
    }

    [Test]
    public void Concat_of_flat_features_has_correct_gradient()
    {
        var (g, y) = OpHarness.Single(new Concat(), new Shape(3), new Shape(5));
        PoolingTests.AssertGradient(g, 2, y[0], 2 * 8);
    }

    [Test]
    public void Concat_stacks_channels_sample_by_sample()
    {
        const int n = 2, hw = 6;
        var b = new GraphBuilder("t");
        var a = b.Input("a", new Shape(1, 2, 3));
        var c = b.Input("c", new Shape(2, 2, 3));
        var y = b.Concat([a, c], name: "cat");
        Assert.That(y.Shape, Is.EqualTo(new Shape(1, 3, 2, 3)));
        b.Output("y", y);
        using var exec = new Executor(b.Build(), new CpuBackend<double>(), n);
        var xa = PoolingTests.Random(n * 1 * hw, 1);
        var xc = PoolingTests.Random(n * 2 * hw, 2);
        exec.SetInput("a", xa);
        exec.SetInput("c", xc);
        exec.Forward(training: false);
        var expected = new List<double>();
        for (int s = 0; s < n; s++)
        {
            expected.AddRange(xa.Skip(s * hw).Take(hw));
            expected.AddRange(xc.Skip(s * 2 * hw).Take(2 * hw));
        }
        Assert.That(exec.Read(y), Is.EqualTo(expected));
    }

    [Test]
    public void Concat_rejects_inputs_differing_in_more_than_channels()
    {
        var b = new GraphBuilder("t");
        var a = b.Input("a", new Shape(2, 4, 4));
        var c = b.Input("c", new Shape(3, 4, 5));
        var ex = Assert.Throws<ShapeException>(() => b.Concat([a, c], name: "osa_cat"));
        Assert.That(ex!.Message, Does.Contain("osa_cat").And.Contain("input 1").And.Contain("3x4x5"));
        Assert.Throws<ShapeException>(() => b.Concat([]));
    }
}
