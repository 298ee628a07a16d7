using Engine.Nets;
using Engine.Tensors;
using Engine.Weights;

namespace Engine.Tests.Weights;

/// <summary>The engine's names against torchvision's VGG and timm's VoVNet (module names from their sources).</summary>
public class NameMapTests
{
    private static IReadOnlyDictionary<string, string> FileNames(NameMap map, string net, Norm norm = Norm.Default, double width = 1.0 / 16) =>
        map.FileNames(NetRegistry.Build(net, new NetOptions { Input = new Shape(3, 32, 32), Classes = 10, Norm = norm, Width = width }));

    [Test]
    public void Vgg11_convs_are_torchvision_features_counted_through_relus_and_pools()
    {
        var names = FileNames(NameMap.TorchvisionVgg, "vgg11");
        // features: conv0 relu1 pool2 conv3 relu4 pool5 conv6 relu7 conv8 relu9 pool10 conv11 ... conv16 relu17 conv18
        var convs = new[] { "block1.conv1", "block2.conv1", "block3.conv1", "block3.conv2", "block4.conv1", "block4.conv2", "block5.conv1", "block5.conv2" };
        var indices = new[] { 0, 3, 6, 8, 11, 13, 16, 18 };
        for (int i = 0; i < convs.Length; i++)
        {
            Assert.That(names[convs[i] + ".weight"], Is.EqualTo($"features.{indices[i]}.weight"));
            Assert.That(names[convs[i] + ".bias"], Is.EqualTo($"features.{indices[i]}.bias"));
        }
        Assert.That(names["fc6.weight"], Is.EqualTo("classifier.0.weight"));
        Assert.That(names["fc7.bias"], Is.EqualTo("classifier.3.bias"));
        Assert.That(names["fc8.weight"], Is.EqualTo("classifier.6.weight"));
        Assert.That(names, Has.Count.EqualTo(2 * 8 + 6));
    }

    [Test]
    public void Vgg16_bn_puts_each_norm_one_module_after_its_conv()
    {
        var names = FileNames(NameMap.TorchvisionVgg, "vgg16", Norm.Batch);
        Assert.That(names["block1.conv1.weight"], Is.EqualTo("features.0.weight"));
        Assert.That(names["block1.conv1_norm.running_var"], Is.EqualTo("features.1.running_var"));
        Assert.That(names["block1.conv2.weight"], Is.EqualTo("features.3.weight"));
        Assert.That(names["block2.conv1.weight"], Is.EqualTo("features.7.weight"));
        // torchvision's vgg16_bn: 44 feature modules, the last conv at 40 and its BN at 41.
        Assert.That(names["block5.conv3.weight"], Is.EqualTo("features.40.weight"));
        Assert.That(names["block5.conv3_norm.bias"], Is.EqualTo("features.41.bias"));
    }

    [Test]
    public void Vovnet57_paper_maps_onto_timm_vovnet57a_with_timm_shapes()
    {
        var graph = NetRegistry.Build("vovnet57-paper", new NetOptions { Input = new Shape(3, 224, 224), Classes = 1000 });
        var names = NameMap.TimmVoVNet.FileNames(graph);
        var shapes = graph.Parameters.Views.Concat(graph.States.Views).ToDictionary(v => names[v.Name], v => v.Shape);
        // timm's vovnet57a: stem 64-64-128; stages (mid, out, blocks) (128, 256, 1) (160, 512, 1) (192, 768, 4) (224, 1024, 3);
        // each block: conv_mid.0..4 (3x3) and conv_concat (1x1 over in + 5 mid), ConvNormAct = conv + bn; head.fc.
        Assert.That(shapes["stem.0.conv.weight"], Is.EqualTo(new Shape(64, 3, 3, 3)));
        Assert.That(shapes["stem.2.bn.running_mean"], Is.EqualTo(new Shape(128)));
        var stages = new[] { (128, 256, 1), (160, 512, 1), (192, 768, 4), (224, 1024, 3) };
        int inChannels = 128;
        for (int s = 0; s < 4; s++)
        {
            var (mid, outC, blocks) = stages[s];
            for (int b = 0; b < blocks; b++)
            {
                string block = $"stages.{s}.blocks.{b}";
                Assert.That(shapes[$"{block}.conv_mid.0.conv.weight"], Is.EqualTo(new Shape(mid, inChannels, 3, 3)), block);
                Assert.That(shapes[$"{block}.conv_mid.4.conv.weight"], Is.EqualTo(new Shape(mid, mid, 3, 3)), block);
                Assert.That(shapes[$"{block}.conv_concat.conv.weight"], Is.EqualTo(new Shape(outC, inChannels + 5 * mid, 1, 1)), block);
                Assert.That(shapes[$"{block}.conv_concat.bn.weight"], Is.EqualTo(new Shape(outC)), block);
                inChannels = outC;
            }
        }
        Assert.That(shapes["head.fc.weight"], Is.EqualTo(new Shape(1000, 1024)));
        // 57 ConvNormAct (conv weight + 4 BN tensors) and the head: every engine tensor has a timm name.
        Assert.That(names, Has.Count.EqualTo(57 * 5 + 2));
        Assert.That(names.Count, Is.EqualTo(graph.Parameters.Views.Count + graph.States.Views.Count));
    }

    [Test]
    public void Layouts_are_recognised_from_the_names()
    {
        Assert.That(NameMap.Recognise(["features.0.weight", "features.0.bias", "classifier.0.weight"]), Is.SameAs(NameMap.TorchvisionVgg));
        Assert.That(NameMap.Recognise(["stem.0.conv.weight", "stages.0.blocks.0.conv_mid.0.conv.weight"]), Is.SameAs(NameMap.TimmVoVNet));
        Assert.That(NameMap.Recognise(["block1.conv1.weight", "fc8.weight"]), Is.SameAs(NameMap.Engine));
    }
}
