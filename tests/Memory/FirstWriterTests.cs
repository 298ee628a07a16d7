using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;

namespace Engine.Tests.Memory;

/// <summary>
/// The first backward to write a gradient overwrites it (`=`, cuDNN's beta = 0) instead of
/// zeroing it and accumulating; that it writes every element is checked by the poisoning test
/// in <see cref="MemoryPlanTests"/>. Here: which gradients are still zeroed.
/// </summary>
public class FirstWriterTests
{
    [TestCase("vgg11", Norm.Default)]
    [TestCase("vgg11-lrn", Norm.Default)]
    [TestCase("segnet", Norm.Default)]
    [TestCase("vovnet57", Norm.Default)]
    public void Only_the_seed_gradient_is_zeroed_when_every_op_can_overwrite(string name, Norm norm)
    {
        var (zeroed, g) = ZeroedInOneStep(name, norm);
        Assert.That(zeroed, Is.EqualTo(new[] { g.Loss! }), "the loss gradient is zeroed before d(loss) = 1 is written; nothing else");
    }

    [Test]
    public void A_gradient_whose_first_writer_only_accumulates_is_zeroed_first()
    {
        var (zeroed, g) = ZeroedInOneStep("segnet", Norm.Group);
        var groupNormInputs = g.Nodes.Where(n => n.Op is Engine.Ops.GroupNorm).Select(n => n.Inputs[0]).ToHashSet();
        Assert.That(groupNormInputs, Is.Not.Empty);
        Assert.That(zeroed.Where(v => v != g.Loss), Is.EquivalentTo(groupNormInputs),
            "group norm's backward accumulates only: its input gradients, and only they, are zeroed");
    }

    /// <summary>The gradients one training step's backward zeroed.</summary>
    private static (Value[] Zeroed, Engine.Graph.Graph Graph) ZeroedInOneStep(string name, Norm norm)
    {
        var net = NetRegistry.Find(name);
        var options = new NetOptions
        {
            Width = 1.0 / 16, Input = new Shape(3, 32, 32), Classes = 4, Norm = norm,
            IgnoreLabel = net.Segmentation ? 255 : -1,
        };
        var g = NetRegistry.Build(name, options);
        using var cpu = new CpuBackend<double>();
        using var exec = new Executor(g, cpu, 2, new ExecutorOptions());
        exec.Parameters.Initialize(1);
        var rng = new Rng(2);
        exec.SetInput("image", Enumerable.Range(0, (int)exec.ShapeOf(g.Input("image")).Numel).Select(_ => rng.NextNormal()).ToArray());
        exec.SetInput("label", Enumerable.Range(0, (int)exec.ShapeOf(g.Input("label")).Numel).Select(i => i % 4).ToArray());
        exec.Parameters.ZeroGrads();
        exec.Forward(training: true);
        exec.Backward();
        return ([.. exec.ZeroedInLastBackward], g);
    }
}
