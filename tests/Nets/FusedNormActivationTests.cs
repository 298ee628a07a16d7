using Engine.Graph;
using Engine.Nets;
using Engine.Ops;
using Engine.Tensors;

namespace Engine.Tests.Nets;

/// <summary>
/// The nets' conv units fuse batch norm and its activation into one node by default; the fused
/// and unfused nets have the same parameters and states and compute the same loss and gradients.
/// </summary>
public class FusedNormActivationTests
{
    private static IEnumerable<TestCaseData> Nets()
    {
        yield return new TestCaseData("vovnet57", new NetOptions { Width = 1.0 / 16, Input = new Shape(3, 32, 32), Classes = 4 });
        // fcn: segnet and vgg have dropout, whose mask hashes the node's index, which fusion changes.
        yield return new TestCaseData("fcn", new NetOptions { Width = 1.0 / 8, Input = new Shape(3, 32, 32), Classes = 5 });
    }

    [TestCaseSource(nameof(Nets))]
    public void Fused_and_unfused_nets_share_parameters_and_compute_the_same(string name, NetOptions options)
    {
        var fused = NetRegistry.Build(name, options);
        var unfused = NetRegistry.Build(name, options with { FuseNormActivation = false });
        Assert.That(fused.Parameters.Views.Select(v => (v.Name, v.Shape)), Is.EqualTo(unfused.Parameters.Views.Select(v => (v.Name, v.Shape))));
        Assert.That(fused.States.Views.Select(v => (v.Name, v.Shape)), Is.EqualTo(unfused.States.Views.Select(v => (v.Name, v.Shape))));
        int units = unfused.Nodes.Count(n => n.Op is BatchNorm);
        Assert.That(units, Is.GreaterThan(0));
        Assert.That(fused.Nodes.Count(n => n.Op is BatchNormActivation), Is.EqualTo(units));
        Assert.That(fused.Nodes.Any(n => n.Op is BatchNorm or Mish or Relu && n.Name.Contains("conv")), Is.False);
        Assert.That(fused.Nodes, Has.Count.EqualTo(unfused.Nodes.Count - units));

        var f = Step(fused, options);
        var u = Step(unfused, options);
        Assert.That(f.Loss, Is.EqualTo(u.Loss).Within(1e-12));
        Assert.That(f.Logits, Is.EqualTo(u.Logits).Within(1e-10));
        Assert.That(f.Grads, Is.EqualTo(u.Grads).Within(1e-10));
        Assert.That(f.States, Is.EqualTo(u.States).Within(1e-12));
    }

    [Test]
    public void Group_norm_units_stay_unfused()
    {
        var g = NetRegistry.Build("vovnet57", new NetOptions { Width = 1.0 / 16, Input = new Shape(3, 32, 32), Norm = Norm.Group });
        Assert.That(g.Nodes.Any(n => n.Op is BatchNormActivation), Is.False);
        Assert.That(g.Nodes.Any(n => n.Name == "stem.conv1_mish"));
    }

    private static (double Loss, double[] Logits, double[] Grads, double[] States) Step(Graph.Graph g, NetOptions o)
    {
        const int batch = 2;
        using var backend = new CpuBackend<double>();
        using var exec = new Executor(g, backend, batch) { Seed = 3 };
        exec.Parameters.Initialize(5);
        var rng = new Rng(9);
        exec.SetInput("image", Enumerable.Range(0, (int)(batch * o.Input!.Value.Numel)).Select(_ => rng.NextNormal()).ToArray());
        var labels = g.Input("label").Shape.WithBatch(batch).Numel;
        exec.SetInput("label", Enumerable.Range(0, (int)labels).Select(i => (i * 7 + 3) % o.Classes!.Value).ToArray());
        exec.Parameters.ZeroGrads();
        exec.Forward(training: true);
        double loss = exec.Read(g.Loss!)[0];
        var logits = exec.Read(g.Output("logits"));
        exec.Backward();
        return (loss, logits, exec.Parameters.GetGrads(), exec.Parameters.GetStates());
    }
}
