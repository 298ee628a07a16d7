using Engine.Data;
using Engine.Graph;
using Engine.Tensors;
using Engine.Training.Metrics;

namespace Engine.Tests.Training;

public class MetricTests
{
    [Test]
    public void Top1_and_top5_errors_count_by_rank()
    {
        var m = new Meter(TaskKind.Classification, classes: 7);
        float[] logits =
        [
            9, 1, 2, 3, 4, 5, 6,   // label 0: rank 0
            9, 8, 7, 6, 5, 4, 3,   // label 4: rank 4 (top-5 right, top-1 wrong)
            9, 8, 7, 6, 5, 4, 3,   // label 5: rank 5 (both wrong)
            1, 1, 1, 1, 1, 1, 1,   // label 0 among ties: rank 0 (ties go to the lower index)
        ];
        m.Add(2.0, 2, logits.AsSpan(0, 14), [0, 4]);
        m.Add(1.0, 2, logits.AsSpan(14), [5, 0]);
        var s = m.Summary();
        Assert.That(s.Top1Error, Is.EqualTo(0.5));
        Assert.That(s.Top5Error, Is.EqualTo(0.25));
        Assert.That(s.Loss, Is.EqualTo(1.5));
        Assert.That(s.Samples, Is.EqualTo(4));
        Assert.That(s.PixelAccuracy, Is.Null);
    }

    [Test]
    public void Pixel_accuracy_and_iou_leave_out_the_ignore_label()
    {
        // 2 classes, one sample of 2x3 pixels; logits [1, 2, 2, 3]: class 1 wins where the second plane is larger.
        float[] logits = [1, 1, 0, 0, 0, 1, /* class 1 */ 0, 0, 1, 1, 1, 0];
        int[] truth = [0, 1, 1, 255, 1, 0];
        // predictions: 0, 0, 1, 1, 1, 0 -> pixel 3 ignored; counted: (0,0) (1,0) (1,1) (1,1) (0,0)
        var m = new Meter(TaskKind.Segmentation, classes: 2, ignoreLabel: 255);
        m.Add(0.7, 1, logits, truth);
        var s = m.Summary();
        Assert.That(m.Confusion.Total, Is.EqualTo(5));
        Assert.That(s.PixelAccuracy, Is.EqualTo(4.0 / 5));
        // class 0: TP 2, FP 1 (truth 1 predicted 0), FN 0 -> 2/3; class 1: TP 2, FP 0, FN 1 -> 2/3
        Assert.That(s.ClassIoU, Is.EqualTo(new[] { 2.0 / 3, 2.0 / 3 }).Within(1e-15));
        Assert.That(s.MeanIoU, Is.EqualTo(2.0 / 3).Within(1e-15));
        Assert.That(s.Error, Is.EqualTo(0.2).Within(1e-15));
    }

    [Test]
    public void Mean_iou_skips_classes_absent_from_truth_and_prediction()
    {
        var c = new ConfusionMatrix(3);
        c.Add(0, 0); c.Add(0, 0); c.Add(1, 0); c.Add(1, 1);
        Assert.That(c.IoU(2), Is.NaN);
        Assert.That(c.IoU(0), Is.EqualTo(2.0 / 3));
        Assert.That(c.IoU(1), Is.EqualTo(0.5));
        Assert.That(c.MeanIoU, Is.EqualTo((2.0 / 3 + 0.5) / 2).Within(1e-15));
    }

    [Test]
    public void A_label_outside_the_classes_is_an_error_naming_it()
    {
        var m = new Meter(TaskKind.Segmentation, classes: 2, ignoreLabel: 255);
        var ex = Assert.Throws<InvalidDataException>(() => m.Add(0, 1, new float[4], [0, 7]));
        Assert.That(ex!.Message, Does.Contain("label 7").And.Contain("255"));
    }

    [Test]
    public void Running_sums_survive_save_and_restore()
    {
        var m = new Meter(TaskKind.Segmentation, classes: 2);
        m.Add(0.5, 1, [1, 0, 0, 1], [0, 0]);
        var restored = new Meter(TaskKind.Segmentation, classes: 2);
        restored.Restore(m.Save());
        Assert.That(restored.Summary(), Is.EqualTo(m.Summary()).Using<MetricSummary>((a, b) =>
            a.Loss == b.Loss && a.PixelAccuracy == b.PixelAccuracy && a.Samples == b.Samples));
        Assert.That(restored.Confusion.Counts, Is.EqualTo(m.Confusion.Counts));
    }

    [Test]
    public void Scoring_on_a_cpu_backend_matches_the_host_meter()
    {
        float[] logits = [1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 1, 0];
        int[] truth = [0, 1, 1, 255, 1, 0];
        var expected = new Meter(TaskKind.Segmentation, classes: 2, ignoreLabel: 255);
        expected.Add(0.7, 1, logits, truth);
        foreach (Backend backend in new Backend[] { new CpuBackend<float>(), new CpuBackend<double>() })
        {
            using var _ = backend;
            var l = BufferSlice.Whole(backend.AllocateFloats(logits.Length));
            var y = BufferSlice.Whole(backend.Allocate(truth.Length, DataType.I32));
            backend.Upload(l, logits);
            backend.Upload(y, truth);
            var m = new Meter(TaskKind.Segmentation, classes: 2, ignoreLabel: 255);
            using var scorer = new BatchScorer(backend);
            scorer.Add(m, 0.7, new Batch(new float[1], truth, 1, new int[1]), l, y);
            Assert.That(m.Confusion.Counts, Is.EqualTo(expected.Confusion.Counts), backend.Name);
            Assert.That(m.Summary().Loss, Is.EqualTo(0.7));
        }
    }
}
