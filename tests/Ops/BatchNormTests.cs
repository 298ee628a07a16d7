using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

public class BatchNormTests
{
    [TestCase(3, new[] { 2, 3, 5 })]
    [TestCase(1, new[] { 3, 3, 5 })]
    [TestCase(2, new[] { 1, 1, 3 })]
    [TestCase(3, new[] { 4 })]
    public void Training_gradient_matches_central_differences(int batch, int[] sample)
    {
        var (g, y) = OpHarness.Single(new BatchNorm(), new Shape(sample));
        var report = new GradientChecker { Training = true }.Check(g, batch, y[0]);
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(batch * new Shape(sample).Numel + 2 * sample[0]));
    }

    [TestCase(3, new[] { 2, 3, 5 })]
    [TestCase(1, new[] { 3, 1, 1 })]
    [TestCase(1, new[] { 5 })]
    public void Eval_gradient_matches_central_differences(int batch, int[] sample)
    {
        var (g, y) = OpHarness.Single(new BatchNorm(), new Shape(sample));
        var report = new GradientChecker { Training = false }.Check(g, batch, y[0],
            setParameters: p => p.SetStates(RandomStates(sample[0], new Rng(7))));
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(batch * new Shape(sample).Numel + 2 * sample[0]));
    }

    [Test]
    public void Running_statistics_are_states_not_parameters()
    {
        var (g, _) = OpHarness.Single(new BatchNorm(), new Shape(3, 2, 2));
        Assert.That(g.Parameters.Views.Select(v => v.Name), Is.EqualTo(new[] { "op.weight", "op.bias" }));
        Assert.That(g.States.Views.Select(v => v.Name), Is.EqualTo(new[] { "op.running_mean", "op.running_var" }));
        using var backend = new CpuBackend<double>();
        using var parameters = new ParameterBuffers(g, backend);
        Assert.That(parameters.GetValues(), Is.EqualTo(new double[] { 1, 1, 1, 0, 0, 0 }));
        Assert.That(parameters.GetStates(), Is.EqualTo(new double[] { 0, 0, 0, 1, 1, 1 }));
    }

    [Test]
    public void Training_normalises_by_batch_statistics_and_updates_running_ones_with_momentum()
    {
        const int batch = 3, channels = 2, plane = 6;
        const double momentum = 0.3, eps = 1e-5;
        var (g, y) = OpHarness.Single(new BatchNorm(momentum, eps), new Shape(channels, 2, 3));
        using var backend = new CpuBackend<double>();
        using var exec = new Executor(g, backend, batch);
        double[] weight = [1.5, -0.5], bias = [0.25, 2];
        exec.Parameters.SetValues([.. weight, .. bias]);

        var rng = new Rng(3);
        double[] runningMean = [0, 0], runningVar = [1, 1];
        for (int step = 0; step < 2; step++)
        {
            var x = Enumerable.Range(0, batch * channels * plane).Select(_ => 2 * rng.NextNormal() + step).ToArray();
            exec.SetInput("x0", x);
            exec.Forward(training: true);
            var output = exec.Read(y[0]);
            for (int c = 0; c < channels; c++)
            {
                var values = ChannelValues(x, batch, channels, plane, c);
                double mean = values.Average();
                double biased = values.Sum(v => (v - mean) * (v - mean)) / values.Length;
                double unbiased = values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1);
                var expected = values.Select(v => (v - mean) / Math.Sqrt(biased + eps) * weight[c] + bias[c]);
                Assert.That(ChannelValues(output, batch, channels, plane, c), Is.EqualTo(expected).Within(1e-12));
                runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean;
                runningVar[c] = (1 - momentum) * runningVar[c] + momentum * unbiased;
            }
            Assert.That(exec.Parameters.GetStates(), Is.EqualTo(runningMean.Concat(runningVar)).Within(1e-12), $"after step {step}");
        }
    }

    [Test]
    public void Eval_normalises_by_running_statistics_and_leaves_them_alone()
    {
        const int batch = 2, channels = 3;
        var (g, y) = OpHarness.Single(new BatchNorm(eps: 1e-3), new Shape(channels));
        using var backend = new CpuBackend<double>();
        using var exec = new Executor(g, backend, batch);
        double[] states = [0.5, -1, 2, 4, 0.25, 1];
        exec.Parameters.SetStates(states);
        exec.Parameters.SetValues([2, 1, -1, 0, 0.5, 3]);
        double[] x = [1, 2, 3, -1, 0, 5];
        exec.SetInput("x0", x);
        exec.Forward(training: false);

        double[] expected =
        [
            (1 - 0.5) / Math.Sqrt(4.001) * 2 + 0, (2 + 1) / Math.Sqrt(0.251) * 1 + 0.5, (3 - 2) / Math.Sqrt(1.001) * -1 + 3,
            (-1 - 0.5) / Math.Sqrt(4.001) * 2 + 0, (0 + 1) / Math.Sqrt(0.251) * 1 + 0.5, (5 - 2) / Math.Sqrt(1.001) * -1 + 3,
        ];
        Assert.That(exec.Read(y[0]), Is.EqualTo(expected).Within(1e-12));
        Assert.That(exec.Parameters.GetStates(), Is.EqualTo(states));
    }

    [Test]
    public void Float_reference_agrees_with_double()
    {
        var (g, y) = OpHarness.Single(new BatchNorm(), new Shape(3, 4, 5));
        var rng = new Rng(11);
        // Far from zero relative to the spread, where a one-pass variance in float would fail.
        var x = Enumerable.Range(0, 2 * 60).Select(_ => (double)(float)(1000 + rng.NextNormal())).ToArray();
        var dy = Enumerable.Range(0, 2 * 60).Select(_ => rng.NextNormal()).ToArray();
        foreach (bool training in new[] { true, false })
        {
            var (yd, gd) = Run(new CpuBackend<double>(), g, y[0], x, dy, training);
            var (yf, gf) = Run(new CpuBackend<float>(), g, y[0], x, dy, training);
            Assert.That(yf, Is.EqualTo(yd).Within(1e-4), $"output, training {training}");
            Assert.That(gf, Is.EqualTo(gd).Within(1e-4), $"input gradient, training {training}");
        }
    }

    [Test]
    public void Training_with_one_value_per_channel_is_refused()
    {
        var (g, _) = OpHarness.Single(new BatchNorm(), new Shape(4));
        using var backend = new CpuBackend<double>();
        using var exec = new Executor(g, backend, 1);
        var ex = Assert.Throws<ShapeException>(() => exec.Forward(training: true));
        Assert.That(ex!.Message, Does.Contain("op").And.Contain("more than one value per channel"));
        Assert.DoesNotThrow(() => exec.Forward(training: false));
    }

    [Test]
    public void Rejects_inputs_that_are_neither_vectors_nor_images()
    {
        var ex = Assert.Throws<ShapeException>(() => OpHarness.Single(new BatchNorm(), new Shape(3, 4)));
        Assert.That(ex!.Message, Does.Contain("op").And.Contain("3x4"));
    }

    [Test]
    public void Fluent_helper_names_its_node_and_parameters()
    {
        var b = new GraphBuilder("net");
        var x = b.Input("x", new Shape(8, 4, 4));
        using (b.Scope("stem")) b.BatchNorm(x);
        var g = b.Build();
        Assert.That(g.Parameters.Views.Select(v => v.Name), Is.EqualTo(new[] { "stem.bn.weight", "stem.bn.bias" }));
        Assert.That(g.Parameters.Views.Select(v => v.Shape), Is.All.EqualTo(new Shape(8)));
    }

    private static double[] RandomStates(int channels, Rng rng) =>
        [.. Enumerable.Range(0, channels).Select(_ => rng.NextNormal()), .. Enumerable.Range(0, channels).Select(_ => 0.5 + rng.NextDouble())];

    private static double[] ChannelValues(double[] data, int batch, int channels, int plane, int c) =>
        [.. Enumerable.Range(0, batch).SelectMany(s => data.Skip((s * channels + c) * plane).Take(plane))];

    private static (double[] Y, double[] Dx) Run(Backend backend, Graph.Graph g, Value y, double[] x, double[] dy, bool training)
    {
        using (backend)
        {
            using var exec = new Executor(g, backend, 2, inputGradients: true);
            exec.Parameters.SetStates([.. Enumerable.Repeat(1000.0, 3), .. Enumerable.Repeat(1.5, 3)]);
            exec.Parameters.SetValues([1.5, 0.5, -1, 0.1, 0.2, 0.3]);
            exec.SetInput("x0", x);
            exec.Forward(training);
            exec.Backward(y, dy);
            return (exec.Read(y), exec.ReadGrad(g.Inputs[0]));
        }
    }
}
