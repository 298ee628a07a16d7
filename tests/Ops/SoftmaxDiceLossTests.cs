using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

public class SoftmaxDiceLossTests
{
    /// <summary>The loss of the op's summary, written out plainly: class sums over every counted position of the batch.</summary>
    private static double Reference(double[] logits, int[] labels, int batch, int classes, int plane, int ignore, double smooth)
    {
        var intersection = new double[classes];
        var union = new double[classes];
        for (int s = 0; s < batch; s++)
            for (int p = 0; p < plane; p++)
            {
                int label = labels[s * plane + p];
                if (label == ignore) continue;
                var probs = LossRun.Softmax([.. Enumerable.Range(0, classes).Select(k => logits[(s * classes + k) * plane + p])]);
                for (int k = 0; k < classes; k++) union[k] += probs[k] + (k == label ? 1 : 0);
                intersection[label] += probs[label];
            }
        return 1 - Enumerable.Range(0, classes).Average(k => (2 * intersection[k] + smooth) / (union[k] + smooth));
    }

    [Test]
    public void Loss_is_one_minus_the_mean_dice_over_the_batch_and_classes()
    {
        const int batch = 2, classes = 3, plane = 6;
        var rng = new Rng(4);
        var logits = Enumerable.Range(0, batch * classes * plane).Select(_ => 2 * rng.NextNormal()).ToArray();
        int[] labels = [0, 2, 255, 1, 1, 0, 255, 255, 2, 0, 1, 0];
        var (loss, grad) = LossRun.Run(new SoftmaxDiceLoss(1, 255), logits, [classes, 2, 3], labels, batch);
        Assert.That(loss, Is.EqualTo(Reference(logits, labels, batch, classes, plane, 255, 1)).Within(1e-14));
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] == 255)
                for (int k = 0; k < classes; k++)
                    Assert.That(grad[(i / plane * classes + k) * plane + i % plane], Is.Zero, $"ignored position {i}");
    }

    [Test]
    public void Perfect_confident_prediction_scores_zero_and_a_predicted_absent_class_is_penalised()
    {
        // Two pixels, labels 0 and 1 of 3 classes; class 2 absent.
        int[] labels = [0, 1];
        double[] perfect = [50, -50, -50, 50, -50, -50];
        var (loss, _) = LossRun.Run(new SoftmaxDiceLoss(1), perfect, [3, 1, 2], labels, batch: 1);
        Assert.That(loss, Is.EqualTo(0).Within(1e-12));

        double[] absentPredicted = [50, -50, -50, -50, -50, 50]; // pixel 1 says class 2
        (loss, _) = LossRun.Run(new SoftmaxDiceLoss(1), absentPredicted, [3, 1, 2], labels, batch: 1);
        // D_0 = (2 + 1) / (2 + 1) = 1, D_1 = 1 / (1 + 1), D_2 = 1 / (1 + 1).
        Assert.That(loss, Is.EqualTo(1 - (1 + 0.5 + 0.5) / 3).Within(1e-12));
    }

    [TestCase(3, new[] { 5 }, new[] { 4, 0, 2 })]
    [TestCase(2, new[] { 3, 3, 5 }, null)]
    [TestCase(2, new[] { 4, 2, 3 }, null)]
    [TestCase(1, new[] { 4, 1, 1 }, new[] { 2 })]
    public void Gradient_matches_central_differences(int batch, int[] logitShape, int[]? labels)
    {
        var report = LossRun.Check(new SoftmaxDiceLoss(1, ignoreLabel: 255), batch, logitShape, labels, 255);
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(batch * new Shape(logitShape).Numel));
    }

    [Test]
    public void Gradient_with_a_small_smoothing_term_matches_central_differences()
    {
        var report = LossRun.Check(new SoftmaxDiceLoss(0.01, ignoreLabel: 255), 2, [3, 2, 2], null, 255);
        Assert.That(report.Failures, Is.Empty, report.ToString());
    }

    [Test]
    public void Every_label_ignored_gives_zero_loss_and_zero_gradient()
    {
        var (loss, grad) = LossRun.Run(new SoftmaxDiceLoss(1, 255), [0.5, -2, 3, 1, 1, 7, 0, 0], [2, 2, 1], [255, 255, 255, 255], batch: 2);
        Assert.That(loss, Is.Zero);
        Assert.That(grad, Is.All.Zero);
    }

    [Test]
    public void Float_reference_matches_double()
    {
        var rng = new Rng(8);
        var logits = Enumerable.Range(0, 2 * 4 * 3 * 3).Select(_ => (double)(float)(5 * rng.NextNormal())).ToArray();
        var labels = Enumerable.Range(0, 2 * 9).Select(_ => rng.NextInt(4)).ToArray();
        var (loss, grad) = LossRun.Run(new SoftmaxDiceLoss(), logits, [4, 3, 3], labels, batch: 2);
        var (lossF, gradF) = LossRun.Run(new SoftmaxDiceLoss(), logits, [4, 3, 3], labels, batch: 2, useFloat: true);
        Assert.That(lossF, Is.EqualTo(loss).Within(1e-6));
        Assert.That(gradF, Is.EqualTo(grad).Within(1e-7));
    }

    [Test]
    public void Label_outside_the_classes_is_reported_and_a_bad_smoothing_term_refused()
    {
        var ex = Assert.Throws<LabelOutOfRangeException>(() => LossRun.Run(new SoftmaxDiceLoss(), new double[8], [2, 2, 1], [0, 1, 2, 0], batch: 2));
        Assert.That(ex!.Message, Does.Contain("label 2").And.Contain("sample 1"));
        var smooth = Assert.Throws<ArgumentOutOfRangeException>(() => new SoftmaxDiceLoss(0));
        Assert.That(smooth!.ParamName, Is.EqualTo("smooth"));
    }
}
