using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;
using Engine.Training.Optimizers;

namespace Engine.Tests.Training;

/// <summary>
/// Training with the backbone frozen: its weights and batch-norm statistics stay bit for bit, it
/// runs in evaluation mode, the head learns exactly as it does with the backbone trainable (where
/// the backbone's mode does not matter: group norm), and the optimizer holds state for the head alone.
/// </summary>
public class FreezeBackboneTests
{
    private const int Batch = 2, Classes = 3;

    private static Engine.Graph.Graph Seg(Norm norm) =>
        NetRegistry.Build("vovnet57-seg", new NetOptions { Input = new Shape(3, 32, 32), Classes = Classes, Width = 1.0 / 16, Norm = norm });

    /// <summary>Named as vovnet57's backbone: the stem and the stages (independent of the graph's own declaration).</summary>
    private static bool Backbone(string name) => name.StartsWith("stem.") || name.StartsWith("stage");

    private static void Inputs(Executor exec, int step)
    {
        var rng = new Rng(100 + (ulong)step);
        var g = exec.Graph;
        exec.SetInput("image", Enumerable.Range(0, (int)exec.ShapeOf(g.Input("image")).Numel).Select(_ => (float)rng.NextUniform(0, 1)).ToArray());
        exec.SetInput("label", Enumerable.Range(0, (int)exec.ShapeOf(g.Input("label")).Numel).Select(i => (i / 37 + step) % Classes).ToArray());
    }

    private static void Step(Executor exec, Optimizer optimizer, int step)
    {
        Inputs(exec, step);
        exec.Forward(training: true);
        exec.Parameters.ZeroGrads();
        exec.Backward();
        optimizer.Step(0.05);
    }

    private static double[] Slice(double[] all, ParamView v) => all.AsSpan((int)v.Offset, (int)v.Count).ToArray();

    [Test]
    public void The_backbone_and_its_running_statistics_stay_bitwise_while_the_head_learns()
    {
        var g = Seg(Norm.Batch);
        using var cpu = new CpuBackend<float>();
        using var p = new ParameterBuffers(g, cpu, freezeBackbone: true);
        p.Initialize(5);
        var (values, states) = (p.GetValues(), p.GetStates());
        using var sgd = new Sgd(p, momentum: 0.9, weightDecay: 5e-3, unitGain: false);
        using var exec = new Executor(g, cpu, Batch, p);
        for (int s = 0; s < 3; s++) Step(exec, sgd, s);
        var (after, statesAfter) = (p.GetValues(), p.GetStates());

        foreach (var v in g.Parameters.Views)
            if (Backbone(v.Name)) Assert.That(Slice(after, v), Is.EqualTo(Slice(values, v)), $"{v.Name}: frozen, not even decayed");
            else Assert.That(Slice(after, v), Is.Not.EqualTo(Slice(values, v)), $"{v.Name} learns");
        foreach (var v in g.States.Views)
            if (Backbone(v.Name)) Assert.That(Slice(statesAfter, v), Is.EqualTo(Slice(states, v)), $"{v.Name}: evaluation mode keeps it");
            else Assert.That(Slice(statesAfter, v), Is.Not.EqualTo(Slice(states, v)), $"{v.Name}: the head's batch norm trains");
    }

    [Test]
    public void The_frozen_backbone_runs_in_evaluation_mode_during_training()
    {
        var g = Seg(Norm.Batch);
        using var cpu = new CpuBackend<float>();
        using var p = new ParameterBuffers(g, cpu, freezeBackbone: true);
        p.Initialize(5);
        // Running statistics unlike any batch's, so evaluation and training mode differ.
        p.SetStates(Enumerable.Range(0, (int)g.States.Count).Select(i => 0.3 + 0.01 * (i % 17)).ToArray());
        var features = g.Nodes[g.BackboneNodeCount - 1].Outputs[0];
        double[] Features(ExecutorOptions mode, ParameterBuffers parameters, bool training)
        {
            using var exec = new Executor(g, cpu, Batch, mode with { KeepAll = true }, parameters);
            Inputs(exec, 0);
            exec.Forward(training);
            return exec.Read(features);
        }
        var frozen = Features(new ExecutorOptions { FreezeBackbone = true }, p, training: true);
        Assert.That(frozen, Is.EqualTo(Features(new ExecutorOptions { InferenceOnly = true }, p, training: false)), "as evaluation computes it");
        using var trainable = new ParameterBuffers(g, cpu);
        trainable.SetValues(p.GetValues());
        trainable.SetStates(p.GetStates());
        Assert.That(frozen, Is.Not.EqualTo(Features(new ExecutorOptions(), trainable, training: true)), "training mode would normalise by the batch");
    }

    [Test]
    public void The_head_takes_the_same_gradients_and_updates_as_with_a_trainable_backbone()
    {
        // Group norm has no mode, so the head sees the same features whether the backbone trains or not.
        var g = Seg(Norm.Group);
        using var cpu = new CpuBackend<float>();
        using var frozen = new ParameterBuffers(g, cpu, freezeBackbone: true);
        using var trainable = new ParameterBuffers(g, cpu);
        frozen.Initialize(9);
        trainable.Initialize(9);
        using var a = new Adam(frozen, weightDecay: 1e-3);
        using var b = new Adam(trainable, weightDecay: 1e-3);
        using var ea = new Executor(g, cpu, Batch, frozen);
        using var eb = new Executor(g, cpu, Batch, trainable);
        Step(ea, a, 0);
        Step(eb, b, 0);
        Assert.That(ea.Read(g.Loss!), Is.EqualTo(eb.Read(g.Loss!)));

        var (ga, gb, va, vb, v0) = (frozen.GetGrads(), trainable.GetGrads(), frozen.GetValues(), trainable.GetValues(), Initial(g, 9));
        foreach (var v in g.Parameters.Views)
            if (Backbone(v.Name))
            {
                Assert.That(Slice(ga, v), Is.All.Zero, $"{v.Name}: no gradient");
                Assert.That(Slice(va, v), Is.EqualTo(Slice(v0, v)), v.Name);
            }
            else
            {
                Assert.That(Slice(ga, v), Is.EqualTo(Slice(gb, v)), $"{v.Name}: the same gradient, bitwise");
                Assert.That(Slice(va, v), Is.EqualTo(Slice(vb, v)), $"{v.Name}: the same update");
            }
        var backbone = g.Parameters.Views.Where(v => Backbone(v.Name)).ToList();
        Assert.That(backbone.Count(v => !Slice(vb, v).SequenceEqual(Slice(v0, v))), Is.GreaterThan(backbone.Count / 2), "the backbone trains in the other run");
    }

    [Test]
    public void Backward_runs_no_backbone_node()
    {
        var g = Seg(Norm.Batch);
        using var cpu = new CpuBackend<float>();
        using var p = new ParameterBuffers(g, cpu, freezeBackbone: true);
        using var exec = new Executor(g, cpu, Batch, p);
        var passes = new Passes();
        exec.Profiler = passes;
        Inputs(exec, 0);
        exec.Forward(training: true);
        exec.Backward();
        Assert.That(passes.Forward, Has.Count.EqualTo(g.Nodes.Count));
        Assert.That(passes.Backward.Where(g.InBackbone), Is.Empty, "nothing launched for the frozen backbone");
        Assert.That(passes.Backward, Has.Count.EqualTo(g.Nodes.Count - g.BackboneNodeCount));
    }

    private sealed class Passes : INodeProfiler
    {
        public List<Node> Forward { get; } = [];
        public List<Node> Backward { get; } = [];
        public void Begin(Node node, Pass pass) => (pass == Pass.Forward ? Forward : Backward).Add(node);
        public void End(Node node, Pass pass) { }
    }

    [TestCase("sgd", 1)]
    [TestCase("adam", 2)]
    public void The_optimizer_keeps_state_for_the_trainable_parameters_only(string kind, int buffers)
    {
        var g = Seg(Norm.Batch);
        using var cpu = new CpuBackend<float>();
        using var p = new ParameterBuffers(g, cpu, freezeBackbone: true);
        using Optimizer o = kind == "sgd" ? new Sgd(p, 0.9, 0, false) : new Adam(p);
        long head = g.Parameters.Views.Where(v => !Backbone(v.Name)).Sum(v => v.Count);
        Assert.That(head, Is.LessThan(g.Parameters.Count));
        Assert.That(p.TrainableCount, Is.EqualTo(head));
        Assert.That(o.StateNames, Has.Count.EqualTo(buffers));
        for (int i = 0; i < buffers; i++) Assert.That(o.State(i).Count, Is.EqualTo(head));
        Assert.That(p.Grads.Count, Is.EqualTo(head), "gradients for the head alone");
        Assert.Throws<ArgumentException>(() => o.StateSlice(0, g.Parameters.Views[0]));
    }

    private static double[] Initial(Engine.Graph.Graph g, ulong seed)
    {
        using var cpu = new CpuBackend<float>();
        using var p = new ParameterBuffers(g, cpu, gradients: false);
        p.Initialize(seed);
        return p.GetValues();
    }
}
