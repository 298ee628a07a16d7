using System.Diagnostics;
using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;

namespace Engine.Tests.Profiling;

/// <summary>The executor's per-node profiling hook with the CPU backend's host timeline.</summary>
public class StepProfilerTests
{
    internal static Engine.Graph.Graph TinySegNet() =>
        NetRegistry.Build("segnet", new NetOptions { Width = 1.0 / 16, Input = new Shape(3, 16, 16), Classes = 3 });

    internal static void SetInputs(Executor exec)
    {
        var rng = new Rng(7);
        var x = new double[exec.ShapeOf(exec.Graph.Input("image")).Numel];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble();
        var y = new int[exec.ShapeOf(exec.Graph.Input("label")).Numel];
        for (int i = 0; i < y.Length; i++) y[i] = rng.NextInt(3);
        exec.SetInput("image", x);
        exec.SetInput("label", y);
    }

    internal static void TrainingStep(Executor exec)
    {
        exec.Parameters.ZeroGrads();
        exec.Forward(training: true);
        exec.Backward();
    }

    [Test]
    public void EveryNodeIsTimedInBothPassesWithinTheStepsWallTime()
    {
        using var cpu = new CpuBackend<float>();
        using var exec = new Executor(TinySegNet(), cpu, 2) { Seed = 1 };
        exec.Parameters.Initialize(1);
        SetInputs(exec);
        using var profiler = new StepProfiler(cpu);
        exec.Profiler = profiler;
        var walls = new List<double>();
        for (int step = 0; step < 3; step++)
        {
            var sw = Stopwatch.StartNew();
            profiler.BeginStep();
            TrainingStep(exec);
            profiler.BeginSection("optimizer");
            profiler.EndSection("optimizer");
            profiler.EndStep();
            walls.Add(sw.Elapsed.TotalMilliseconds);
        }

        var p = profiler.Summary();
        Assert.That(p.Steps, Is.EqualTo(3));
        Assert.That(p.Nodes.Select(n => n.Node), Is.EqualTo(exec.Graph.Nodes), "every node, in graph order");
        foreach (var n in p.Nodes)
        {
            Assert.That(n.ForwardMs, Is.Not.Null.And.GreaterThanOrEqualTo(0), $"{n.Node} forward");
            Assert.That(n.BackwardMs, Is.Not.Null.And.GreaterThanOrEqualTo(0), $"{n.Node} backward");
        }
        // The executor reports its recomputation (outputs written again before backward) as a section of its own.
        Assert.That(exec.Plan.RecomputedCount, Is.GreaterThan(0));
        Assert.That(p.Sections.Keys, Is.EquivalentTo(new[] { "optimizer", "recompute" }));
        double nodes = p.Nodes.Sum(n => n.ForwardMs!.Value + n.BackwardMs!.Value);
        Assert.That(nodes, Is.GreaterThan(0));
        // Medians of parts need not add up to the median step, but each step's parts do; the
        // slowest wall time bounds both the median step and the sum of the median parts here.
        Assert.That(p.StepMs, Is.LessThanOrEqualTo(walls.Max()));
        Assert.That(nodes + p.Sections["optimizer"] + p.Sections["recompute"], Is.LessThanOrEqualTo(walls.Max()));
    }

    [Test]
    public void WithoutAProfilerNothingIsRecordedAndResultsAreTheSame()
    {
        using var cpu = new CpuBackend<float>();
        var graph = TinySegNet();
        using var plain = new Executor(graph, cpu, 2) { Seed = 1 };
        using var profiled = new Executor(graph, cpu, 2) { Seed = 1 };
        plain.Parameters.Initialize(1);
        profiled.Parameters.Initialize(1);
        SetInputs(plain);
        SetInputs(profiled);
        using var profiler = new StepProfiler(cpu);

        profiled.Profiler = profiler;
        profiler.BeginStep();
        TrainingStep(profiled);
        profiler.EndStep();
        TrainingStep(plain);
        Assert.That(profiled.ReadFloat(graph.Loss!), Is.EqualTo(plain.ReadFloat(graph.Loss!)));
        Assert.That(profiled.Parameters.GetGrads(), Is.EqualTo(plain.Parameters.GetGrads()), "profiling changes no result");

        profiled.Profiler = null;
        TrainingStep(profiled); // outside any profiler step: would throw if the detached profiler were still told
        Assert.That(profiler.Steps, Is.EqualTo(1));
        Assert.That(plain.Profiler, Is.Null);
    }

    [Test]
    public void MisuseIsReportedClearly()
    {
        using var cpu = new CpuBackend<float>();
        using var exec = new Executor(TinySegNet(), cpu, 1);
        using var profiler = new StepProfiler(cpu);
        exec.Profiler = profiler;
        var e = Assert.Throws<InvalidOperationException>(() => exec.Forward(training: false))!;
        Assert.That(e.Message, Does.Contain("began outside a step").And.Contain("BeginStep"));
        Assert.Throws<InvalidOperationException>(profiler.EndStep);
        Assert.That(() => profiler.Summary(), Throws.InvalidOperationException.With.Message.Contains("no profiled step"));
        profiler.BeginStep();
        profiler.BeginSection("optimizer");
        Assert.That(profiler.EndStep, Throws.InvalidOperationException.With.Message.Contains("'optimizer' still open"));
    }
}
