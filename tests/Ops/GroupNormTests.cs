using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

public class GroupNormTests
{
    [TestCase(3, 1, new[] { 4, 3, 5 })]
    [TestCase(3, 2, new[] { 4, 3, 5 })]
    [TestCase(3, 4, new[] { 4, 3, 5 })]
    [TestCase(1, 3, new[] { 6, 1, 3 })]
    [TestCase(1, 2, new[] { 2, 3, 3 })]
    [TestCase(3, 2, new[] { 6 })]
    public void Gradient_matches_central_differences(int batch, int groups, int[] sample)
    {
        var (g, y) = OpHarness.Single(new GroupNorm(groups), new Shape(sample));
        var report = new GradientChecker().Check(g, batch, y[0]);
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(batch * new Shape(sample).Numel + 2 * sample[0]));
    }

    [TestCase(1)]
    [TestCase(3)]
    [TestCase(6)]
    public void Normalises_each_group_of_each_sample_then_applies_the_channel_affine(int groups)
    {
        const int batch = 2, channels = 6, plane = 4;
        const double eps = 1e-3;
        var (g, y) = OpHarness.Single(new GroupNorm(groups, eps), new Shape(channels, 2, 2));
        using var backend = new CpuBackend<double>();
        using var exec = new Executor(g, backend, batch);
        var rng = new Rng(5);
        var weight = Enumerable.Range(0, channels).Select(_ => rng.NextNormal()).ToArray();
        var bias = Enumerable.Range(0, channels).Select(_ => rng.NextNormal()).ToArray();
        exec.Parameters.SetValues([.. weight, .. bias]);
        var x = Enumerable.Range(0, batch * channels * plane).Select(i => rng.NextNormal() * (1 + i % 3) + i % 5).ToArray();
        exec.SetInput("x0", x);
        exec.Forward(training: false);
        var output = exec.Read(y[0]);

        int size = channels / groups * plane;
        for (int s = 0; s < batch; s++)
            for (int group = 0; group < groups; group++)
            {
                int start = (s * groups + group) * size;
                var values = x.Skip(start).Take(size).ToArray();
                double mean = values.Average();
                double variance = values.Sum(v => (v - mean) * (v - mean)) / size;
                for (int i = 0; i < size; i++)
                {
                    int c = group * (channels / groups) + i / plane;
                    double expected = (values[i] - mean) / Math.Sqrt(variance + eps) * weight[c] + bias[c];
                    Assert.That(output[start + i], Is.EqualTo(expected).Within(1e-12), $"sample {s}, group {group}, element {i}");
                }
            }
    }

    [Test]
    public void Float_reference_stays_accurate_far_from_zero()
    {
        // Mean 1000, spread 1: E[x^2] - E[x]^2 in float would lose most digits.
        var (g, y) = OpHarness.Single(new GroupNorm(2), new Shape(4, 5, 5));
        var rng = new Rng(9);
        var x = Enumerable.Range(0, 2 * 100).Select(_ => (double)(float)(1000 + rng.NextNormal())).ToArray();
        var dy = Enumerable.Range(0, 2 * 100).Select(_ => rng.NextNormal()).ToArray();
        var (yd, gd) = Run(new CpuBackend<double>(), g, y[0], x, dy);
        var (yf, gf) = Run(new CpuBackend<float>(), g, y[0], x, dy);
        Assert.That(yf, Is.EqualTo(yd).Within(1e-5));
        Assert.That(gf, Is.EqualTo(gd).Within(1e-5));
    }

    [Test]
    public void Groups_that_do_not_divide_the_channels_are_reported()
    {
        var ex = Assert.Throws<ShapeException>(() => OpHarness.Single(new GroupNorm(3), new Shape(4, 5, 5)));
        Assert.That(ex!.Message, Does.Contain("op").And.Contain("3 groups").And.Contain("4 channels"));
    }

    [Test]
    public void Fluent_helper_defaults_to_32_groups()
    {
        var rejected = new GraphBuilder("net");
        var x = rejected.Input("x", new Shape(48, 4, 4));
        var ex = Assert.Throws<ShapeException>(() => rejected.GroupNorm(x));
        Assert.That(ex!.Message, Does.Contain("32 groups").And.Contain("48 channels"));

        var b = new GraphBuilder("net");
        b.GroupNorm(b.Input("x", new Shape(64, 4, 4)));
        Assert.That(b.Build().Parameters.Views.Select(v => v.Name), Is.EqualTo(new[] { "gn.weight", "gn.bias" }));
    }

    private static (double[] Y, double[] Dx) Run(Backend backend, Graph.Graph g, Value y, double[] x, double[] dy)
    {
        using (backend)
        {
            using var exec = new Executor(g, backend, 2, inputGradients: true);
            exec.Parameters.SetValues([1.5, 0.5, -1, 2, 0.1, 0.2, 0.3, -0.4]);
            exec.SetInput("x0", x);
            exec.Forward(training: true);
            exec.Backward(y, dy);
            return (exec.Read(y), exec.ReadGrad(g.Inputs[0]));
        }
    }
}
