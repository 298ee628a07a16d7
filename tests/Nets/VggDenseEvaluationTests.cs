using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;

namespace Engine.Tests.Nets;

public class VggDenseEvaluationTests
{
    [Test]
    public void Dense_form_has_the_same_parameter_names_sizes_and_order_as_the_fc_form()
    {
        var fc = NetRegistry.Build("vgg16").Parameters;
        var dense = NetRegistry.Build("vgg16", new() { DenseEvaluation = true }).Parameters;
        Assert.That(dense.Views.Select(v => (v.Name, v.Offset, v.Count)), Is.EqualTo(fc.Views.Select(v => (v.Name, v.Offset, v.Count))));
        Assert.That(dense["fc6.weight"].Shape, Is.EqualTo(new Shape(4096, 512, 7, 7)));
        Assert.That(fc["fc6.weight"].Shape, Is.EqualTo(new Shape(4096, 512 * 7 * 7)));
    }

    /// <summary>
    /// At the training resolution the final map is exactly one fc6 kernel, so the dense form's
    /// score map is 1x1 and must equal the FC form's logits with the same weights. A 64x64 input
    /// gives a 2x2 final map: fc6 as a 2x2 conv must read it in the order Dense flattens it.
    /// </summary>
    [TestCase("vgg11")]
    [TestCase("vgg16-c")]
    public void At_the_training_size_dense_evaluation_gives_the_fc_logits(string net)
    {
        var options = new NetOptions { Width = 1.0 / 16, Input = new Shape(3, 64, 64), Classes = 5 };
        var fc = NetRegistry.Build(net, options);
        var dense = NetRegistry.Build(net, options with { DenseEvaluation = true, DenseKernel = 2 });
        var image = RandomImage(2 * 3 * 64 * 64, 5);
        double[] parameters;
        double[] expected;
        using (var backend = new CpuBackend<double>())
        using (var exec = new Executor(fc, backend, 2))
        {
            exec.Parameters.Initialize(11);
            parameters = exec.Parameters.GetValues();
            exec.SetInput("image", image);
            exec.Forward(training: false);
            expected = exec.Read(fc.Output("logits"));
        }
        using (var backend = new CpuBackend<double>())
        using (var exec = new Executor(dense, backend, 2))
        {
            exec.Parameters.SetValues(parameters);
            exec.SetInput("image", image);
            exec.Forward(training: false);
            Assert.That(exec.Read(dense.Output("logits")), Is.EqualTo(expected).Within(1e-12));
        }
    }

    [Test]
    public void Above_the_training_size_dense_evaluation_averages_a_class_score_map()
    {
        var g = NetRegistry.Build("vgg11", new() { DenseEvaluation = true, Input = new Shape(3, 384, 384) });
        // 384 / 32 = 12: fc6 (7x7) leaves a 6x6 score map, averaged to one score per class.
        Assert.That(g.Nodes.Single(n => n.Name == "fc7").Outputs[0].Shape.DropFirst(), Is.EqualTo(new Shape(4096, 6, 6)));
        Assert.That(g.Output("logits").Shape.DropFirst(), Is.EqualTo(new Shape(1000)));
        Assert.That(g.Parameters.Count, Is.EqualTo(NetRegistry.Build("vgg11").Parameters.Count));
    }

    private static double[] RandomImage(int n, ulong seed)
    {
        var rng = new Rng(seed);
        return Enumerable.Range(0, n).Select(_ => rng.NextDouble()).ToArray();
    }
}
