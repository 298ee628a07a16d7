using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

public class BatchNormActivationTests
{
    private static readonly ActivationKind[] Activations = [ActivationKind.Relu, ActivationKind.Mish];

    private static IEnumerable<TestCaseData> GradientCases()
    {
        foreach (var act in Activations)
            foreach (bool training in new[] { true, false })
            {
                yield return new TestCaseData(act, training, 3, new[] { 2, 3, 5 });
                yield return new TestCaseData(act, training, 2, new[] { 3, 5, 7 });
                yield return new TestCaseData(act, training, 3, new[] { 4 });
                yield return new TestCaseData(act, training, 1, training ? new[] { 3, 1, 2 } : new[] { 3, 1, 1 });
            }
    }

    [TestCaseSource(nameof(GradientCases))]
    public void Gradient_matches_central_differences(ActivationKind act, bool training, int batch, int[] sample)
    {
        var (g, y) = OpHarness.Single(new BatchNormActivation(act), new Shape(sample));
        var report = new GradientChecker { Training = training }.Check(g, batch, y[0],
            setParameters: p => p.SetStates(RandomStates(sample[0], new Rng(7))));
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(batch * new Shape(sample).Numel + 2 * sample[0]));
        Assert.That(report.SkippedAsKinks, Is.LessThanOrEqualTo(report.Checked / 10), report.ToString());
    }

    private static IEnumerable<TestCaseData> EqualityCases()
    {
        foreach (var act in Activations)
            foreach (bool training in new[] { true, false })
                foreach (bool useFloat in new[] { false, true })
                {
                    yield return new TestCaseData(act, training, useFloat, 3, new[] { 5, 7, 3 });
                    yield return new TestCaseData(act, training, useFloat, 4, new[] { 6 });
                }
    }

    /// <summary>The fused node computes exactly what BatchNorm followed by the activation node computes.</summary>
    [TestCaseSource(nameof(EqualityCases))]
    public void Matches_batch_norm_then_the_activation(ActivationKind act, bool training, bool useFloat, int batch, int[] sample)
    {
        var shape = new Shape(sample);
        var fused = OpHarness.Single(new BatchNormActivation(act, momentum: 0.2), shape);
        var b = new GraphBuilder("unfused");
        var x = b.Input("x0", shape);
        var z = b.BatchNorm(x, momentum: 0.2, name: "op");
        var yUnfused = act == ActivationKind.Mish ? b.Mish(z, "act") : b.Relu(z, "act");
        var unfused = b.Build();

        var data = Data.For(shape, batch, 5);
        var f = RunExecutor(useFloat, fused.Graph, fused.Outputs[0], data, training);
        var u = RunExecutor(useFloat, unfused, yUnfused, data, training);
        double tolerance = useFloat ? 1e-6 : 1e-12;
        Assert.That(f.Y, Is.EqualTo(u.Y).Within(tolerance), "output");
        Assert.That(f.Dx, Is.EqualTo(u.Dx).Within(tolerance), "input gradient");
        Assert.That(f.ParamGrads, Is.EqualTo(u.ParamGrads).Within(tolerance), "parameter gradients");
        Assert.That(f.States, Is.EqualTo(u.States).Within(tolerance), "running statistics");
    }

    [TestCase(ActivationKind.Relu, true)]
    [TestCase(ActivationKind.Mish, true)]
    [TestCase(ActivationKind.Mish, false)]
    public void Writes_and_reads_a_strided_output_slice(ActivationKind act, bool training)
    {
        const int batch = 3;
        var shape = new Shape(4, 3, 5);
        var (g, y) = OpHarness.Single(new BatchNormActivation(act), shape);
        var data = Data.For(shape, batch, 9);
        var contiguous = RunExecutor(false, g, y[0], data, training);
        using var backend = new CpuBackend<double>();
        var strided = StridedRun.Run(backend, g.Nodes[0], batch, shape.Numel + 7, data.X, [data.Weight, data.Bias],
            [data.RunningMean, data.RunningVar], data.Dy, training);
        Assert.That(strided.Y, Is.EqualTo(contiguous.Y).Within(1e-12), "output");
        Assert.That(strided.Gaps, Is.All.EqualTo(StridedRun.Sentinel), "elements between the samples are left alone");
        Assert.That(strided.Dx, Is.EqualTo(contiguous.Dx).Within(1e-12), "input gradient");
        Assert.That(strided.ParamGrads, Is.EqualTo(contiguous.ParamGrads).Within(1e-12), "parameter gradients");
        Assert.That(strided.States, Is.EqualTo(contiguous.States).Within(1e-12), "running statistics");
    }

    [Test]
    public void Has_batch_norms_parameters_and_states_and_names_its_type()
    {
        var (g, _) = OpHarness.Single(new BatchNormActivation(ActivationKind.Mish), new Shape(3, 2, 2));
        Assert.That(g.Parameters.Views.Select(v => v.Name), Is.EqualTo(new[] { "op.weight", "op.bias" }));
        Assert.That(g.States.Views.Select(v => v.Name), Is.EqualTo(new[] { "op.running_mean", "op.running_var" }));
        Assert.That(new BatchNormActivation(ActivationKind.Mish).Type, Is.EqualTo("bn+mish"));
        Assert.That(new BatchNormActivation(ActivationKind.Relu).Type, Is.EqualTo("bn+relu"));
    }

    [Test]
    public void Backward_needs_the_input_not_the_output_and_the_output_may_be_strided()
    {
        var op = new BatchNormActivation(ActivationKind.Relu);
        Assert.That(op.BackwardReadsInput(0), Is.True);
        Assert.That(op.BackwardReadsOutput(0), Is.False);
        Assert.That(op.WritesStridedOutput(0), Is.True);
        Assert.That(op.ReadsStridedInput(0), Is.False);
    }

    [Test]
    public void Training_with_one_value_per_channel_is_refused()
    {
        var (g, _) = OpHarness.Single(new BatchNormActivation(ActivationKind.Mish), new Shape(4));
        using var backend = new CpuBackend<double>();
        using var exec = new Executor(g, backend, 1);
        var ex = Assert.Throws<ShapeException>(() => exec.Forward(training: true));
        Assert.That(ex!.Message, Does.Contain("more than one value per channel"));
        Assert.DoesNotThrow(() => exec.Forward(training: false));
    }

    [Test]
    public void Fluent_helper_names_its_node()
    {
        var b = new GraphBuilder("net");
        var x = b.Input("x", new Shape(8, 4, 4));
        b.BatchNormActivation(x, ActivationKind.Relu, name: "conv1_norm");
        Assert.That(b.Build().Parameters.Views.Select(v => v.Name), Is.EqualTo(new[] { "conv1_norm.weight", "conv1_norm.bias" }));
    }

    private static double[] RandomStates(int channels, Rng rng) =>
        [.. Enumerable.Range(0, channels).Select(_ => rng.NextNormal()), .. Enumerable.Range(0, channels).Select(_ => 0.5 + rng.NextDouble())];

    /// <summary>Inputs, parameters, states and an output gradient for one run, float32-representable.</summary>
    public sealed record Data(double[] X, double[] Weight, double[] Bias, double[] RunningMean, double[] RunningVar, double[] Dy)
    {
        public static Data For(Shape sample, int batch, ulong seed)
        {
            var rng = new Rng(seed);
            int c = sample[0], n = (int)(batch * sample.Numel);
            double[] Normal(int count, double scale = 1, double shift = 0) =>
                [.. Enumerable.Range(0, count).Select(_ => (double)(float)(shift + scale * rng.NextNormal()))];
            return new(Normal(n, 2, 0.5), Normal(c, 0.5, 1), Normal(c, 0.5), Normal(c, 0.3),
                [.. Enumerable.Range(0, c).Select(_ => (double)(float)(0.5 + rng.NextDouble()))], Normal(n));
        }
    }

    public static StridedRun.Result RunExecutor(bool useFloat, Graph.Graph g, Value y, Data d, bool training)
    {
        using Backend backend = useFloat ? new CpuBackend<float>() : new CpuBackend<double>();
        using var exec = new Executor(g, backend, (int)(d.X.Length / g.Inputs[0].Shape.DropFirst().Numel), inputGradients: true);
        exec.Parameters.SetValues([.. d.Weight, .. d.Bias]);
        exec.Parameters.SetStates([.. d.RunningMean, .. d.RunningVar]);
        exec.Parameters.ZeroGrads();
        exec.SetInput("x0", d.X);
        exec.Forward(training);
        var output = exec.Read(y);
        exec.Backward(y, d.Dy);
        return new(output, [], exec.ReadGrad(g.Inputs[0]), exec.Parameters.GetGrads(), exec.Parameters.GetStates());
    }
}
