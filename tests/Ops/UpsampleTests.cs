using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

public class UpsampleTests
{
    [TestCase(1, 2, 3, 5, 2)]
    [TestCase(3, 1, 4, 1, 3)]
    [TestCase(2, 2, 2, 2, 1)]
    public void UpsampleNearest_gradient_matches_central_differences(int n, int c, int h, int w, int scale)
    {
        var (g, y) = OpHarness.Single(new UpsampleNearest(scale), new Shape(c, h, w));
        PoolingTests.AssertGradient(g, n, y[0], n * c * h * w);
    }

    [TestCase(2, 2, 3, 5, 2)]
    [TestCase(1, 1, 2, 3, 3)]
    public void UpsampleNearest_copies_each_pixel_into_a_scale_by_scale_block(int n, int c, int h, int w, int scale)
    {
        var (g, y) = OpHarness.Single(new UpsampleNearest(scale), new Shape(c, h, w));
        Assert.That(y[0].Shape, Is.EqualTo(new Shape(1, c, h * scale, w * scale)));
        var x = PoolingTests.Random(n * c * h * w, 4);
        var (_, outs) = PoolingTests.Run(g, n, x);
        int outH = h * scale, outW = w * scale;
        for (int plane = 0; plane < n * c; plane++)
            for (int r = 0; r < outH; r++)
                for (int col = 0; col < outW; col++)
                    Assert.That(outs[0][(plane * outH + r) * outW + col], Is.EqualTo(x[(plane * h + r / scale) * w + col / scale]));
    }

    [Test]
    public void UpsampleNearest_rejects_bad_scale_and_non_image_input()
    {
        var b = new GraphBuilder("t");
        var x = b.Input("x", new Shape(2, 3, 3));
        Assert.That(Assert.Throws<ShapeException>(() => b.UpsampleNearest(x, 0, name: "up0"))!.Message, Does.Contain("up0").And.Contain("scale"));
        var flat = b.Input("flat", new Shape(6));
        Assert.That(Assert.Throws<ShapeException>(() => b.UpsampleNearest(flat))!.Message, Does.Contain("NCHW"));
        Assert.That(new UpsampleNearest(2).Describe().Size, Is.EqualTo("2x"));
    }
}
