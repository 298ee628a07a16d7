using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

public class Conv2dTests
{
    // (batch, in, out, height, width, kernel, stride, padding, dilation, groups, bias)
    [TestCase(1, 3, 4, 7, 5, 3, 1, 1, 1, 1, true, TestName = "3x3 pad 1 on odd 7x5, batch 1")]
    [TestCase(3, 2, 3, 7, 7, 3, 2, 0, 1, 1, true, TestName = "3x3/2 pad 0 on odd 7x7, batch 3")]
    [TestCase(2, 2, 2, 5, 6, 3, 2, 2, 1, 1, false, TestName = "3x3/2 pad 2, no bias")]
    [TestCase(2, 2, 3, 8, 7, 3, 1, 2, 2, 1, true, TestName = "3x3 dilation 2 pad 2")]
    [TestCase(2, 4, 6, 5, 5, 3, 1, 1, 1, 2, true, TestName = "groups 2")]
    [TestCase(3, 4, 4, 6, 5, 3, 1, 1, 1, 4, false, TestName = "depthwise 3x3")]
    [TestCase(2, 5, 3, 4, 3, 1, 1, 0, 1, 1, true, TestName = "1x1 pointwise")]
    [TestCase(2, 3, 2, 5, 5, 1, 2, 0, 1, 1, false, TestName = "1x1/2")]
    [TestCase(1, 2, 2, 6, 6, 2, 2, 1, 1, 1, true, TestName = "2x2/2 pad 1 even kernel")]
    [TestCase(2, 3, 16, 3, 3, 3, 1, 1, 1, 1, true, TestName = "many filters on few pixels (blocked weight-gradient GEMM)")]
    [TestCase(2, 2, 3, 3, 3, 1, 1, 1, 1, 1, true, TestName = "1x1 pad 1 (input gradient by folding at stride 1)")]
    [TestCase(3, 2, 9, 2, 4, 3, 1, 1, 1, 1, false, TestName = "8-pixel outputs (output tiles split between images)")]
    public void Gradient_matches_central_differences(int batch, int inC, int outC, int h, int w, int k, int stride, int pad, int dilation, int groups, bool bias)
    {
        var op = new Conv2d(outC, k, stride, pad, dilation, groups, bias);
        var (g, y) = OpHarness.Single(op, new Shape(inC, h, w));
        var report = new GradientChecker().Check(g, batch, y[0]);
        Assert.That(report.Failures, Is.Empty, report.ToString());
        long parameters = (long)outC * (inC / groups) * k * k + (bias ? outC : 0);
        Assert.That(report.Checked, Is.EqualTo(parameters + (long)batch * inC * h * w));
    }

    [TestCase(1, 3, 5, 9, 7, 3, 1, 1, 1, 1, true)]
    [TestCase(5, 6, 4, 11, 10, 3, 2, 1, 1, 2, true)]
    [TestCase(2, 3, 3, 9, 9, 3, 1, 2, 2, 3, false)]
    [TestCase(3, 8, 16, 6, 6, 1, 1, 0, 1, 1, true)]
    [TestCase(2, 4, 40, 13, 17, 5, 3, 2, 1, 1, true)]
    [TestCase(3, 8, 16, 4, 4, 3, 1, 1, 1, 1, true)]
    [TestCase(2, 16, 32, 16, 16, 3, 1, 1, 1, 1, false)] // big enough for the GEMMs to split over the cores
    [TestCase(2, 64, 48, 5, 5, 3, 2, 1, 1, 1, true)]
    [TestCase(2, 4, 8, 24, 24, 3, 1, 1, 1, 1, true)] // weight gradient by dot products over more than one chunk of pixels
    [TestCase(2, 4, 6, 11, 12, 3, 2, 2, 2, 2, true)]
    [TestCase(3, 40, 36, 3, 2, 1, 1, 0, 1, 2, true)] // pointwise input gradient W^T * dY per group, weights packed eight rows at a time
    [TestCase(2, 20, 27, 2, 2, 3, 1, 1, 1, 1, false)] // a deep layer's shape: many taps on a 2x2 image, flipped kernels
    [TestCase(2, 16, 12, 5, 5, 3, 1, 1, 1, 2, true)] // flipped kernels gathered eight input channels at a time, per group
    [TestCase(2, 8, 12, 7, 6, 5, 1, 2, 1, 1, false)] // 5x5 taps: a GEMM depth block ends inside an output channel's taps
    [TestCase(1, 4, 10, 3, 16, 3, 1, 1, 1, 1, true)] // images read in place by the GEMM: rows of 16 pixels, an odd number of half panels
    [TestCase(2, 12, 10, 4, 8, 1, 1, 0, 1, 1, true)] // pointwise, images of 32 pixels read in place
    [TestCase(3, 12, 10, 4, 4, 1, 1, 0, 1, 1, false)] // pointwise, 16-pixel images read in place, an odd number of half panels
    [TestCase(3, 5, 7, 16, 16, 3, 1, 1, 1, 1, true)] // weight gradient read in place: chunks of rows across images, ragged 4x6 tiles
    [TestCase(4, 1, 16, 64, 64, 3, 1, 1, 1, 1, false)] // in-place weight gradient split over the cores along output channels
    [TestCase(2, 6, 8, 8, 32, 3, 1, 2, 2, 2, true)] // in-place weight gradient, dilation 2, per group
    [TestCase(4, 4, 6, 10, 18, 3, 1, 0, 1, 1, true)] // in-place weight gradient without padding: the images at their own stride
    public void Float_forward_and_backward_match_a_direct_loop_convolution(int batch, int inC, int outC, int h, int w, int k, int stride, int pad, int dilation, int groups, bool bias)
    {
        var op = new Conv2d(outC, k, stride, pad, dilation, groups, bias);
        var (g, y) = OpHarness.Single(op, new Shape(inC, h, w));
        using var backend = new CpuBackend<float>();
        using var exec = new Executor(g, backend, batch, inputGradients: true);
        var rng = new Rng(7);
        var p = exec.Parameters.GetValues();
        for (int i = 0; i < p.Length; i++) p[i] = RoundToFloat(rng.NextNormal());
        exec.Parameters.SetValues(p);
        var x = new double[batch * inC * h * w];
        for (int i = 0; i < x.Length; i++) x[i] = RoundToFloat(rng.NextNormal());
        exec.SetInput("x0", x);

        var naive = new DirectConv(op, batch, inC, h, w);
        var weight = p.AsSpan(0, naive.WeightCount).ToArray();
        var biasValues = bias ? p.AsSpan(naive.WeightCount, outC).ToArray() : null;
        var (expected, scale) = naive.Forward(x, weight, biasValues);
        exec.Forward(training: true);
        ExpectClose("output", exec.Read(y[0]), expected, scale);

        var dy = new double[expected.Length];
        for (int i = 0; i < dy.Length; i++) dy[i] = RoundToFloat(rng.NextNormal());
        exec.Parameters.ZeroGrads();
        exec.Backward(y[0], dy);
        var (dx, dw, db, dxScale, dwScale, dbScale) = naive.Backward(x, weight, dy);
        var grads = exec.Parameters.GetGrads();
        ExpectClose("input gradient", exec.ReadGrad(g.Input("x0")), dx, dxScale);
        ExpectClose("weight gradient", grads.AsSpan(0, naive.WeightCount).ToArray(), dw, dwScale);
        if (bias) ExpectClose("bias gradient", grads.AsSpan(naive.WeightCount, outC).ToArray(), db, dbScale);
    }

    [Test]
    public void Gradient_over_more_pixels_than_one_dot_product_chunk()
    {
        var (g, y) = OpHarness.Single(new Conv2d(3, 3, padding: 1), new Shape(2, 24, 24));
        var report = new GradientChecker { SamplesPerTensor = 60 }.Check(g, 1, y[0]);
        Assert.That(report.Failures, Is.Empty, report.ToString());
    }

    [Test]
    public void Backward_accumulates_and_is_bitwise_reproducible()
    {
        var (g, y) = OpHarness.Single(new Conv2d(6, 3, padding: 1), new Shape(5, 8, 8));
        using var backend = new CpuBackend<float>();
        using var exec = new Executor(g, backend, 7, inputGradients: true);
        var rng = new Rng(3);
        var x = new double[7 * 5 * 64];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextNormal();
        exec.SetInput("x0", x);
        var dy = new double[7 * 6 * 64];
        for (int i = 0; i < dy.Length; i++) dy[i] = rng.NextNormal();

        exec.Parameters.ZeroGrads();
        exec.Forward(true);
        exec.Backward(y[0], dy);
        var once = exec.Parameters.GetGrads();
        exec.Forward(true);
        exec.Backward(y[0], dy);
        var twice = exec.Parameters.GetGrads();
        exec.Parameters.ZeroGrads();
        exec.Forward(true);
        exec.Backward(y[0], dy);
        var again = exec.Parameters.GetGrads();

        Assert.That(again, Is.EqualTo(once), "same inputs must give bitwise identical parameter gradients");
        double largest = once.Max(Math.Abs);
        for (int i = 0; i < once.Length; i++)
            Assert.That(twice[i], Is.EqualTo(2 * once[i]).Within(1e-5 * largest), $"parameter gradient {i} must accumulate");
    }

    [Test]
    public void Strided_input_gradient_does_not_depend_on_how_many_images_fold_at_once()
    {
        var (g, y) = OpHarness.Single(new Conv2d(4, 3, stride: 2, padding: 1), new Shape(3, 9, 9));
        double[] InputGradient()
        {
            using var backend = new CpuBackend<float>();
            using var exec = new Executor(g, backend, 5, inputGradients: true);
            exec.Parameters.Initialize(5);
            var rng = new Rng(9);
            var x = new double[5 * 3 * 81];
            for (int i = 0; i < x.Length; i++) x[i] = rng.NextNormal();
            exec.SetInput("x0", x);
            exec.Forward(true);
            var dy = new double[exec.ShapeOf(y[0]).Numel];
            for (int i = 0; i < dy.Length; i++) dy[i] = rng.NextNormal();
            exec.Backward(y[0], dy);
            return exec.ReadGrad(g.Input("x0"));
        }
        var allAtOnce = InputGradient();
        long budget = Conv2d.FoldBudget;
        try
        {
            Conv2d.FoldBudget = 2 * 27 * 25; // two images' column gradients
            Assert.That(InputGradient(), Is.EqualTo(allAtOnce));
        }
        finally { Conv2d.FoldBudget = budget; }
    }

    [Test]
    public void Output_shape_follows_the_pytorch_formula()
    {
        var b = new GraphBuilder("t");
        var x = b.Input("x", new Shape(3, 17, 12));
        Assert.That(b.Conv2d(x, 8, 3).Shape, Is.EqualTo(new Shape(1, 8, 15, 10)));
        Assert.That(b.Conv2d(x, 8, 3, stride: 2, padding: 1).Shape, Is.EqualTo(new Shape(1, 8, 9, 6)));
        Assert.That(b.Conv2d(x, 8, 3, padding: 2, dilation: 2).Shape, Is.EqualTo(new Shape(1, 8, 17, 12)));
        Assert.That(b.Conv2d(x, 6, 5, stride: 3, padding: 2, groups: 3).Shape, Is.EqualTo(new Shape(1, 6, 6, 4)));
    }

    [Test]
    public void Declares_he_weight_and_zero_bias_named_under_the_node()
    {
        var b = new GraphBuilder("t");
        var x = b.Input("x", new Shape(8, 10, 10));
        using (b.Scope("stem")) b.Conv2d(x, 16, 3, groups: 2, name: "conv1");
        b.Conv2d(x, 4, 1, bias: false);
        var g = b.Build();
        var weight = g.Parameters["stem.conv1.weight"];
        Assert.That(weight.Shape, Is.EqualTo(new Shape(16, 4, 3, 3)));
        Assert.That(weight.Init, Is.EqualTo(Init.He(36)));
        Assert.That(g.Parameters["stem.conv1.bias"].Shape, Is.EqualTo(new Shape(16)));
        Assert.That(g.Parameters["stem.conv1.bias"].Init.Kind, Is.EqualTo(InitKind.Zeros));
        Assert.That(g.Parameters.Contains("conv.weight"), Is.True);
        Assert.That(g.Parameters.Contains("conv.bias"), Is.False);
    }

    [Test]
    public void Glorot_weight_takes_fans_over_the_window_per_group_and_anything_else_is_refused()
    {
        var b = new GraphBuilder("t");
        var x = b.Input("x", new Shape(8, 10, 10));
        b.Conv2d(x, 16, 3, groups: 2, name: "conv1", weightInit: InitKind.Glorot);
        Assert.That(b.Build().Parameters["conv1.weight"].Init, Is.EqualTo(Init.Glorot(4 * 9, 8 * 9)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(4, 3, weightInit: InitKind.Ones));
    }

    [Test]
    public void Counts_multiply_accumulates_and_describes_itself()
    {
        var op = new Conv2d(64, 3, stride: 2, padding: 1, groups: 2);
        var input = new Shape(1, 32, 56, 56);
        var output = op.InferShapes([input])[0];
        Assert.That(op.MultiplyAccumulates([input], [output]), Is.EqualTo(64L * 28 * 28 * 16 * 9));
        Assert.That(op.Describe(), Is.EqualTo(("64", "3x3/2 g2")));
        Assert.That(new Conv2d(32, 3, padding: 2, dilation: 2).Describe(), Is.EqualTo(("32", "3x3 d2")));
        Assert.That(new Conv2d(10, 1).Describe(), Is.EqualTo(("10", "1x1")));
    }

    [Test]
    public void Rejects_channels_not_divisible_by_groups()
    {
        var ex = Assert.Throws<ShapeException>(() => OpHarness.Single(new Conv2d(8, 3, groups: 4), new Shape(6, 9, 9)));
        Assert.That(ex!.Message, Does.Contain("op").And.Contain("6 input channels").And.Contain("4 groups"));
        ex = Assert.Throws<ShapeException>(() => OpHarness.Single(new Conv2d(6, 3, groups: 4), new Shape(8, 9, 9)));
        Assert.That(ex!.Message, Does.Contain("6 output channels").And.Contain("4 groups"));
    }

    [Test]
    public void Rejects_an_input_smaller_than_the_kernel()
    {
        var ex = Assert.Throws<ShapeException>(() => OpHarness.Single(new Conv2d(4, 3), new Shape(2, 2, 2)));
        Assert.That(ex!.Message, Does.Contain("input 2x2 is smaller than the 3x3 kernel"));
        ex = Assert.Throws<ShapeException>(() => OpHarness.Single(new Conv2d(4, 3, dilation: 3), new Shape(2, 6, 8)));
        Assert.That(ex!.Message, Does.Contain("input 6x8").And.Contain("spans 7x7"));
        Assert.DoesNotThrow(() => OpHarness.Single(new Conv2d(4, 3, padding: 1), new Shape(2, 1, 1)));
    }

    [Test]
    public void Rejects_a_non_image_input_and_nonsense_settings()
    {
        var ex = Assert.Throws<ShapeException>(() => OpHarness.Single(new Conv2d(4, 3), new Shape(2, 9)));
        Assert.That(ex!.Message, Does.Contain("rank 4"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(4, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(4, 3, stride: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(4, 3, padding: -1));
    }

    private static double RoundToFloat(double v) => (float)v;

    private static void ExpectClose(string what, double[] actual, double[] expected, double[] scale)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (int i = 0; i < expected.Length; i++)
            if (Math.Abs(actual[i] - expected[i]) > 1e-5 * Math.Max(scale[i], 1e-30))
                Assert.Fail($"{what}[{i}] = {actual[i]}, direct loop gives {expected[i]} (sum of |terms| {scale[i]})");
    }

    /// <summary>
    /// The textbook definition, one output element at a time in double precision, with the sum
    /// of absolute terms beside each result as the scale for a relative tolerance.
    /// </summary>
    private sealed class DirectConv(Conv2d op, int batch, int inC, int h, int w)
    {
        private readonly int _oh = (h + 2 * op.Padding - op.Dilation * (op.Kernel - 1) - 1) / op.Stride + 1;
        private readonly int _ow = (w + 2 * op.Padding - op.Dilation * (op.Kernel - 1) - 1) / op.Stride + 1;
        private int InPerGroup => inC / op.Groups;
        private int OutPerGroup => op.OutChannels / op.Groups;
        public int WeightCount => op.OutChannels * InPerGroup * op.Kernel * op.Kernel;

        // Calls visit(outputIndex, inputIndex, weightIndex) for every product of the convolution.
        private void Taps(Action<int, int, int> visit)
        {
            int k = op.Kernel;
            for (int n = 0; n < batch; n++)
                for (int o = 0; o < op.OutChannels; o++)
                    for (int oy = 0; oy < _oh; oy++)
                        for (int ox = 0; ox < _ow; ox++)
                            for (int ci = 0; ci < InPerGroup; ci++)
                                for (int ky = 0; ky < k; ky++)
                                    for (int kx = 0; kx < k; kx++)
                                    {
                                        int iy = oy * op.Stride - op.Padding + ky * op.Dilation;
                                        int ix = ox * op.Stride - op.Padding + kx * op.Dilation;
                                        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                        int c = o / OutPerGroup * InPerGroup + ci;
                                        visit(((n * op.OutChannels + o) * _oh + oy) * _ow + ox,
                                            ((n * inC + c) * h + iy) * w + ix,
                                            ((o * InPerGroup + ci) * k + ky) * k + kx);
                                    }
        }

        public (double[] Y, double[] Scale) Forward(double[] x, double[] weight, double[]? bias)
        {
            var y = new double[batch * op.OutChannels * _oh * _ow];
            var scale = new double[y.Length];
            if (bias is not null)
                for (int i = 0; i < y.Length; i++)
                {
                    y[i] = bias[i / (_oh * _ow) % op.OutChannels];
                    scale[i] = Math.Abs(y[i]);
                }
            Taps((yi, xi, wi) => { y[yi] += weight[wi] * x[xi]; scale[yi] += Math.Abs(weight[wi] * x[xi]); });
            return (y, scale);
        }

        public (double[] Dx, double[] Dw, double[] Db, double[] DxScale, double[] DwScale, double[] DbScale) Backward(double[] x, double[] weight, double[] dy)
        {
            var dx = new double[x.Length];
            var dw = new double[weight.Length];
            var db = new double[op.OutChannels];
            var dxScale = new double[x.Length];
            var dwScale = new double[weight.Length];
            var dbScale = new double[op.OutChannels];
            Taps((yi, xi, wi) =>
            {
                dx[xi] += weight[wi] * dy[yi]; dxScale[xi] += Math.Abs(weight[wi] * dy[yi]);
                dw[wi] += x[xi] * dy[yi]; dwScale[wi] += Math.Abs(x[xi] * dy[yi]);
            });
            for (int i = 0; i < dy.Length; i++)
            {
                db[i / (_oh * _ow) % op.OutChannels] += dy[i];
                dbScale[i / (_oh * _ow) % op.OutChannels] += Math.Abs(dy[i]);
            }
            return (dx, dw, db, dxScale, dwScale, dbScale);
        }
    }
}
