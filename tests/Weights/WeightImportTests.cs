using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;
using Engine.Training.Checkpoints;
using Engine.Weights;
using TempDir = Engine.Tests.Training.Support.TempDir;

namespace Engine.Tests.Weights;

/// <summary>--init-from's partial initialisation: what matches by name and shape is loaded, everything else listed.</summary>
public class WeightImportTests
{
    private static ParameterBuffers Net(CpuBackend<float> backend, string net, int side = 32, int classes = 10, ulong seed = 1)
    {
        var p = new ParameterBuffers(NetRegistry.Build(net, new NetOptions { Input = new Shape(3, side, side), Classes = classes, Width = 1.0 / 16 }), backend);
        p.Initialize(seed);
        return p;
    }

    private static float[] Values(ParameterBuffers p, string name)
    {
        var v = p.Graph.Parameters[name];
        return p.GetValues().AsSpan((int)v.Offset, (int)v.Count).ToArray().Select(x => (float)x).ToArray();
    }

    [Test]
    public void A_head_of_another_class_count_keeps_its_fresh_initialisation_and_the_rest_is_loaded()
    {
        using var dir = new TempDir();
        using var backend = new CpuBackend<float>();
        using var source = Net(backend, "vgg11", classes: 10, seed: 1);
        WeightFile.Save(dir["a.safetensors"], source);
        using var target = Net(backend, "vgg11", classes: 7, seed: 2);
        var freshHead = Values(target, "fc8.weight");

        var report = WeightImport.Load(dir["a.safetensors"], target, ImportMode.Partial);

        Assert.That(report.Head, Is.Not.Null);
        Assert.That(report.Head!.NetName, Is.EqualTo("fc8.weight"));
        Assert.That(Values(target, "fc8.weight"), Is.EqualTo(freshHead));
        Assert.That(Values(target, "block3.conv2.weight"), Is.EqualTo(Values(source, "block3.conv2.weight")));
        Assert.That(report.Loaded, Is.EqualTo(source.Graph.Parameters.Views.Count - 2));
        Assert.That(report.Missing, Is.Empty);
        Assert.That(string.Join("\n", report.Notes()), Does.Contain("the head fc8.weight has 10 classes in the file, 7 in the net"));
        // Strictness does not forbid fine-tuning to other classes.
        Assert.That(WeightImport.Load(dir["a.safetensors"], target, ImportMode.Strict).Head, Is.Not.Null);
    }

    [Test]
    public void Net_A_starts_net_B_as_in_the_VGG_paper_and_strict_mode_lists_what_B_has_more()
    {
        using var dir = new TempDir();
        using var backend = new CpuBackend<float>();
        using var a = Net(backend, "vgg11", seed: 1);
        WeightFile.Save(dir["a.safetensors"], a);
        using var b = Net(backend, "vgg13", seed: 2);

        var report = WeightImport.Load(dir["a.safetensors"], b, ImportMode.Partial);

        // B has a second conv in blocks 1 and 2; every other conv and the FC layers match A's names and shapes.
        Assert.That(report.Missing, Is.EquivalentTo(new[] { "block1.conv2.weight", "block1.conv2.bias", "block2.conv2.weight", "block2.conv2.bias" }));
        Assert.That(report.Loaded, Is.EqualTo(a.Graph.Parameters.Views.Count));
        Assert.That(Values(b, "fc6.weight"), Is.EqualTo(Values(a, "fc6.weight")));
        var e = Assert.Throws<InvalidDataException>(() => WeightImport.Load(dir["a.safetensors"], b, ImportMode.Strict))!;
        Assert.That(e.Message, Does.Contain("4 problem(s)").And.Contain("'block1.conv2.weight' is missing"));
    }

    [Test]
    public void Tensors_of_another_shape_are_listed_with_both_shapes_and_left_alone()
    {
        using var dir = new TempDir();
        using var backend = new CpuBackend<float>();
        using var small = Net(backend, "vgg11", side: 32);
        WeightFile.Save(dir["a.safetensors"], small);
        using var large = Net(backend, "vgg11", side: 64, seed: 3);
        var fc6 = Values(large, "fc6.weight");

        var report = WeightImport.Load(dir["a.safetensors"], large, ImportMode.Partial);

        // At 64x64 fc6 sees 32x2x2 inputs, at 32x32 32x1x1.
        Assert.That(report.Mismatches.Select(m => m.ToString()), Is.EqualTo(new[] { "'fc6.weight' is 256x32 in the file, 256x128 in the net" }));
        Assert.That(Values(large, "fc6.weight"), Is.EqualTo(fc6));
        Assert.That(report.Loaded, Is.EqualTo(small.Graph.Parameters.Views.Count - 1));
        Assert.That(() => WeightImport.Load(dir["a.safetensors"], large, ImportMode.Exact),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("256x128 in the net"));
    }

    [TestCase("vgg16", "torchvision", "features.41.running_var")]
    [TestCase("vovnet57-paper", "timm", "stages.3.blocks.2.conv_concat.bn.running_var")]
    public void Names_of_another_library_written_by_the_engine_load_back_into_the_same_values(string net, string layout, string aName)
    {
        using var dir = new TempDir();
        using var backend = new CpuBackend<float>();
        var options = new NetOptions { Input = new Shape(3, 32, 32), Classes = 10, Width = 1.0 / 16, Norm = Norm.Batch };
        using var a = new ParameterBuffers(NetRegistry.Build(net, options), backend);
        a.Initialize(5);
        a.SetStates(a.GetStates().Select((v, i) => v + 0.01 * i).ToArray());
        int written = WeightFile.SaveAs(dir["other.safetensors"], a, NameMap.ByKey(layout));
        Assert.That(SafeTensors.ReadHeader(dir["other.safetensors"]).Tensors.Select(t => t.Name), Does.Contain(aName));

        using var b = new ParameterBuffers(NetRegistry.Build(net, options), backend);
        var report = WeightImport.Load(dir["other.safetensors"], b, ImportMode.Strict);

        Assert.That(report.Layout, Is.SameAs(NameMap.ByKey(layout)));
        Assert.That(report.Loaded, Is.EqualTo(written));
        Assert.That(written, Is.EqualTo(a.Graph.Parameters.Views.Count + a.Graph.States.Views.Count));
        Assert.That(b.GetValues(), Is.EqualTo(a.GetValues()));
        Assert.That(b.GetStates(), Is.EqualTo(a.GetStates()));
    }
}
