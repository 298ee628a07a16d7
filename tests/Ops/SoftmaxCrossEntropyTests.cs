using Engine.Graph;
using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

public class SoftmaxCrossEntropyTests
{
    [Test]
    public void Hand_built_two_by_three_example()
    {
        double[] logits = [1, 2, 3, 1, 1, 1];
        int[] labels = [2, 0];
        var (loss, grad) = Run(logits, [3], labels, batch: 2, dLoss: 2.5);

        double row0 = Math.Log(Math.E + Math.E * Math.E + Math.Exp(3)) - 3;
        double row1 = Math.Log(3);
        Assert.That(loss, Is.EqualTo((row0 + row1) / 2).Within(1e-14));

        double z = Math.E + Math.Exp(2) + Math.Exp(3);
        double[] expected =
        [
            Math.E / z, Math.Exp(2) / z, Math.Exp(3) / z - 1,
            1.0 / 3 - 1, 1.0 / 3, 1.0 / 3,
        ];
        Assert.That(grad, Is.EqualTo(expected.Select(v => v * 2.5 / 2)).Within(1e-14));
    }

    [Test]
    public void Per_pixel_loss_is_the_mean_over_counted_pixels()
    {
        const int batch = 2, classes = 3, height = 2, width = 3, plane = height * width;
        var rng = new Rng(4);
        var logits = Enumerable.Range(0, batch * classes * plane).Select(_ => 3 * rng.NextNormal()).ToArray();
        int[] labels = [0, 2, 255, 1, 1, 0, 255, 255, 2, 0, 1, 2];
        var (loss, grad) = Run(logits, [classes, height, width], labels, batch, ignoreLabel: 255);

        double total = 0;
        int counted = 0;
        for (int s = 0; s < batch; s++)
            for (int p = 0; p < plane; p++)
            {
                int label = labels[s * plane + p];
                if (label == 255) continue;
                double z = Enumerable.Range(0, classes).Sum(k => Math.Exp(logits[(s * classes + k) * plane + p]));
                total += -Math.Log(Math.Exp(logits[(s * classes + label) * plane + p]) / z);
                counted++;
            }
        Assert.That(counted, Is.EqualTo(9));
        Assert.That(loss, Is.EqualTo(total / counted).Within(1e-13));

        for (int s = 0; s < batch; s++)
            for (int p = 0; p < plane; p++)
            {
                if (labels[s * plane + p] != 255) continue;
                for (int k = 0; k < classes; k++)
                    Assert.That(grad[(s * classes + k) * plane + p], Is.Zero, $"ignored pixel {p} of sample {s}");
            }
    }

    [TestCase(3, new[] { 5 }, new[] { 4, 0, 2 })]
    [TestCase(1, new[] { 4 }, new[] { 3 })]
    [TestCase(2, new[] { 3 }, new[] { -1, 1 })]
    [TestCase(3, new[] { 3, 3, 5 }, null)]
    [TestCase(1, new[] { 4, 1, 1 }, new[] { 2 })]
    public void Gradient_matches_central_differences(int batch, int[] logitShape, int[]? labels)
    {
        var op = new SoftmaxCrossEntropy(ignoreLabel: -1);
        var logits = new Shape(logitShape);
        var labelShape = logits.Rank == 1 ? new Shape() : new Shape(logits[1], logits[2]);
        var (g, y) = OpHarness.Single(op, logits, labelShape);
        if (labels is null)
        {
            // Every class and a few ignored pixels.
            var rng = new Rng(2);
            labels = [.. Enumerable.Range(0, batch * (int)labelShape.Numel).Select(_ => rng.NextInt(logitShape[0] + 1) - 1)];
        }
        var report = new GradientChecker().Check(g, batch, y[0], e => e.SetInput("x1", labels));
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(batch * logits.Numel));
    }

    [Test]
    public void Every_label_ignored_gives_zero_loss_and_zero_gradient()
    {
        var (loss, grad) = Run([0.5, -2, 3, 1, 1, 7, 0, 0], [2, 2, 1], [255, 255, 255, 255], batch: 2, ignoreLabel: 255);
        Assert.That(loss, Is.Zero);
        Assert.That(grad, Is.All.Zero);
    }

    [Test]
    public void Huge_logits_stay_finite()
    {
        var (loss, grad) = Run([1000, 0, -1000, 1000, 0, -1000], [3], [0, 1], batch: 2);
        Assert.That(loss, Is.EqualTo((0 + 1000) / 2.0).Within(1e-9));
        Assert.That(grad, Is.EqualTo(new[] { 0, 0, 0, 0.5, -0.5, 0 }).Within(1e-12));
    }

    [Test]
    public void Float_reference_matches_double()
    {
        var rng = new Rng(8);
        var logits = Enumerable.Range(0, 2 * 4 * 3 * 3).Select(_ => (double)(float)(5 * rng.NextNormal())).ToArray();
        var labels = Enumerable.Range(0, 2 * 9).Select(_ => rng.NextInt(4)).ToArray();
        var (loss, grad) = Run(logits, [4, 3, 3], labels, batch: 2);
        var (lossF, gradF) = Run(logits, [4, 3, 3], labels, batch: 2, useFloat: true);
        Assert.That(lossF, Is.EqualTo(loss).Within(1e-5 * loss));
        Assert.That(gradF, Is.EqualTo(grad).Within(1e-7));
    }

    [Test]
    public void Float_pixel_rows_match_double_with_ignored_pixels_and_huge_logits()
    {
        // 20 pixels a sample: two runs of eight through the vector path and a scalar tail of four.
        var rng = new Rng(9);
        var logits = Enumerable.Range(0, 2 * 5 * 20).Select(_ => (double)(float)(4 * rng.NextNormal())).ToArray();
        logits[3] = 1000;
        logits[20 + 3] = -1000;
        var labels = Enumerable.Range(0, 2 * 20).Select(i => i % 7 == 2 ? 255 : rng.NextInt(5)).ToArray();
        var (loss, grad) = Run(logits, [5, 4, 5], labels, batch: 2, ignoreLabel: 255, dLoss: 1.5);
        var (lossF, gradF) = Run(logits, [5, 4, 5], labels, batch: 2, ignoreLabel: 255, dLoss: 1.5, useFloat: true);
        Assert.That(lossF, Is.EqualTo(loss).Within(1e-5 * loss));
        Assert.That(gradF, Is.EqualTo(grad).Within(1e-7));
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] == 255)
                for (int k = 0; k < 5; k++) Assert.That(gradF[(i / 20 * 5 + k) * 20 + i % 20], Is.EqualTo(0), $"ignored pixel {i}");
    }

    [Test]
    public void Label_outside_the_classes_is_reported_with_its_position()
    {
        var perSample = Assert.Throws<LabelOutOfRangeException>(() => Run([0, 1, 2, 3, 4, 5], [3], [1, 5], batch: 2));
        Assert.That(perSample!.Message, Does.Contain("label 5").And.Contain("sample 1").And.Contain("3 classes"));

        int[] labels = [0, 1, 1, 0, 1, 0, -2, 1];
        var perPixel = Assert.Throws<LabelOutOfRangeException>(() => Run(new double[16], [2, 2, 2], labels, batch: 2, ignoreLabel: 255));
        Assert.That(perPixel!.Message, Does.Contain("label -2").And.Contain("sample 1, pixel (y 1, x 0)").And.Contain("2 classes"));
    }

    [Test]
    public void Labels_must_match_the_logits()
    {
        var b = new GraphBuilder("net");
        var logits = b.Input("logits", new Shape(21, 8, 8));
        var labels = b.Input("labels", new Shape(8, 4), isInt: true);
        var ex = Assert.Throws<ShapeException>(() => b.SoftmaxCrossEntropy(logits, labels));
        Assert.That(ex!.Message, Does.Contain("8x8").And.Contain("8x4"));

        var floats = b.Input("floats", new Shape(8, 8));
        Assert.Throws<ShapeException>(() => b.SoftmaxCrossEntropy(logits, floats, name: "other"));
    }

    [Test]
    public void Loss_is_a_scalar_usable_as_the_graph_loss()
    {
        var b = new GraphBuilder("net");
        var loss = b.SoftmaxCrossEntropy(b.Input("logits", new Shape(10)), b.Input("labels", new Shape(), isInt: true));
        b.SetLoss(loss);
        var g = b.Build();
        using var backend = new CpuBackend<double>();
        using var exec = new Executor(g, backend, 4);
        Assert.That(exec.ShapeOf(loss), Is.EqualTo(new Shape(1)));
        exec.SetInput("logits", new double[40]);
        exec.SetInput("labels", [0, 3, 9, 7]);
        exec.Forward(training: true);
        Assert.That(exec.Read(loss)[0], Is.EqualTo(Math.Log(10)).Within(1e-14));
    }

    /// <summary>Loss and logit gradient of one softmax cross-entropy node.</summary>
    private static (double Loss, double[] Grad) Run(double[] logits, int[] sampleShape, int[] labels, int batch,
        int ignoreLabel = -1, double dLoss = 1, bool useFloat = false)
        => LossRun.Run(new SoftmaxCrossEntropy(ignoreLabel), logits, sampleShape, labels, batch, dLoss, useFloat);
}
