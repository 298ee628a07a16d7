using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

public class DropoutTests
{
    private static (Executor Exec, Value Y, double[] X) Setup(double p, Shape sample, int batch = 2, ulong seed = 7, long step = 0)
    {
        var b = new GraphBuilder("t");
        var x = b.Input("x", sample);
        b.Relu(x); // another node first, so the dropout node's index is not 0
        var y = b.Dropout(x, p, name: "drop");
        b.Output("y", y);
        var exec = new Executor(b.Build(), new CpuBackend<double>(), batch) { Seed = seed, Step = step };
        var data = Enumerable.Range(0, (int)(sample.Numel * batch)).Select(i => 1.0 + i % 17).ToArray();
        exec.SetInput("x", data);
        return (exec, y, data);
    }

    private static bool[] Kept(double p, ulong seed, long step, bool training = true)
    {
        var (exec, y, _) = Setup(p, new Shape(4, 16, 16), seed: seed, step: step);
        using (exec)
        {
            exec.Forward(training);
            return exec.Read(y).Select(v => v != 0).ToArray();
        }
    }

    [Test]
    public void Evaluation_is_the_identity()
    {
        var (exec, y, x) = Setup(0.5, new Shape(3, 5, 5));
        using (exec)
        {
            exec.Forward(training: false);
            Assert.That(exec.Read(y), Is.EqualTo(x));
        }
    }

    [TestCase(0.1)]
    [TestCase(0.5)]
    [TestCase(0.8)]
    public void Training_zeroes_about_p_and_scales_the_rest(double p)
    {
        var (exec, y, x) = Setup(p, new Shape(8, 32, 32));
        using (exec)
        {
            exec.Forward(training: true);
            var output = exec.Read(y);
            int zeros = output.Count(v => v == 0);
            // 16384 elements: the zero fraction's standard deviation is below 0.004.
            Assert.That(zeros / (double)output.Length, Is.EqualTo(p).Within(0.02));
            for (int i = 0; i < output.Length; i++)
                if (output[i] != 0) Assert.That(output[i], Is.EqualTo(x[i] / (1 - p)).Within(1e-12));
        }
    }

    [Test]
    public void Mask_is_the_documented_hash_of_seed_node_step_and_index()
    {
        const double p = 0.3;
        const ulong seed = 99;
        const long step = 12;
        var kept = Kept(p, seed, step);
        ulong stream = (1UL << 32) + step; // the dropout node has index 1
        for (int i = 0; i < kept.Length; i++)
            Assert.That(kept[i], Is.EqualTo(Rng.HashUniform(seed, stream, (ulong)i) >= p), $"element {i}");
    }

    [Test]
    public void Same_seed_and_step_give_the_same_mask_and_other_steps_or_seeds_another()
    {
        var mask = Kept(0.5, seed: 3, step: 10);
        Assert.That(Kept(0.5, seed: 3, step: 10), Is.EqualTo(mask));
        Assert.That(Kept(0.5, seed: 3, step: 11), Is.Not.EqualTo(mask));
        Assert.That(Kept(0.5, seed: 4, step: 10), Is.Not.EqualTo(mask));
    }

    [Test]
    public void Batch_samples_get_different_masks()
    {
        var mask = Kept(0.5, seed: 3, step: 0);
        int half = mask.Length / 2;
        Assert.That(mask.Take(half), Is.Not.EqualTo(mask.Skip(half)));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Gradient_matches_central_differences(bool training)
    {
        var (g, y) = OpHarness.Single(new Dropout(0.4), new Shape(3, 5, 7));
        var checker = new GradientChecker { Training = training, Seed = 17 };
        PoolingTests.AssertGradient(g, 3, y[0], 3 * 105, checker);
    }

    [Test]
    public void Training_backward_passes_gradient_only_through_kept_elements()
    {
        var (g, y) = OpHarness.Single(new Dropout(0.5), new Shape(2, 4, 4));
        using var e = new Executor(g, new CpuBackend<double>(), 2, inputGradients: true) { Seed = 5 };
        var x = PoolingTests.Random(64, 8);
        e.SetInput("x0", x);
        e.Forward(training: true);
        var forward = e.Read(y[0]);
        e.Backward(y[0], Enumerable.Repeat(1.0, 64).ToArray());
        var dx = e.ReadGrad(g.Input("x0"));
        for (int i = 0; i < 64; i++) Assert.That(dx[i], Is.EqualTo(forward[i] == 0 ? 0.0 : 2.0), $"element {i}");
        Assert.That(dx.Count(v => v == 0), Is.InRange(1, 63));
    }

    [TestCase(-0.1)]
    [TestCase(1.0)]
    [TestCase(double.NaN)]
    public void Probability_outside_zero_to_one_is_rejected(double p)
    {
        var b = new GraphBuilder("t");
        var x = b.Input("x", new Shape(3));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => b.Dropout(x, p));
        Assert.That(ex!.ParamName, Is.EqualTo("p"));
    }
}
