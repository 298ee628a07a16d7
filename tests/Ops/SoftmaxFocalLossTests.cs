using Engine.Ops;
using Engine.Tensors;
using Engine.Tests.Support;

namespace Engine.Tests.Ops;

public class SoftmaxFocalLossTests
{
    [Test]
    public void Hand_built_example_weighs_each_row_by_one_minus_p_to_the_gamma()
    {
        double[] logits = [1, 2, 3, 0.5, -1, 2];
        int[] labels = [2, 0];
        var (loss, _) = LossRun.Run(new SoftmaxFocalLoss(gamma: 2), logits, [3], labels, batch: 2);
        double p0 = LossRun.Softmax([1, 2, 3])[2], p1 = LossRun.Softmax([0.5, -1, 2])[0];
        double expected = (-(1 - p0) * (1 - p0) * Math.Log(p0) - (1 - p1) * (1 - p1) * Math.Log(p1)) / 2;
        Assert.That(loss, Is.EqualTo(expected).Within(1e-14));
    }

    [Test]
    public void Gamma_zero_is_softmax_cross_entropy_forward_and_backward()
    {
        var rng = new Rng(5);
        var logits = Enumerable.Range(0, 2 * 4 * 3 * 2).Select(_ => 3 * rng.NextNormal()).ToArray();
        int[] labels = [0, 3, 255, 1, 2, 2, 255, 1, 0, 3, 3, 255];
        var focal = LossRun.Run(new SoftmaxFocalLoss(gamma: 0, ignoreLabel: 255), logits, [4, 3, 2], labels, 2, dLoss: 1.5);
        var ce = LossRun.Run(new SoftmaxCrossEntropy(ignoreLabel: 255), logits, [4, 3, 2], labels, 2, dLoss: 1.5);
        Assert.That(focal.Loss, Is.EqualTo(ce.Loss).Within(1e-14));
        Assert.That(focal.Grad, Is.EqualTo(ce.Grad).Within(1e-14));
    }

    [Test]
    public void Confident_right_answers_count_far_less_than_in_cross_entropy()
    {
        // p = 0.9 for the label: cross-entropy 0.105, focal 0.01 * 0.105.
        double z = Math.Log(9 * 2);
        var (loss, _) = LossRun.Run(new SoftmaxFocalLoss(2), [z, 0, 0], [3], [0], batch: 1);
        Assert.That(loss, Is.EqualTo(0.01 * -Math.Log(0.9)).Within(1e-14));
    }

    [TestCase(2.0, 3, new[] { 5 }, new[] { 4, 0, 2 })]
    [TestCase(2.0, 3, new[] { 3, 3, 5 }, null)]
    [TestCase(0.5, 2, new[] { 4, 2, 3 }, null)]
    [TestCase(1.0, 2, new[] { 3, 2, 2 }, null)]
    [TestCase(3.0, 1, new[] { 4, 1, 1 }, new[] { 2 })]
    public void Gradient_matches_central_differences(double gamma, int batch, int[] logitShape, int[]? labels)
    {
        var report = LossRun.Check(new SoftmaxFocalLoss(gamma, ignoreLabel: 255), batch, logitShape, labels, 255);
        Assert.That(report.Failures, Is.Empty, report.ToString());
        Assert.That(report.Checked, Is.EqualTo(batch * new Shape(logitShape).Numel));
    }

    [Test]
    public void Every_label_ignored_gives_zero_loss_and_zero_gradient()
    {
        var (loss, grad) = LossRun.Run(new SoftmaxFocalLoss(2, 255), [0.5, -2, 3, 1, 1, 7, 0, 0], [2, 2, 1], [255, 255, 255, 255], batch: 2);
        Assert.That(loss, Is.Zero);
        Assert.That(grad, Is.All.Zero);
    }

    [Test]
    public void Certain_and_huge_logits_stay_finite()
    {
        // Row 0 is certain of its label (p = 1): loss and gradient 0 even for gamma < 1.
        var (loss, grad) = LossRun.Run(new SoftmaxFocalLoss(0.5), [1000, 0, -1000, 1000, 0, -1000], [3], [0, 1], batch: 2);
        Assert.That(loss, Is.EqualTo(1000 / 2.0).Within(1e-9));
        Assert.That(grad.All(double.IsFinite), Is.True);
        Assert.That(grad.Take(3), Is.All.Zero);
    }

    [Test]
    public void Float_reference_matches_double()
    {
        var rng = new Rng(8);
        var logits = Enumerable.Range(0, 2 * 4 * 3 * 3).Select(_ => (double)(float)(5 * rng.NextNormal())).ToArray();
        var labels = Enumerable.Range(0, 2 * 9).Select(_ => rng.NextInt(4)).ToArray();
        var (loss, grad) = LossRun.Run(new SoftmaxFocalLoss(2), logits, [4, 3, 3], labels, batch: 2);
        var (lossF, gradF) = LossRun.Run(new SoftmaxFocalLoss(2), logits, [4, 3, 3], labels, batch: 2, useFloat: true);
        Assert.That(lossF, Is.EqualTo(loss).Within(1e-5 * loss));
        Assert.That(gradF, Is.EqualTo(grad).Within(1e-7));
    }

    [Test]
    public void Label_outside_the_classes_is_reported_and_a_bad_gamma_refused()
    {
        var ex = Assert.Throws<LabelOutOfRangeException>(() => LossRun.Run(new SoftmaxFocalLoss(2), [0, 1, 2, 3, 4, 5], [3], [1, 5], batch: 2));
        Assert.That(ex!.Message, Does.Contain("label 5").And.Contain("sample 1"));
        var gamma = Assert.Throws<ArgumentOutOfRangeException>(() => new SoftmaxFocalLoss(-1));
        Assert.That(gamma!.ParamName, Is.EqualTo("gamma"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SoftmaxFocalLoss(double.NaN));
    }
}
