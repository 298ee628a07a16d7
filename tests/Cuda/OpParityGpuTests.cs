using Engine.Cuda;
using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Cuda;

/// <summary>Every op's GPU path against its CPU reference (forward, input and parameter gradients, states).</summary>
[Category("Gpu")]
public class OpParityGpuTests : GpuBackendFixture
{
    /// <summary>Ignores the test (with the reason) where cuDNN is missing.</summary>
    private static void RequireCudnn()
    {
        if (!Engine.Cuda.Native.NativeLibraries.TryLoadCudnn(out var why)) Assert.Ignore($"needs cuDNN: {why}");
    }

    private void Single(Op op, int batch, params Shape[] shapes) => Single(new GpuParity(), op, batch, shapes);

    /// <summary>GpuParity.Check also fails on any host fallback (unless the parity allows it).</summary>
    private void Single(GpuParity parity, Op op, int batch, params Shape[] shapes)
    {
        var (g, y) = OpHarness.Single(op, shapes);
        parity.Check(Gpu, g, batch, y[0]);
    }

    [Test] public void Relu() => Single(new Relu(), 3, new Shape(5, 7, 9));
    [Test] public void Add() => Single(new Add(), 2, new Shape(4, 5, 6), new Shape(4, 5, 6));
    [Test] public void Mish() => Single(new Mish(), 3, new Shape(4, 33, 17));

    // VGG A-LRN's settings, and a strong cross-channel term on features (an [N, C] input).
    [Test] public void Lrn() => Single(new Lrn(5, 1e-4, 0.75, 2), 2, new Shape(9, 13, 7));
    [Test] public void LrnStrong() => Single(new Lrn(3, 0.5, 0.9, 1.2), 4, new Shape(6));

    [TestCase(3, 1, 1, 1, 1, true)]
    [TestCase(3, 2, 1, 1, 1, false)]
    [TestCase(1, 1, 0, 1, 1, true)]
    [TestCase(3, 1, 2, 2, 1, true)]
    [TestCase(3, 1, 1, 1, 2, true)]
    [TestCase(7, 2, 3, 1, 1, true)]
    public void Conv2d(int kernel, int stride, int padding, int dilation, int groups, bool bias)
    {
        RequireCudnn();
        Single(new GpuParity { Tolerance = 2e-4 }, new Conv2d(8, kernel, stride, padding, dilation, groups, bias), 2, new Shape(4, 13, 11));
    }

    [TestCase(ConvAlgorithmSearch.Benchmark, true)]
    [TestCase(ConvAlgorithmSearch.Heuristic, false)]
    public void Conv2dWithOtherAlgorithmChoices(ConvAlgorithmSearch search, bool deterministic)
    {
        RequireCudnn();
        GpuAvailability.Require();
        using var gpu = CudaBackend.Create(0, new CudaOptions { ConvSearch = search, Deterministic = deterministic });
        var (g, y) = OpHarness.Single(new Conv2d(6, 3, padding: 1), new Shape(3, 9, 8));
        // Two steps: the second reuses the cached choices; the gradients accumulate over both.
        new GpuParity { Tolerance = 2e-4 }.Check(gpu, g, 2, y[0], steps: 2);
        Assert.That(gpu.Dnn.Algorithms.Count, Is.EqualTo(3), "forward, backward data and backward filter chosen once each");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Dense(bool bias) => Single(new Dense(7, bias), 5, new Shape(3, 4, 2));

    [Test]
    public void BatchNormTraining()
    {
        RequireCudnn();
        Single(new GpuParity { Tolerance = 2e-4 }, new BatchNorm(), 4, new Shape(6, 5, 7));
    }

    [Test]
    public void BatchNormOnFeatures()
    {
        RequireCudnn();
        Single(new GpuParity { Tolerance = 2e-4 }, new BatchNorm(momentum: 0.3), 8, new Shape(6));
    }

    [Test]
    public void BatchNormEvaluation()
    {
        RequireCudnn();
        // Forward runs cuDNN's inference path; backward with running statistics is documented to run on the host.
        Single(new GpuParity { Tolerance = 2e-4, Training = false, AllowedHostFallbacks = ["batchnorm backward"] }, new BatchNorm(), 3, new Shape(6, 5, 7));
    }

    [Test]
    public void BatchNormWithTinyEpsRunsTheCpuReference()
    {
        var before = Gpu.HostFallbacks.GetValueOrDefault("batchnorm forward");
        Single(new GpuParity { Tolerance = 2e-4, AllowedHostFallbacks = ["batchnorm forward", "batchnorm backward"] }, new BatchNorm(eps: 1e-6), 4, new Shape(3, 2, 2));
        Assert.That(Gpu.HostFallbacks.GetValueOrDefault("batchnorm forward"), Is.GreaterThan(before), "cuDNN takes eps >= 1e-5 only");
    }

    [Test]
    public void BatchNormRunningStatisticsFollowSeveralSteps()
    {
        RequireCudnn();
        var (g, y) = OpHarness.Single(new BatchNorm(), new Shape(3, 4, 4));
        new GpuParity { Tolerance = 2e-4 }.Check(Gpu, g, 5, y[0], steps: 3);
    }

    [TestCase(4)]
    [TestCase(1)]
    public void GroupNorm(int groups) => Single(new GpuParity { Tolerance = 2e-4 }, new GroupNorm(groups), 3, new Shape(8, 6, 5));

    [TestCase(2, 2, 0, false)]
    [TestCase(3, 2, 1, false)]
    [TestCase(3, 2, 1, true)]
    public void MaxPool(int kernel, int stride, int padding, bool ceil) => Single(new MaxPool(kernel, stride, padding, ceil), 2, new Shape(3, 9, 10));

    [Test]
    public void MaxPoolWithIndicesThenUnpool()
    {
        var b = new GraphBuilder("segnet-cell");
        var x = b.Input("x", new Shape(3, 8, 6));
        var (v, idx) = b.MaxPoolWithIndices(x, 2, 2);
        var y = b.MaxUnpool(b.Relu(v), idx, 8, 6);
        b.Output("y", y);
        new GpuParity().Check(Gpu, b.Build(), 2, y);
    }

    /// <summary>
    /// Duplicate indices: the CPU reference keeps the last value in memory order (MaxUnpool.cs);
    /// kernels/ABI.md leaves the GPU's survivor unspecified (racing writes), so there the slot must
    /// hold one of its values exactly. Backward, a gather, is exact on both.
    /// </summary>
    [Test]
    public void MaxUnpoolWithDuplicateIndices()
    {
        const int batch = 2, channels = 3, inPlane = 12, outPlane = 20;
        var (g, y) = OpHarness.Single(new MaxUnpool(4, 5), new Shape(channels, 3, 4), new Shape(channels, 3, 4));
        var rng = new Rng(9);
        int planes = batch * channels;
        var x = Enumerable.Range(0, planes * inPlane).Select(_ => (double)(float)rng.NextNormal()).ToArray();
        var idx = Enumerable.Range(0, planes * inPlane).Select(_ => rng.NextInt(outPlane / 2)).ToArray();
        var dy = Enumerable.Range(0, planes * outPlane).Select(_ => (double)(float)rng.NextNormal()).ToArray();
        var fallbacks = new Dictionary<string, int>(Gpu.HostFallbacks);
        var options = new ExecutorOptions { InputGradients = true };
        using var cpu = new CpuBackend<double>();
        using var c = new Executor(g, cpu, batch, options);
        using var d = new Executor(g, Gpu, batch, options);
        foreach (var e in new[] { c, d })
        {
            e.SetInput("x0", x);
            e.SetInput("x1", idx);
            e.Forward(training: true);
            e.Backward(y[0], dy);
        }
        var (cy, gy) = (c.Read(y[0]), d.Read(y[0]));
        int duplicates = 0;
        for (int p = 0; p < planes; p++)
            for (int slot = 0; slot < outPlane; slot++)
            {
                var values = Enumerable.Range(p * inPlane, inPlane).Where(i => idx[i] == slot).Select(i => x[i]).ToArray();
                int at = p * outPlane + slot;
                Assert.That(cy[at], Is.EqualTo(values.Length == 0 ? 0 : values[^1]), $"CPU, plane {p} slot {slot}: the last value in memory order");
                if (values.Length > 1) duplicates++;
                Assert.That(values.Length == 0 ? [0.0] : values, Does.Contain(gy[at]), $"GPU, plane {p} slot {slot}: one of the values sent there");
            }
        Assert.That(duplicates, Is.GreaterThan(0));
        Assert.That(d.ReadGrad(g.Input("x0")), Is.EqualTo(c.ReadGrad(g.Input("x0"))), "backward gathers the slot's gradient for each duplicate");
        Assert.That(Gpu.HostFallbacks, Is.EqualTo(fallbacks), "the GPU path ran, not the host fallback");
    }

    [TestCase(3, 2, 1, false, true)]
    [TestCase(3, 2, 1, true, false)]
    [TestCase(2, 2, 0, false, true)]
    public void AvgPool(int kernel, int stride, int padding, bool ceil, bool includePad) =>
        Single(new AvgPool(kernel, stride, padding, ceil, includePad), 2, new Shape(3, 9, 10));

    [Test] public void GlobalAvgPool() => Single(new GlobalAvgPool(), 3, new Shape(37, 5, 7));
    [Test] public void UpsampleNearest() => Single(new UpsampleNearest(3), 2, new Shape(4, 5, 3));

    [Test]
    public void Concat()
    {
        var b = new GraphBuilder("concat");
        var x0 = b.Input("x0", new Shape(3, 4, 5));
        var x1 = b.Input("x1", new Shape(1, 4, 5));
        var x2 = b.Input("x2", new Shape(6, 4, 5));
        var y = b.Concat([x0, b.Relu(x1), x2]);
        b.Output("y", y);
        new GpuParity().Check(Gpu, b.Build(), 2, y);
    }

    [Test]
    public void DropoutTrainingMaskMatchesTheCpuHash()
    {
        var (g, y) = OpHarness.Single(new Dropout(0.3), new Shape(4, 16, 16));
        new GpuParity().Check(Gpu, g, 3, y[0], steps: 2);
    }

    [Test] public void DropoutEvaluationIsTheIdentity() => Single(new GpuParity { Training = false }, new Dropout(0.5), 2, new Shape(100));

    [TestCase(-1)]
    [TestCase(255)]
    public void SoftmaxCrossEntropyPerSample(int ignore)
    {
        var (g, y) = OpHarness.Single(new SoftmaxCrossEntropy(ignore), new Shape(10), new Shape());
        var rng = new Rng(3);
        new GpuParity { IntInput = (_, n) => Enumerable.Range(0, n).Select(i => i % 4 == 3 ? ignore : rng.NextInt(10)).ToArray() }
            .Check(Gpu, g, 16, y[0]);
    }

    [Test]
    public void SoftmaxCrossEntropyPerPixelWithIgnoredPixels()
    {
        var b = new GraphBuilder("seg-loss");
        var logits = b.Input("logits", new Shape(5, 6, 7));
        var labels = b.Input("labels", new Shape(6, 7), isInt: true);
        var loss = b.SoftmaxCrossEntropy(logits, labels, ignoreLabel: 255);
        b.Output("loss", loss);
        var rng = new Rng(4);
        new GpuParity { IntInput = (_, n) => Enumerable.Range(0, n * 42).Select(i => i % 5 == 0 ? 255 : rng.NextInt(5)).ToArray() }
            .Check(Gpu, b.Build(), 3, loss);
    }

    private static Op SoftmaxLoss(string kind, int ignore) => kind switch
    {
        "focal" => new SoftmaxFocalLoss(2, ignore),
        "focal-gamma-0.5" => new SoftmaxFocalLoss(0.5, ignore),
        "dice" => new SoftmaxDiceLoss(1, ignore),
        _ => new SoftmaxCrossEntropy(ignore),
    };

    [TestCase("focal", -1)]
    [TestCase("dice", 255)]
    public void SoftmaxLossPerSample(string kind, int ignore)
    {
        var (g, y) = OpHarness.Single(SoftmaxLoss(kind, ignore), new Shape(10), new Shape());
        var rng = new Rng(3);
        new GpuParity { IntInput = (_, n) => Enumerable.Range(0, n).Select(i => i % 4 == 3 ? ignore : rng.NextInt(10)).ToArray() }
            .Check(Gpu, g, 16, y[0]);
    }

    [TestCase("focal")]
    [TestCase("focal-gamma-0.5")]
    [TestCase("dice")]
    public void SoftmaxLossPerPixelWithIgnoredPixels(string kind)
    {
        var (g, y) = OpHarness.Single(SoftmaxLoss(kind, 255), new Shape(5, 6, 7), new Shape(6, 7));
        var rng = new Rng(4);
        new GpuParity { IntInput = (_, n) => Enumerable.Range(0, n * 42).Select(i => i % 5 == 0 ? 255 : rng.NextInt(5)).ToArray() }
            .Check(Gpu, g, 3, y[0]);
    }

    [TestCase("ce")]
    [TestCase("focal")]
    [TestCase("dice")]
    public void BadLabelIsReportedWithTheLabelAndTheClassCount(string kind)
    {
        var (g, y) = OpHarness.Single(SoftmaxLoss(kind, -1), new Shape(4), new Shape());
        using var e = new Executor(g, Gpu, 2);
        e.SetInput("x0", new float[8]);
        e.SetInput("x1", new[] { 1, 9 });
        e.Forward(training: true);
        var ex = Assert.Throws<LabelOutOfRangeException>(() => e.Read(y[0]))!;
        Assert.That(ex.Message, Does.Contain("label 9").And.Contain("[0, 4)"));
    }

    [Test]
    public void ConvBlockWithBatchNormAndMishTrainsLikeTheCpu()
    {
        RequireCudnn();
        var b = new GraphBuilder("block");
        var x = b.Input("x", new Shape(3, 12, 12));
        var h = b.Mish(b.BatchNorm(b.Conv2d(x, 8, 3, padding: 1, bias: false)));
        h = b.MaxPool(h, 2, 2);
        var y = b.Dense(b.GlobalAvgPool(h), 5);
        b.Output("y", y);
        new GpuParity { Tolerance = 5e-4 }.Check(Gpu, b.Build(), 4, y, steps: 2);
    }
}
