using Engine.Graph;
using Engine.Nets;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Tests.Nets;

public class NetRegistryTests
{
    [Test]
    public void Unknown_name_lists_every_known_net()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => NetRegistry.Build("resnet50"));
        Assert.That(e!.Message, Does.Contain("resnet50"));
        foreach (var net in NetRegistry.All) Assert.That(e.Message, Does.Contain(net.Name));
    }

    [Test]
    public void Every_net_has_an_image_and_a_label_input_logits_and_a_loss()
    {
        foreach (var net in NetRegistry.All)
        {
            var g = NetRegistry.Build(net.Name);
            Assert.That(g.Input("image").IsFloat, Is.True, net.Name);
            Assert.That(g.Input("image").Shape.DropFirst(), Is.EqualTo(net.DefaultInput), net.Name);
            var label = g.Input("label");
            Assert.That(label.Type, Is.EqualTo(Engine.Tensors.DataType.I32), net.Name);
            var (height, width) = (net.DefaultInput[1], net.DefaultInput[2]);
            Assert.That(label.Shape.DropFirst(), Is.EqualTo(net.Segmentation ? new Shape(height, width) : new Shape()), net.Name);
            Assert.That(g.Output("logits").Shape.DropFirst(),
                Is.EqualTo(net.Segmentation ? new Shape(net.DefaultClasses, height, width) : new Shape(net.DefaultClasses)), net.Name);
            Assert.That(g.Loss, Is.Not.Null, net.Name);
            Assert.That(net.Description, Is.Not.Empty, net.Name);
        }
    }

    [TestCase(32, 32)]
    [TestCase(64, 32)]
    [TestCase(160, 32)]
    [TestCase(48, 24)]
    [TestCase(12, 12)]
    [TestCase(7, 7)]
    [TestCase(1, 1)]
    public void Group_norm_takes_32_groups_or_the_largest_divisor_below(int channels, int groups)
    {
        Assert.That(Blocks.GroupCount(channels), Is.EqualTo(groups));
    }

    [TestCase(0)]
    [TestCase(-5)]
    public void Non_positive_class_counts_are_refused(int classes)
    {
        var e = Assert.Throws<NetOptionsException>(() => NetRegistry.Build("vgg11", new() { Classes = classes }));
        Assert.That(e!.Message, Does.Contain("classes"));
    }

    [Test]
    public void An_input_that_is_not_CxHxW_is_refused()
    {
        var e = Assert.Throws<ShapeException>(() => NetRegistry.Build("vgg11", new() { Input = new Shape(224, 224) }));
        Assert.That(e!.Message, Does.Contain("CxHxW"));
    }

    [Test]
    public void Vgg_convs_start_glorot_as_the_paper_and_vovnet_convs_he()
    {
        var vgg = NetRegistry.Build("vgg11", new() { Input = new Shape(3, 32, 32), Width = 0.25 });
        Assert.That(vgg.Parameters["block3.conv2.weight"].Init, Is.EqualTo(Init.Glorot(64 * 9, 64 * 9)));
        var vov = NetRegistry.Build("vovnet57", new() { Input = new Shape(3, 32, 32), Width = 0.125 });
        Assert.That(vov.Parameters.Views.Where(p => p.Name.EndsWith("conv1.weight", StringComparison.Ordinal)).Select(p => p.Init.Kind),
            Is.Not.Empty.And.All.EqualTo(InitKind.HeNormal));
    }

    [Test]
    public void An_input_too_small_for_vgg_names_the_layer_that_fails()
    {
        // 20 -> 10 -> 5 -> 2 -> 1: the fifth 2x2 pool has nothing to pool.
        var e = Assert.Throws<ShapeException>(() => NetRegistry.Build("vgg16", new() { Input = new Shape(3, 20, 20) }));
        Assert.That(e!.Message, Does.Contain("block5.pool"));
    }

    [Test]
    public void Vovnet_rejects_inputs_smaller_than_its_32_fold_reduction_and_takes_32()
    {
        var e = Assert.Throws<ShapeException>(() => NetRegistry.Build("vovnet57", new() { Input = new Shape(3, 20, 20) }));
        Assert.That(e!.Message, Does.Contain("20x20").And.Contain("32x32"));
        var g = NetRegistry.Build("vovnet57", new() { Input = new Shape(3, 32, 32) });
        Assert.That(g.Nodes.Single(n => n.Name == "stage5.osa3.proj_norm").Outputs[0].Shape.DropFirst(), Is.EqualTo(new Shape(1024, 1, 1)));
    }

    [Test]
    public void Fcn_needs_sides_divisible_by_16_and_segnet_does_not()
    {
        var e = Assert.Throws<ShapeException>(() => NetRegistry.Build("fcn", new() { Input = new Shape(3, 60, 60) }));
        Assert.That(e!.Message, Does.Contain("multiples of 16"));
        var g = NetRegistry.Build("segnet", new() { Input = new Shape(3, 60, 44) });
        Assert.That(g.Output("logits").Shape.DropFirst(), Is.EqualTo(new Shape(22, 60, 44)));
    }

    [Test]
    public void Any_channel_count_is_accepted()
    {
        var g = NetRegistry.Build("vovnet57", new() { Input = new Shape(1, 224, 224) });
        Assert.That(g.Parameters["stem.conv1.weight"].Shape, Is.EqualTo(new Shape(64, 1, 3, 3)));
    }
}
