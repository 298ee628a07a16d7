using Engine.Export.Onnx;
using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Tests.Export;

/// <summary>Single ops whose ONNX form needs care (LRN's alpha, an op with no mapping), run through ONNX Runtime.</summary>
public class OnnxOpExportTests
{
    /// <summary>image -> op -> "logits", the form the exporter takes.</summary>
    private static Graph.Graph Single(Op op, Shape image)
    {
        var b = new GraphBuilder("single");
        var x = b.Input("image", image);
        b.Output("logits", b.Add1(op, "op", x));
        return b.Build();
    }

    [Test]
    public void Lrn_keeps_the_engines_alpha_convention_where_the_sum_term_matters()
    {
        // alpha 0.3 on inputs up to 3: alpha * sum is about k, so dividing alpha by the size or not changes y by ~30 %.
        var run = OnnxRun.Of(Single(new Lrn(5, alpha: 0.3, beta: 0.75, k: 1.5), new Shape(9, 3, 4)), imageScale: 3);
        Assert.That(run.OnnxLogits, Is.EqualTo(run.EngineLogits).Within(1e-5));
        var wrongAlpha = OnnxRun.Of(Single(new Lrn(5, alpha: 0.3 / 5, beta: 0.75, k: 1.5), new Shape(9, 3, 4)), imageScale: 3);
        Assert.That(wrongAlpha.EngineLogits.Zip(run.EngineLogits, (a, b) => Math.Abs(a - b)).Max(), Is.GreaterThan(0.1),
            "the test can tell the two conventions apart");
    }

    [Test]
    public void Dropout_is_left_out_even_where_it_gives_the_logits()
    {
        var b = new GraphBuilder("dropout-last");
        var x = b.Input("image", new Shape(5, 2, 3));
        b.Output("logits", b.Dropout(b.Relu(x, "relu"), 0.5, "dropout"));
        var run = OnnxRun.Of(b.Build());
        Assert.That(run.OnnxLogits, Is.EqualTo(run.EngineLogits));
        Assert.That(run.EngineLogits.Count(v => v > 0), Is.GreaterThan(run.EngineLogits.Length / 4), "eval mode keeps every value");
    }

    [TestCase(7, 9)]
    [TestCase(8, 6)]
    public void Max_pool_indices_reach_max_unpool_in_onnx_convention(int height, int width)
    {
        // ONNX counts indices over the whole N x C x H x W tensor, the engine within a plane; the pair must still invert.
        var b = new GraphBuilder("pool-unpool");
        var x = b.Input("image", new Shape(3, height, width));
        var (pooled, indices) = b.MaxPoolWithIndices(x, 2, 2);
        b.Output("logits", b.MaxUnpool(b.Relu(pooled), indices, height, width));
        var run = OnnxRun.Of(b.Build());
        Assert.That(run.OnnxLogits, Is.EqualTo(run.EngineLogits));
        Assert.That(run.EngineLogits.Count(v => v > 0), Is.GreaterThan(run.EngineLogits.Length / 8), "most maxima are positive");
    }

    [Test]
    public void Unpooling_to_another_plane_than_the_pool_read_is_refused()
    {
        var b = new GraphBuilder("pool-unpool");
        var x = b.Input("image", new Shape(3, 8, 6));
        var (pooled, indices) = b.MaxPoolWithIndices(x, 2, 2, name: "pool");
        b.Output("logits", b.MaxUnpool(pooled, indices, 8, 8, "unpool"));
        var g = b.Build();
        using var backend = new CpuBackend<float>();
        using var parameters = new ParameterBuffers(g, backend);
        var e = Assert.Throws<OnnxExportException>(() => OnnxExporter.Build(g, parameters));
        Assert.That(e!.Message, Does.StartWith("unpool: unpools to 8x8 but pool pooled 8x6"));
    }

    [Test]
    public void An_op_with_no_mapping_is_an_error_naming_the_layer_and_the_op()
    {
        var g = Single(new Unmapped(), new Shape(2, 3, 3));
        using var backend = new CpuBackend<float>();
        using var parameters = new ParameterBuffers(g, backend);
        var e = Assert.Throws<OnnxExportException>(() => OnnxExporter.Build(g, parameters));
        Assert.That(e!.Message, Is.EqualTo("op: op 'unmapped' (Unmapped) has no ONNX mapping"));
    }

    private sealed class Unmapped : Op
    {
        public override string Type => "unmapped";
        public override Shape[] InferShapes(Shape[] inputs) => [inputs[0]];
        public override void Forward<T>(CpuNode<T> n) => n.In(0).CopyTo(n.Out(0));
        public override void Backward<T>(CpuNode<T> n) { }
    }
}
