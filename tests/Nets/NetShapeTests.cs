using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;

namespace Engine.Tests.Nets;

public class NetShapeTests
{
    private static Shape OutputOf(Graph.Graph g, string node) => g.Nodes.Single(n => n.Name == node).Outputs[0].Shape.DropFirst();

    /// <summary>The table of SPEC §1 (seed 000).</summary>
    [TestCase("stem.conv1_norm", 64, 112)]
    [TestCase("stem.conv2_norm", 64, 112)]
    [TestCase("stem.conv3_norm", 128, 112)]
    [TestCase("stage2.pool", 128, 56)]
    [TestCase("stage2.osa1.proj_norm", 256, 56)]
    [TestCase("stage3.pool", 256, 28)]
    [TestCase("stage3.osa1.proj_norm", 512, 28)]
    [TestCase("stage4.pool", 512, 14)]
    [TestCase("stage4.osa4.proj_norm", 768, 14)]
    [TestCase("stage5.pool", 768, 7)]
    [TestCase("stage5.osa3.proj_norm", 1024, 7)]
    [TestCase("head.gap", 1024, 1)]
    public void Vovnet57_stage_outputs_match_the_seed_table(string node, int channels, int side)
    {
        Assert.That(OutputOf(NetRegistry.Build("vovnet57"), node), Is.EqualTo(new Shape(channels, side, side)));
    }

    [Test]
    public void The_osa_concatenation_holds_five_layer_outputs_and_in_the_paper_variant_also_the_input()
    {
        Assert.That(OutputOf(NetRegistry.Build("vovnet57"), "stage4.osa2.concat"), Is.EqualTo(new Shape(5 * 192, 14, 14)));
        Assert.That(OutputOf(NetRegistry.Build("vovnet57-paper"), "stage4.osa2.concat"), Is.EqualTo(new Shape(768 + 5 * 192, 14, 14)));
        Assert.That(OutputOf(NetRegistry.Build("vovnet57-paper"), "stage4.osa1.concat"), Is.EqualTo(new Shape(512 + 5 * 192, 14, 14)));
    }

    [TestCase("segnet")]
    [TestCase("fcn-clean")]
    [TestCase("fcn")]
    public void Segmentation_nets_give_class_scores_per_pixel_for_a_batch(string net)
    {
        var g = NetRegistry.Build(net, new() { Width = 0.25 });
        using var backend = new CpuBackend<float>();
        using var exec = new Executor(g, backend, batch: 3);
        exec.Parameters.Initialize(7);
        var rng = new Rng(3);
        exec.SetInput("image", Enumerable.Range(0, 3 * 3 * 64 * 64).Select(_ => (float)rng.NextDouble()).ToArray());
        exec.SetInput("label", Enumerable.Range(0, 3 * 64 * 64).Select(i => i % 22).ToArray());
        exec.Forward(training: true);
        Assert.That(exec.ShapeOf(g.Output("logits")), Is.EqualTo(new Shape(3, 22, 64, 64)));
        var logits = exec.ReadFloat(g.Output("logits"));
        Assert.That(logits.All(float.IsFinite));
        double loss = exec.Read(g.Loss!)[0];
        Assert.That(loss, Is.GreaterThan(0).And.LessThan(100));
    }

    [Test]
    public void Segnet_unpools_to_each_pool_input_size_and_fcn_upsamples()
    {
        var seg = NetRegistry.Build("segnet");
        Assert.That(OutputOf(seg, "dec4.unpool"), Is.EqualTo(new Shape(256, 8, 8)));
        Assert.That(OutputOf(seg, "dec1.unpool"), Is.EqualTo(new Shape(32, 64, 64)));
        Assert.That(OutputOf(seg, "dec2.conv2_norm"), Is.EqualTo(new Shape(32, 32, 32)));
        Assert.That(seg.Nodes.Any(n => n.Name == "dropout"));
        var fcn = NetRegistry.Build("fcn");
        Assert.That(OutputOf(fcn, "dec4.upsample"), Is.EqualTo(new Shape(256, 8, 8)));
        Assert.That(OutputOf(fcn, "dec2.conv2_norm"), Is.EqualTo(new Shape(64, 32, 32)));
        Assert.That(fcn.Nodes.Any(n => n.Name == "dropout"), Is.False);
        var clean = NetRegistry.Build("fcn-clean");
        Assert.That(OutputOf(clean, "dec2.conv2_norm"), Is.EqualTo(new Shape(32, 32, 32)));
        Assert.That(clean.Nodes.Any(n => n.Name == "dropout"));
        Assert.That(clean.Nodes.Any(n => n.Name.EndsWith("unpool")), Is.False);
    }
}
