using Engine.Nets;

namespace Engine.Tests.Nets;

/// <summary>Parameter and multiply-accumulate counts of the full-size nets (building a graph allocates nothing).</summary>
public class NetCountTests
{
    [TestCase("vovnet57", 31_430_184)]
    [TestCase("vovnet57-paper", 36_640_296)]
    [TestCase("vgg11", 132_863_336)]
    [TestCase("vgg11-lrn", 132_863_336)]
    [TestCase("vgg13", 133_047_848)]
    [TestCase("vgg16", 138_357_544)]
    [TestCase("vgg19", 143_667_240)]
    [TestCase("segnet", 4_476_214)]
    [TestCase("fcn", 4_531_702)]
    public void Parameter_count_at_the_default_size_matches_the_reference_figure(string net, long expected)
    {
        Assert.That(NetRegistry.Build(net).Parameters.Count, Is.EqualTo(expected));
    }

    [Test]
    public void Vgg16_c_is_vgg16_with_its_last_conv_of_blocks_3_to_5_shrunk_from_3x3_to_1x1()
    {
        long d = NetRegistry.Build("vgg16").Parameters.Count;
        long shrink = (9 - 1) * (256L * 256 + 2 * 512L * 512);
        Assert.That(NetRegistry.Build("vgg16-c").Parameters.Count, Is.EqualTo(d - shrink));
    }

    [Test]
    public void Vgg11_lrn_is_vgg11_with_the_papers_lrn_after_the_first_relu()
    {
        var a = NetRegistry.Build("vgg11");
        var lrnNet = NetRegistry.Build("vgg11-lrn");
        Assert.That(lrnNet.Parameters.Views.Select(v => (v.Name, v.Shape)), Is.EqualTo(a.Parameters.Views.Select(v => (v.Name, v.Shape))),
            "same weights, so either loads the other's");
        Assert.That(lrnNet.Nodes.Select(n => n.Name), Is.EqualTo(Insert(a, "block1.lrn", after: "block1.conv1_relu")), "LRN between the first ReLU and the first pool");
        var lrn = (Engine.Ops.Lrn)lrnNet.Nodes.Single(n => n.Name == "block1.lrn").Op;
        Assert.That((lrn.Size, lrn.Alpha, lrn.Beta, lrn.K), Is.EqualTo((5, 1e-4, 0.75, 2.0)));
    }

    private static List<string> Insert(Engine.Graph.Graph g, string name, string after)
    {
        var names = g.Nodes.Select(n => n.Name).ToList();
        names.Insert(names.IndexOf(after) + 1, name);
        return names;
    }

    [Test]
    public void The_clean_ablation_fcn_has_exactly_segnets_parameters()
    {
        var segnet = NetRegistry.Build("segnet").Parameters;
        var clean = NetRegistry.Build("fcn-clean").Parameters;
        Assert.That(clean.Views.Select(v => (v.Name, v.Shape)), Is.EqualTo(segnet.Views.Select(v => (v.Name, v.Shape))));
    }

    [Test]
    public void Fcn_differs_from_segnet_only_in_the_width_of_dec2()
    {
        // fcn's dec2 is 2f wide where segnet's is f (f = 32): dec2.conv1 64->64 (not 64->32), dec2.conv2 64->64
        // (not 32->32), dec1.conv1 64->32 (not 32->32); each conv unit is 3x3 weights + bias + BN scale and shift.
        static long Unit(int i, int o) => 9L * i * o + 3 * o;
        long extra = Unit(64, 64) - Unit(64, 32) + Unit(64, 64) - Unit(32, 32) + Unit(64, 32) - Unit(32, 32);
        Assert.That(NetRegistry.Build("fcn").Parameters.Count, Is.EqualTo(4_476_214 + extra));
    }

    /// <summary>The seed states 31,429,159: exactly the net with a 999-way head (one dense row of 1024 weights + 1 bias less).</summary>
    [Test]
    public void The_seed_figure_is_vovnet57_with_999_classes()
    {
        Assert.That(NetRegistry.Build("vovnet57", new() { Classes = 999 }).Parameters.Count, Is.EqualTo(31_429_159));
    }

    [Test]
    public void Vovnet57_has_57_bias_free_convolutions_and_a_dense_head_with_bias()
    {
        var p = NetRegistry.Build("vovnet57").Parameters;
        var convWeights = p.Views.Where(v => v.Shape.Rank == 4).ToList();
        Assert.That(convWeights, Has.Count.EqualTo(57));
        Assert.That(convWeights.Where(w => p.Contains(w.Name.Replace(".weight", ".bias"))), Is.Empty);
        Assert.That(p["head.fc.weight"].Shape.ToString(), Is.EqualTo("1000x1024"));
        Assert.That(p["head.fc.bias"].Shape.ToString(), Is.EqualTo("1000"));
        Assert.That(p["stage4.osa2.conv3.weight"].Shape.ToString(), Is.EqualTo("192x192x3x3"));
        Assert.That(p["stage5.osa3.proj.weight"].Shape.ToString(), Is.EqualTo("1024x1120x1x1"));
    }

    [Test]
    public void Batch_norm_keeps_running_statistics_as_states_and_group_norm_keeps_none()
    {
        var bn = NetRegistry.Build("vovnet57");
        var gn = NetRegistry.Build("vovnet57", new() { Norm = Norm.Group });
        Assert.That(bn.States.Contains("stage4.osa2.conv3_norm.running_mean"));
        Assert.That(bn.States.Contains("stage4.osa2.conv3_norm.running_var"));
        long normChannels = bn.Parameters.Views.Where(v => v.Name.EndsWith("_norm.weight")).Sum(v => v.Count);
        Assert.That(bn.States.Count, Is.EqualTo(2 * normChannels));
        Assert.That(gn.States.Count, Is.Zero);
        Assert.That(gn.Parameters.Count, Is.EqualTo(bn.Parameters.Count));
    }

    [Test]
    public void Vovnet57_multiply_accumulates_at_224_count_convolutions_and_the_dense_layer()
    {
        var g = NetRegistry.Build("vovnet57");
        Assert.That(g.MultiplyAccumulates, Is.EqualTo(8_853_073_920L));
        // The same figure from the weights: each conv weight is used once per output pixel, the dense weight once.
        long fromWeights = g.Nodes.SelectMany(n => n.Params.Where(p => p.Name.EndsWith(".weight") && !p.Name.Contains("_norm"))
            .Select(p => p.Count * (p.Shape.Rank == 4 ? n.Outputs[0].Shape[2] * n.Outputs[0].Shape[3] : 1))).Sum();
        Assert.That(fromWeights, Is.EqualTo(g.MultiplyAccumulates));
    }

    [Test]
    public void Segnet_at_width_2_is_the_full_size_vgg16_width_segnet()
    {
        var p = NetRegistry.Build("segnet", new() { Width = 2 }).Parameters;
        Assert.That(p["enc1.conv1.weight"].Shape.ToString(), Is.EqualTo("64x3x3x3"));
        Assert.That(p["enc5.conv3.weight"].Shape.ToString(), Is.EqualTo("512x512x3x3"));
        Assert.That(p["dec1.conv2.weight"].Shape.ToString(), Is.EqualTo("64x64x3x3"));
        Assert.That(p["classifier.weight"].Shape.ToString(), Is.EqualTo("22x64x3x3"));
    }
}
