using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

public class PoolingTests
{
    // (batch, channels, height, width, kernel, stride, padding, ceil): odd sizes, overlapping
    // windows, ceil-mode windows that hang over the input, batch 1 and 3.
    private static readonly object[] Configs =
    [
        new object[] { 1, 2, 7, 7, 3, 2, 1, false },
        new object[] { 3, 2, 6, 6, 2, 2, 0, true },
        new object[] { 1, 3, 5, 5, 3, 2, 1, true },
        new object[] { 3, 1, 5, 7, 3, 3, 1, true },
        new object[] { 1, 2, 5, 5, 2, 2, 1, true },
        new object[] { 1, 1, 6, 6, 3, 2, 0, true },
        new object[] { 3, 2, 4, 3, 3, 1, 1, false },
    ];

    /// <summary>Output sizes of torch.nn.functional.max_pool2d / avg_pool2d (PyTorch 1.13) for square inputs.</summary>
    [TestCase(7, 3, 2, 1, false, 4)]
    [TestCase(7, 3, 2, 1, true, 4)]
    [TestCase(6, 2, 2, 0, true, 3)]
    [TestCase(5, 3, 2, 1, true, 3)]
    [TestCase(5, 2, 2, 1, true, 3)]
    [TestCase(6, 3, 2, 0, true, 3)]
    [TestCase(6, 3, 2, 0, false, 2)]
    [TestCase(4, 3, 3, 1, true, 2)]
    [TestCase(5, 3, 3, 1, true, 2)]
    [TestCase(1, 2, 2, 1, true, 1)]
    [TestCase(2, 3, 2, 1, true, 2)]
    [TestCase(8, 3, 3, 0, true, 3)]
    public void Output_size_follows_pytorch(int size, int k, int s, int p, bool ceil, int expected)
    {
        var b = new GraphBuilder("t");
        var x = b.Input("x", new Shape(2, size, size));
        Assert.That(b.MaxPool(x, k, s, p, ceil).Shape, Is.EqualTo(new Shape(1, 2, expected, expected)));
        Assert.That(b.AvgPool(x, k, s, p, ceil).Shape, Is.EqualTo(new Shape(1, 2, expected, expected)));
        var (values, indices) = b.MaxPoolWithIndices(x, k, s, p, ceil);
        Assert.That(indices.Shape, Is.EqualTo(values.Shape));
        Assert.That(indices.Type, Is.EqualTo(DataType.I32));
    }

    [Test]
    public void Padding_over_half_the_kernel_is_rejected_naming_the_layer()
    {
        var b = new GraphBuilder("t");
        var x = b.Input("x", new Shape(1, 5, 5));
        var ex = Assert.Throws<ShapeException>(() => b.MaxPool(x, 3, 2, padding: 2, name: "pool1"));
        Assert.That(ex!.Message, Does.Contain("pool1").And.Contain("padding 2").And.Contain("kernel 3"));
        Assert.Throws<ShapeException>(() => b.AvgPool(x, 2, 2, padding: 2));
    }

    [Test]
    public void Window_larger_than_the_padded_input_is_rejected()
    {
        var b = new GraphBuilder("t");
        var x = b.Input("x", new Shape(1, 2, 2));
        var ex = Assert.Throws<ShapeException>(() => b.MaxPool(x, 3, 1, name: "pool2"));
        Assert.That(ex!.Message, Does.Contain("pool2").And.Contain("2x2").And.Contain("3x3/1"));
        Assert.Throws<ShapeException>(() => b.AvgPool(x, 3, 1, ceilMode: true));
        Assert.DoesNotThrow(() => b.MaxPool(x, 3, 1, padding: 1));
    }

    [Test]
    public void Non_image_input_and_bad_stride_are_rejected()
    {
        var b = new GraphBuilder("t");
        var flat = b.Input("flat", new Shape(10));
        Assert.That(Assert.Throws<ShapeException>(() => b.MaxPool(flat, 2, 2))!.Message, Does.Contain("NCHW"));
        Assert.That(Assert.Throws<ShapeException>(() => b.GlobalAvgPool(flat))!.Message, Does.Contain("NCHW"));
        var x = b.Input("x", new Shape(1, 4, 4));
        Assert.That(Assert.Throws<ShapeException>(() => b.AvgPool(x, 2, 0))!.Message, Does.Contain("stride"));
    }

    [Test]
    public void Describe_gives_kernel_and_stride()
    {
        Assert.That(new MaxPool(3, 2, 1).Describe(), Is.EqualTo(("", "3x3/2")));
        Assert.That(new AvgPool(2, 2).Describe(), Is.EqualTo(("", "2x2/2")));
    }

    [TestCaseSource(nameof(Configs))]
    public void MaxPool_gradient_matches_central_differences(int n, int c, int h, int w, int k, int s, int p, bool ceil)
    {
        var (g, y) = OpHarness.Single(new MaxPool(k, s, p, ceil), new Shape(c, h, w));
        AssertGradient(g, n, y[0], n * c * h * w);
    }

    [TestCaseSource(nameof(Configs))]
    public void MaxPoolWithIndices_gradient_matches_central_differences(int n, int c, int h, int w, int k, int s, int p, bool ceil)
    {
        var (g, y) = OpHarness.Single(new MaxPool(k, s, p, ceil, withIndices: true), new Shape(c, h, w));
        AssertGradient(g, n, y[0], n * c * h * w);
    }

    [TestCaseSource(nameof(Configs))]
    public void AvgPool_gradient_matches_central_differences(int n, int c, int h, int w, int k, int s, int p, bool ceil)
    {
        foreach (bool includePad in new[] { true, false })
        {
            var (g, y) = OpHarness.Single(new AvgPool(k, s, p, ceil, includePad), new Shape(c, h, w));
            AssertGradient(g, n, y[0], n * c * h * w);
        }
    }

    [TestCase(1, 3, 5, 7)]
    [TestCase(3, 2, 1, 1)]
    public void GlobalAvgPool_averages_each_plane_and_has_correct_gradient(int n, int c, int h, int w)
    {
        var (g, y) = OpHarness.Single(new GlobalAvgPool(), new Shape(c, h, w));
        AssertGradient(g, n, y[0], n * c * h * w);

        var x = Random(n * c * h * w, 3);
        var (_, outs) = Run(g, n, x);
        Assert.That(outs[0], Has.Length.EqualTo(n * c));
        for (int plane = 0; plane < n * c; plane++)
            Assert.That(outs[0][plane], Is.EqualTo(x.Skip(plane * h * w).Take(h * w).Average()).Within(1e-12));
    }

    [TestCase(2, 3, 7, 7)]
    [TestCase(9, 5, 4, 3)]
    [TestCase(7, 7, 7, 7)]
    public void AdaptiveAvgPool_gradient_matches_central_differences(int h, int w, int outH, int outW)
    {
        var (g, y) = OpHarness.Single(new AdaptiveAvgPool(outH, outW), new Shape(2, h, w));
        AssertGradient(g, 2, y[0], 2 * 2 * h * w);
    }

    [Test]
    public void AdaptiveAvgPool_to_the_input_size_is_the_identity_and_from_one_pixel_repeats_it()
    {
        var (same, _) = OpHarness.Single(new AdaptiveAvgPool(3, 4), new Shape(2, 3, 4));
        var x = Random(2 * 2 * 3 * 4, 5);
        Assert.That(Run(same, 2, x).Item2[0], Is.EqualTo(x).Within(1e-15));
        var (spread, _) = OpHarness.Single(new AdaptiveAvgPool(7, 7), new Shape(2, 1, 1));
        var y = Run(spread, 1, [1.5, -2]).Item2[0];
        Assert.That(y.Take(49), Is.All.EqualTo(1.5));
        Assert.That(y.Skip(49), Is.All.EqualTo(-2.0));
    }

    /// <summary>Values of torch.nn.functional.avg_pool2d (PyTorch 1.13) on arange(size * size).</summary>
    [TestCase(6, 3, 2, 0, true, new[] { 7.0, 9, 10.5, 19, 21, 22.5, 28, 30, 31.5 }, new[] { 7.0, 9, 10.5, 19, 21, 22.5, 28, 30, 31.5 })]
    [TestCase(5, 3, 2, 1, true, new[] { 4 / 3.0, 3, 8 / 3.0, 7, 12, 9, 8, 13, 28 / 3.0 }, new[] { 3.0, 4.5, 6, 10.5, 12, 13.5, 18, 19.5, 21 })]
    [TestCase(5, 2, 2, 1, true, new[] { 0.0, 0.75, 1.75, 3.75, 9, 11, 8.75, 19, 21 }, new[] { 0.0, 1.5, 3.5, 7.5, 9, 11, 17.5, 19, 21 })]
    public void AvgPool_matches_pytorch_values(int size, int k, int s, int p, bool ceil, double[] includingPad, double[] excludingPad)
    {
        var x = Enumerable.Range(0, size * size).Select(i => (double)i).ToArray();
        foreach (var (includePad, expected) in new[] { (true, includingPad), (false, excludingPad) })
        {
            var (g, _) = OpHarness.Single(new AvgPool(k, s, p, ceil, includePad), new Shape(1, size, size));
            var (_, outs) = Run(g, 1, x);
            Assert.That(outs[0], Is.EqualTo(expected).Within(1e-12), $"countIncludePad {includePad}");
        }
    }

    [TestCaseSource(nameof(Configs))]
    public void MaxPool_values_and_indices_match_a_brute_force_search(int n, int c, int h, int w, int k, int s, int p, bool ceil)
    {
        // Few distinct values, so that windows hold ties; all negative, so that padding read as 0 would win.
        var rng = new Rng(11);
        var x = Enumerable.Range(0, n * c * h * w).Select(_ => -1.0 - rng.NextInt(3)).ToArray();
        var (g, _) = OpHarness.Single(new MaxPool(k, s, p, ceil, withIndices: true), new Shape(c, h, w));
        var (exec, outs) = Run(g, n, x);
        var indices = exec.ReadInt(g.Outputs["y1"]);
        var expected = BruteForceArgmax(x, n * c, h, w, k, s, p, ceil, out int outH, out int outW);

        Assert.That(indices, Is.EqualTo(expected));
        for (int o = 0; o < expected.Length; o++)
            Assert.That(outs[0][o], Is.EqualTo(x[o / (outH * outW) * h * w + expected[o]]));
    }

    [TestCaseSource(nameof(Configs))]
    public void MaxPool_backward_with_ties_sends_each_gradient_to_the_first_maximum(int n, int c, int h, int w, int k, int s, int p, bool ceil)
    {
        var rng = new Rng(5);
        var x = Enumerable.Range(0, n * c * h * w).Select(_ => (double)rng.NextInt(2)).ToArray();
        var (g, y) = OpHarness.Single(new MaxPool(k, s, p, ceil), new Shape(c, h, w));
        var (exec, outs) = Run(g, n, x);
        var dy = Random(outs[0].Length, 6);
        exec.Backward(y[0], dy);

        var argmax = BruteForceArgmax(x, n * c, h, w, k, s, p, ceil, out int outH, out int outW);
        var expected = new double[x.Length];
        for (int o = 0; o < argmax.Length; o++) expected[o / (outH * outW) * h * w + argmax[o]] += dy[o];
        Assert.That(exec.ReadGrad(g.Input("x0")), Is.EqualTo(expected).Within(1e-12));
    }

    [Test]
    public void MaxPool_propagates_nan_like_pytorch()
    {
        var x = new double[] { 1, double.NaN, 3, 2 };
        var (g, _) = OpHarness.Single(new MaxPool(2, 2, withIndices: true), new Shape(1, 2, 2));
        var (exec, outs) = Run(g, 1, x);
        Assert.That(outs[0][0], Is.NaN);
        Assert.That(exec.ReadInt(g.Outputs["y1"]), Is.EqualTo(new[] { 1 }));
    }

    [Test]
    public void MaxPool_runs_in_single_precision_too()
    {
        var (g, _) = OpHarness.Single(new MaxPool(3, 2, 1, ceilMode: true), new Shape(2, 5, 5));
        var x = Random(2 * 2 * 25, 9);
        using var backend = new CpuBackend<float>();
        using var exec = new Executor(g, backend, 2);
        exec.SetInput("x0", x.Select(v => (float)v).ToArray());
        exec.Forward(training: false);
        var argmax = BruteForceArgmax(x, 4, 5, 5, 3, 2, 1, true, out int outH, out int outW);
        var expected = argmax.Select((a, o) => (float)x[o / (outH * outW) * 25 + a]).ToArray();
        Assert.That(exec.ReadFloat(g.Outputs["y0"]), Is.EqualTo(expected));
    }

    [TestCase(2, 6, 6, 2, 2, 0, false)]
    [TestCase(3, 7, 7, 3, 2, 1, false)]
    [TestCase(1, 5, 5, 3, 2, 1, true)]
    public void Unpool_of_pool_puts_maxima_back_and_zeros_elsewhere(int n, int h, int w, int k, int s, int p, bool ceil)
    {
        const int c = 2;
        var b = new GraphBuilder("segnet-step");
        var input = b.Input("x0", new Shape(c, h, w));
        var (values, indices) = b.MaxPoolWithIndices(input, k, s, p, ceil);
        b.Output("y", b.MaxUnpool(values, indices, h, w));
        var g = b.Build();
        var x = Random(n * c * h * w, 21);
        var (exec, outs) = Run(g, n, x);

        var argmax = BruteForceArgmax(x, n * c, h, w, k, s, p, ceil, out int outH, out int outW);
        var isMax = new bool[x.Length];
        for (int o = 0; o < argmax.Length; o++) isMax[o / (outH * outW) * h * w + argmax[o]] = true;
        Assert.That(isMax.Count(m => m), Is.GreaterThan(0));
        for (int i = 0; i < x.Length; i++)
            Assert.That(outs[0][i], Is.EqualTo(isMax[i] ? x[i] : 0.0), $"element {i}");

        // With overlapping windows one input can be the maximum of two windows: unpool writes it
        // once but its backward (a gather, as PyTorch's) feeds it both gradients, so the chain is
        // differentiable as a whole only when windows do not overlap.
        if (k <= s) AssertGradient(g, n, g.Output("y"), n * c * h * w);
    }

    [TestCase(1, 2, 3, 5, 4)]
    [TestCase(3, 1, 1, 2, 2)]
    public void MaxUnpool_gradient_matches_central_differences(int n, int c, int h, int outSize, int w)
    {
        var (g, y) = OpHarness.Single(new MaxUnpool(outSize, outSize), new Shape(c, h, w), new Shape(c, h, w));
        // Distinct indices within each plane: a shuffled prefix of the output plane's positions.
        var rng = new Rng(3);
        var indices = new List<int>();
        for (int plane = 0; plane < n * c; plane++)
        {
            var positions = Enumerable.Range(0, outSize * outSize).ToArray();
            rng.Shuffle<int>(positions);
            indices.AddRange(positions.Take(h * w));
        }
        var report = new GradientChecker().Check(g, n, y[0], exec => exec.SetInput("x1", indices.ToArray()));
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(n * c * h * w));
    }

    [Test]
    public void MaxUnpool_duplicate_indices_keep_the_last_value_in_memory_order()
    {
        var (g, y) = OpHarness.Single(new MaxUnpool(2, 3), new Shape(2, 2, 2), new Shape(2, 2, 2));
        using var exec = new Executor(g, new CpuBackend<double>(), 1, new ExecutorOptions { InputGradients = true });
        exec.SetInput("x0", new[] { 1.0, 2, 3, 4, 5, 6, 7, 8 });
        exec.SetInput("x1", new[] { 4, 0, 4, 5, 1, 1, 1, 2 });
        exec.Forward(training: true);
        Assert.That(exec.Read(y[0]), Is.EqualTo(new[] { 2.0, 0, 0, 0, 3, 4, 0, 7, 8, 0, 0, 0 }));
        // Backward gathers: every duplicate receives its slot's gradient.
        exec.Backward(y[0], Enumerable.Range(1, 12).Select(i => (double)i).ToArray());
        Assert.That(exec.ReadGrad(g.Input("x0")), Is.EqualTo(new[] { 5.0, 1, 5, 6, 8, 8, 8, 9 }));
    }

    [Test]
    public void MaxUnpool_rejects_indices_of_another_shape()
    {
        var b = new GraphBuilder("t");
        var x = b.Input("x", new Shape(2, 3, 3));
        var idx = b.Input("idx", new Shape(2, 3, 4), isInt: true);
        var ex = Assert.Throws<ShapeException>(() => b.MaxUnpool(x, idx, 6, 6, name: "unpool1"));
        Assert.That(ex!.Message, Does.Contain("unpool1").And.Contain("2x3x4").And.Contain("2x3x3"));
        Assert.Throws<ShapeException>(() => b.MaxUnpool(x, x, 6, 6), "float indices");
    }

    [Test]
    public void MaxUnpool_rejects_an_index_outside_the_output_plane()
    {
        var (g, _) = OpHarness.Single(new MaxUnpool(2, 2), new Shape(1, 1, 2), new Shape(1, 1, 2));
        using var exec = new Executor(g, new CpuBackend<double>(), 1);
        exec.SetInput("x0", new[] { 1.0, 2.0 });
        exec.SetInput("x1", new[] { 3, 4 });
        var ex = Assert.Throws<InvalidOperationException>(() => exec.Forward(training: false));
        Assert.That(ex!.Message, Does.Contain("op").And.Contain("index 4").And.Contain("2x2"));
    }

    [Test]
    public void MaxUnpool_rejects_a_bad_index_in_planes_unpooled_in_parallel()
    {
        var (g, _) = OpHarness.Single(new MaxUnpool(32, 32), new Shape(64, 16, 16), new Shape(64, 16, 16));
        using var exec = new Executor(g, new CpuBackend<double>(), 1);
        exec.SetInput("x0", new double[64 * 256]);
        var idx = Enumerable.Range(0, 64 * 256).Select(i => i % 256 * 4).ToArray();
        idx[50 * 256 + 7] = 1024;
        exec.SetInput("x1", idx);
        var ex = Assert.Throws<InvalidOperationException>(() => exec.Forward(training: false));
        Assert.That(ex!.Message, Does.Contain("index 1024").And.Contain($"position {50 * 256 + 7}").And.Contain("32x32"));
    }

    internal static void AssertGradient(Graph.Graph g, int batch, Value output, int expectedChecked, GradientChecker? checker = null)
    {
        var report = (checker ?? new GradientChecker()).Check(g, batch, output);
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(expectedChecked));
        Assert.That(report.SkippedAsKinks, Is.Zero, report.ToString());
    }

    internal static double[] Random(int count, ulong seed)
    {
        var rng = new Rng(seed);
        return Enumerable.Range(0, count).Select(_ => rng.NextNormal()).ToArray();
    }

    /// <summary>Runs a harness graph forward in evaluation mode with input x0 set; returns the executor and all float outputs.</summary>
    internal static (Executor Exec, double[][] Outputs) Run(Graph.Graph g, int batch, double[] x0, bool training = false)
    {
        var exec = new Executor(g, new CpuBackend<double>(), batch, inputGradients: true);
        exec.SetInput("x0", x0);
        exec.Forward(training);
        var outs = g.Outputs.Where(kv => kv.Value.IsFloat).OrderBy(kv => kv.Key).Select(kv => exec.Read(kv.Value)).ToArray();
        return (exec, outs);
    }

    /// <summary>
    /// Index of each window's maximum: among the input positions the window covers, those holding
    /// the largest value, the one with the smallest h * W + w. Window positions come from
    /// PyTorch's definition: start o * stride - padding, size kernel, output size from the
    /// documented formula (ceil mode dropping a window that starts past input + padding).
    /// </summary>
    private static int[] BruteForceArgmax(double[] x, int planes, int h, int w, int k, int s, int p, bool ceil, out int outH, out int outW)
    {
        static int Size(int i, int k, int s, int p, bool ceil)
        {
            double exact = (i + 2.0 * p - k) / s;
            int size = (int)(ceil ? Math.Ceiling(exact) : Math.Floor(exact)) + 1;
            return ceil && (size - 1) * s >= i + p ? size - 1 : size;
        }
        outH = Size(h, k, s, p, ceil);
        outW = Size(w, k, s, p, ceil);
        var result = new List<int>();
        for (int plane = 0; plane < planes; plane++)
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                {
                    var covered = new List<(int Row, int Col)>();
                    for (int r = oh * s - p; r < oh * s - p + k; r++)
                        for (int col = ow * s - p; col < ow * s - p + k; col++)
                            if (r >= 0 && r < h && col >= 0 && col < w) covered.Add((r, col));
                    double max = covered.Max(rc => x[plane * h * w + rc.Row * w + rc.Col]);
                    result.Add(covered.Where(rc => x[plane * h * w + rc.Row * w + rc.Col] == max).Min(rc => rc.Row * w + rc.Col));
                }
        return [.. result];
    }
}
