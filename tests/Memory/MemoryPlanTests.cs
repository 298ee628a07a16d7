using Engine.Graph;
using Engine.Graph.Memory;
using Engine.Nets;
using Engine.Tensors;

namespace Engine.Tests.Memory;

/// <summary>
/// The executor's memory plan: no two tensors live at the same step share bytes, nothing is read
/// after its storage was given away (checked by poisoning every block when its life ends), views
/// and sharing change no number, and evaluation allocates no gradients.
/// </summary>
public class MemoryPlanTests
{
    private const int Batch = 2;

    private static IEnumerable<TestCaseData> TinyNets() =>
        NetRegistry.All.Select(net => new TestCaseData(net.Name, Tiny(net)).SetArgDisplayNames(net.Name));

    private static NetOptions Tiny(NetInfo net) => net.Segmentation
        ? new NetOptions { Width = 1.0 / 8, Input = new Shape(3, 32, 32), Classes = 5, IgnoreLabel = 255 }
        : new NetOptions { Width = 1.0 / 16, Input = net.Name.StartsWith("vovnet") ? new Shape(3, 32, 32) : new Shape(3, 32, 32), Classes = 4 };

    [TestCaseSource(nameof(TinyNets))]
    public void Tensors_alive_at_the_same_step_never_share_bytes(string name, NetOptions options)
    {
        var g = NetRegistry.Build(name, options);
        foreach (var mode in new[] { new ExecutorOptions(), new ExecutorOptions { InferenceOnly = true }, new ExecutorOptions { InputGradients = true } })
        {
            var plan = new MemoryPlan(g, MemoryPlan.Shapes(g, Batch), DataType.F64, mode);
            var blocks = plan.Blocks;
            foreach (var b in blocks)
            {
                Assert.That(b.Offset % ArenaPacker.Alignment, Is.Zero, b.Name);
                Assert.That(b.Offset + b.Bytes, Is.LessThanOrEqualTo(plan.ArenaBytes), b.Name);
            }
            for (int i = 0; i < blocks.Count; i++)
                for (int j = i + 1; j < blocks.Count; j++)
                    if (blocks[i].OverlapsInTime(blocks[j]))
                        Assert.That(blocks[i].OverlapsInMemory(blocks[j]), Is.False, $"{name}: {blocks[i]} and {blocks[j]}");
            Assert.That(plan.ArenaBytes, Is.LessThan(plan.KeepEverythingBytes), $"{name}: sharing saves memory");
        }
    }

    [Test]
    public void Both_packers_place_overlapping_lifetimes_apart_and_best_fit_fills_gaps()
    {
        ArenaBlock[] Blocks() =>
        [
            new("a", 1000, 0, 3), new("b", 500, 1, 2), new("c", 500, 3, 5), new("d", 1500, 4, 6), new("e", 256, 0, 6),
        ];
        foreach (var pack in new Func<IReadOnlyList<ArenaBlock>, long>[] { b => ArenaPacker.BestFitDecreasingSize(b), b => ArenaPacker.FreeListReuse(b) })
        {
            var blocks = Blocks();
            long size = pack(blocks);
            for (int i = 0; i < blocks.Length; i++)
                for (int j = i + 1; j < blocks.Length; j++)
                    if (blocks[i].OverlapsInTime(blocks[j])) Assert.That(blocks[i].OverlapsInMemory(blocks[j]), Is.False, $"{blocks[i]} / {blocks[j]}");
            Assert.That(size, Is.LessThan(blocks.Sum(b => ArenaPacker.Align(b.Bytes))));
        }
        // a (1024) and d (1536) never live together: best fit puts d where a was.
        var fit = Blocks();
        Assert.That(ArenaPacker.BestFitDecreasingSize(fit), Is.EqualTo(1536 + 512 + 256));
    }

    [TestCaseSource(nameof(TinyNets))]
    public void A_step_reads_nothing_after_its_storage_is_given_away(string name, NetOptions options)
    {
        var g = NetRegistry.Build(name, options);
        var (keepLoss, keepGrads) = Step(g, options, new ExecutorOptions { KeepAll = true, ConcatViews = false }, poison: false);
        foreach (var mode in new[] { new ExecutorOptions(), new ExecutorOptions { ConcatViews = false }, new ExecutorOptions { Recompute = false } })
        {
            var (loss, grads) = Step(g, options, mode, poison: true);
            Assert.That(loss, Is.EqualTo(keepLoss), $"loss, {mode}");
            Assert.That(grads, Is.EqualTo(keepGrads), $"every parameter gradient, bitwise, {mode}");
        }
    }

    [Test]
    public void Osa_layers_write_into_the_concatenation_and_nothing_changes()
    {
        var options = Tiny(NetRegistry.Find("vovnet57"));
        var g = NetRegistry.Build("vovnet57", options);
        var plan = new MemoryPlan(g, MemoryPlan.Shapes(g, Batch), DataType.F64, new ExecutorOptions());
        int modules = g.Nodes.Count(n => n.Op is Engine.Ops.Concat);
        Assert.That(plan.ViewCount, Is.EqualTo(5 * modules), "each OSA module's five layers are views");
        var copied = Step(g, options, new ExecutorOptions { ConcatViews = false }, poison: false);
        var viewed = Step(g, options, new ExecutorOptions(), poison: false);
        Assert.That(viewed.Loss, Is.EqualTo(copied.Loss));
        Assert.That(viewed.Grads, Is.EqualTo(copied.Grads));
    }

    [Test]
    public void Fused_norm_activations_feeding_convolutions_are_recomputed_in_backward_not_kept()
    {
        var g = NetRegistry.Build("segnet", Tiny(NetRegistry.Find("segnet")));
        var shapes = MemoryPlan.Shapes(g, Batch);
        var plan = new MemoryPlan(g, shapes, DataType.F64, new ExecutorOptions());
        var kept = new MemoryPlan(g, shapes, DataType.F64, new ExecutorOptions { Recompute = false });
        var fusedIntoConvs = g.Nodes.Where(n => n.Op is Engine.Ops.BatchNormActivation)
            .Select(n => n.Outputs[0]).Where(v => g.Nodes.Any(c => c.Op is Engine.Ops.Conv2d && c.Inputs[0] == v)).ToList();
        Assert.That(fusedIntoConvs, Is.Not.Empty);
        Assert.That(plan.RecomputedCount, Is.EqualTo(fusedIntoConvs.Count));
        int forward = g.Nodes.Count;
        foreach (var v in fusedIntoConvs)
        {
            var again = plan.RecomputedBlock(v)!;
            var reader = g.Nodes.Single(c => c.Inputs.Contains(v) && c.Op is Engine.Ops.Conv2d);
            Assert.That(plan.ValueBlock(v).End, Is.LessThan(forward), $"{v.Name} is freed after forward");
            Assert.That((again.Start, again.End), Is.EqualTo((2 * forward - 1 - reader.Index, 2 * forward - 1 - reader.Index)), $"{v.Name} lives again only for {reader.Name}'s backward");
        }
        Assert.That(kept.RecomputedCount, Is.Zero);
        Assert.That(plan.PeakAliveBytes, Is.LessThan(kept.PeakAliveBytes));
    }

    [Test]
    public void Relu_writes_over_its_input_when_nothing_reads_the_input_later()
    {
        var g = NetRegistry.Build("vgg11", Tiny(NetRegistry.Find("vgg11")));
        var plan = new MemoryPlan(g, MemoryPlan.Shapes(g, Batch), DataType.F64, new ExecutorOptions());
        var relus = g.Nodes.Where(n => n.Op is Engine.Ops.Relu).ToList();
        Assert.That(plan.InPlaceCount, Is.EqualTo(relus.Count), "every ReLU after a conv or dense layer (whose backward reads only its input)");
        foreach (var relu in relus)
        {
            Assert.That(plan.ValueBlock(relu.Outputs[0]), Is.SameAs(plan.ValueBlock(relu.Inputs[0])), relu.Name);
            Assert.That(plan.IsReadable(relu.Inputs[0]), Is.False, $"{relu.Name}'s input was overwritten");
        }
        var kept = new MemoryPlan(g, MemoryPlan.Shapes(g, Batch), DataType.F64, new ExecutorOptions { KeepAll = true });
        Assert.That(kept.InPlaceCount, Is.Zero, "keeping everything shares nothing");
    }

    [Test]
    public void Evaluation_allocates_no_gradients_and_frees_activations()
    {
        var g = NetRegistry.Build("vgg11", Tiny(NetRegistry.Find("vgg11")));
        var shapes = MemoryPlan.Shapes(g, Batch);
        var train = new MemoryPlan(g, shapes, DataType.F32, new ExecutorOptions());
        var eval = new MemoryPlan(g, shapes, DataType.F32, new ExecutorOptions { InferenceOnly = true });
        Assert.That(eval.Blocks.Any(b => b.Name.EndsWith("(gradient)")), Is.False);
        Assert.That(eval.ArenaBytes, Is.LessThan(train.ArenaBytes));
        // Activations are freed after their last forward use: the arena stays near the most bytes alive at one step.
        long peakAlive = Enumerable.Range(0, eval.Steps).Max(step => eval.Blocks.Where(b => b.Start <= step && step <= b.End).Sum(b => ArenaPacker.Align(b.Bytes)));
        long everything = eval.Blocks.Sum(b => ArenaPacker.Align(b.Bytes));
        Assert.That(eval.ArenaBytes, Is.LessThanOrEqualTo(peakAlive * 5 / 4));
        Assert.That(peakAlive, Is.LessThan(everything * 3 / 4));
        using var cpu = new CpuBackend<double>();
        using var exec = new Executor(g, cpu, Batch, new ExecutorOptions { InferenceOnly = true });
        Assert.That(() => exec.Backward(), Throws.InvalidOperationException.With.Message.Contains("inference only"));
    }

    [Test]
    public void Reading_a_value_whose_storage_is_shared_says_how_to_keep_it()
    {
        var g = NetRegistry.Build("vgg11", Tiny(NetRegistry.Find("vgg11")));
        using var cpu = new CpuBackend<double>();
        using var exec = new Executor(g, cpu, Batch);
        var inner = g.Nodes[1].Outputs[0];
        Assert.That(() => exec.Read(inner), Throws.InvalidOperationException.With.Message.Contains("KeepAll"));
        Assert.That(exec.Read(g.Output("logits")), Has.Length.EqualTo(Batch * 4), "outputs stay readable");
    }

    [TestCase("vovnet57", 224, 64, 6400)]
    [TestCase("vgg16", 224, 64, 7880)]
    [TestCase("segnet", 64, 64, 560)]
    [TestCase("segnet", 224, 16, 3630, 2.0)]
    public void Planned_training_memory_is_within_the_target(string name, int side, int batch, int mebibytes, double width = 1)
    {
        // Targets from the H100 run (results/gpu-h100-2026-11-22.md): 0.8x PyTorch's fp32 peak for vovnet57 and segnet,
        // 1.0x for vgg16 (SGD with momentum; the cuDNN workspace is not planned, so not counted).
        var g = NetRegistry.Build(name, new NetOptions { Input = new Shape(3, side, side), Width = width });
        var budget = MemoryBudget.For(g, batch, DataType.F32, new ExecutorOptions(), optimizerBuffers: 1);
        Assert.That(budget.Total / 1048576.0, Is.LessThanOrEqualTo(mebibytes));
    }

    /// <summary>One training step (forward, backward from the loss) from fixed weights and inputs; poison: NaN into every block once its life ends.</summary>
    internal static (double Loss, double[] Grads) Step(Engine.Graph.Graph g, NetOptions options, ExecutorOptions mode, bool poison)
    {
        using var cpu = new CpuBackend<double>();
        using var exec = new Executor(g, cpu, Batch, mode);
        exec.Parameters.Initialize(3);
        var rng = new Rng(5);
        var image = g.Input("image");
        exec.SetInput("image", Enumerable.Range(0, (int)exec.ShapeOf(image).Numel).Select(_ => rng.NextNormal()).ToArray());
        var label = g.Input("label");
        int classes = options.Classes!.Value;
        exec.SetInput("label", Enumerable.Range(0, (int)exec.ShapeOf(label).Numel).Select(i => i % 7 == 0 && options.IgnoreLabel >= 0 ? options.IgnoreLabel : i % classes).ToArray());
        if (poison)
        {
            foreach (var b in exec.Plan.Blocks.Where(b => b.Start > 0)) Fill(exec, b);
            exec.Profiler = new Poisoner(exec);
        }
        exec.Parameters.ZeroGrads();
        exec.Forward(training: true);
        exec.Backward();
        return (exec.Read(g.Loss!)[0], exec.Parameters.GetGrads());
    }

    private static void Fill(Executor exec, ArenaBlock b)
    {
        var slice = exec.ArenaFloats(b);
        exec.Backend.Upload(slice, Enumerable.Repeat(double.NaN, (int)slice.Count).ToArray());
    }

    /// <summary>After each node's pass, NaN into every block whose last step it was.</summary>
    private sealed class Poisoner(Executor exec) : INodeProfiler
    {
        public void Begin(Node node, Pass pass) { }

        public void End(Node node, Pass pass)
        {
            int forward = exec.Graph.Nodes.Count;
            int step = pass == Pass.Forward ? node.Index : 2 * forward - 1 - node.Index;
            foreach (var b in exec.Plan.Blocks.Where(b => b.End == step && step < exec.Plan.Steps - 1)) Fill(exec, b);
        }
    }
}
