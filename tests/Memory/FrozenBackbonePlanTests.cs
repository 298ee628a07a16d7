using Engine.Graph;
using Engine.Graph.Memory;
using Engine.Nets;
using Engine.Tensors;

namespace Engine.Tests.Memory;

/// <summary>The memory plan of a training step with the backbone frozen: no backbone gradients or backward reads, so less memory, and still nothing read after its storage is given away.</summary>
public class FrozenBackbonePlanTests
{
    private static readonly NetOptions Seg = new() { Width = 1.0 / 8, Input = new Shape(3, 32, 32), Classes = 5, IgnoreLabel = 255 };
    private static readonly ExecutorOptions Frozen = new() { FreezeBackbone = true };

    [TestCase("vovnet57-seg")]
    [TestCase("vovnet57-seg-fine")] // concatenates a backbone value (the stem's output) directly
    [TestCase("vovnet57")]
    public void A_frozen_step_reads_nothing_after_its_storage_is_given_away(string name)
    {
        var options = name == "vovnet57" ? new NetOptions { Width = 1.0 / 16, Input = new Shape(3, 32, 32), Classes = 4 } : Seg;
        var g = NetRegistry.Build(name, options);
        var (keepLoss, keepGrads) = MemoryPlanTests.Step(g, options, Frozen with { KeepAll = true, ConcatViews = false }, poison: false);
        var (loss, grads) = MemoryPlanTests.Step(g, options, Frozen, poison: true);
        Assert.That(loss, Is.EqualTo(keepLoss));
        Assert.That(grads, Is.EqualTo(keepGrads), "every parameter gradient, bitwise");
        Assert.That(grads.Take((int)g.BackboneParameterCount), Is.All.Zero, "a frozen parameter has no gradient");
        Assert.That(grads.Skip((int)g.BackboneParameterCount).Count(x => x != 0), Is.GreaterThan(0));
    }

    [Test]
    public void Freezing_the_backbone_plans_no_backbone_gradients_and_a_lower_peak()
    {
        var g = NetRegistry.Build("vovnet57-seg", Seg);
        var shapes = MemoryPlan.Shapes(g, 4);
        var full = new MemoryPlan(g, shapes, DataType.F32, new ExecutorOptions());
        var frozen = new MemoryPlan(g, shapes, DataType.F32, Frozen);
        var backbone = g.Nodes.Where(n => n.Name.StartsWith("stem.") || n.Name.StartsWith("stage")).ToList();
        Assert.That(backbone, Has.Count.EqualTo(g.BackboneNodeCount), "the backbone is vovnet57's stem and stages");
        Assert.That(backbone.All(g.InBackbone));
        foreach (var n in g.Nodes)
        {
            Assert.That(frozen.HasBackward(n), Is.EqualTo(!g.InBackbone(n)), n.Name);
            foreach (var o in n.Outputs.Where(o => o.IsFloat))
                Assert.That(frozen.HasGradient(o), Is.EqualTo(!g.InBackbone(n)), o.Name);
        }
        Assert.That(frozen.PeakAliveBytes, Is.LessThan(full.PeakAliveBytes));
        Assert.That(frozen.ArenaBytes, Is.LessThan(full.ArenaBytes));
        Assert.That(frozen.KeepEverythingBytes, Is.LessThan(full.KeepEverythingBytes));
        var blocks = frozen.Blocks;
        for (int i = 0; i < blocks.Count; i++)
            for (int j = i + 1; j < blocks.Count; j++)
                if (blocks[i].OverlapsInTime(blocks[j])) Assert.That(blocks[i].OverlapsInMemory(blocks[j]), Is.False, $"{blocks[i]} and {blocks[j]}");

        var budget = MemoryBudget.For(g, 4, DataType.F32, Frozen, optimizerBuffers: 2);
        long head = g.Parameters.Views.Where(v => !v.Name.StartsWith("stem.") && !v.Name.StartsWith("stage")).Sum(v => v.Count);
        Assert.That(budget.Gradients, Is.EqualTo(head * 4));
        Assert.That(budget.OptimizerState, Is.EqualTo(2 * head * 4));
    }

    [Test]
    public void A_net_without_a_backbone_cannot_freeze_one()
    {
        var g = NetRegistry.Build("segnet", Seg with { Input = new Shape(3, 16, 16) });
        Assert.That(g.HasBackbone, Is.False);
        var e = Assert.Throws<NoBackboneException>(() => new MemoryPlan(g, MemoryPlan.Shapes(g, 1), DataType.F32, Frozen))!;
        Assert.That(e.Message, Does.Contain("segnet"));
        using var cpu = new CpuBackend<float>();
        Assert.Throws<NoBackboneException>(() => new ParameterBuffers(g, cpu, freezeBackbone: true));
    }
}
