using Engine.Cuda;
using Engine.Data;
using Engine.Graph;
using Engine.Tensors;
using Engine.Training.Metrics;

namespace Engine.Tests.Cuda;

/// <summary>Metrics scored on the device (class_rank_f32, confusion_f32) against the host Meter on the same logits.</summary>
[Category("Gpu")]
public class MetricGpuTests
{
    [Test]
    public void Top1_and_top5_counts_match_the_host()
    {
        const int n = 37, k = 12;
        var rng = new Random(3);
        // Small integers: many ties, which go to the lower class on both sides; one NaN label score ranks last.
        var logits = Enumerable.Range(0, n * k).Select(_ => (float)rng.Next(-3, 4)).ToArray();
        var labels = Enumerable.Range(0, n).Select(_ => rng.Next(k)).ToArray();
        logits[5 * k + labels[5]] = float.NaN;
        Compare(TaskKind.Classification, k, -1, n, logits, labels);
    }

    [Test]
    public void Confusion_counts_match_the_host_and_leave_out_the_ignore_label()
    {
        const int n = 3, k = 5, plane = 6 * 7;
        var rng = new Random(4);
        var logits = Enumerable.Range(0, n * k * plane).Select(_ => (float)rng.Next(-2, 3)).ToArray();
        var labels = Enumerable.Range(0, n * plane).Select(i => i % 7 == 0 ? 255 : rng.Next(k)).ToArray();
        logits[17] = float.NaN;
        Compare(TaskKind.Segmentation, k, 255, n, logits, labels);
    }

    private static void Compare(TaskKind task, int classes, int ignore, int n, float[] logits, int[] labels)
    {
        GpuAvailability.Require();
        using var gpu = CudaBackend.Create(0);
        if (!gpu.Kernels.Contains("class_rank_f32")) Assert.Ignore("no PTX embedded (nvcc absent at build time)");
        var batch = new Batch(new float[n], labels, n, new int[n]);
        using var l = gpu.Allocate(logits.Length, DataType.F32);
        using var y = gpu.Allocate(labels.Length, DataType.I32);
        gpu.Upload(BufferSlice.Whole(l), logits);
        gpu.Upload(BufferSlice.Whole(y), labels);

        var host = new Meter(task, classes, ignore);
        var device = new Meter(task, classes, ignore);
        using var scorer = new BatchScorer(gpu);
        for (int step = 0; step < 2; step++)  // twice: the scratch counts start from zero each batch
        {
            host.Add(0.5, n, logits, labels);
            scorer.Add(device, 0.5, batch, BufferSlice.Whole(l), BufferSlice.Whole(y));
        }
        Assert.That(device.Summary().Top1Error, Is.EqualTo(host.Summary().Top1Error));
        Assert.That(device.Summary().Top5Error, Is.EqualTo(host.Summary().Top5Error));
        Assert.That(device.Confusion.Counts, Is.EqualTo(host.Confusion.Counts));
        Assert.That(gpu.HostFallbacks, Is.Empty);
    }
}
