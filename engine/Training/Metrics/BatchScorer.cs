using Engine.Data;
using Engine.Graph;
using Engine.Tensors;
using Buffer = Engine.Graph.Buffer;

namespace Engine.Training.Metrics;

/// <summary>
/// Scores one batch's logits where they live and adds the result to a <see cref="Meter"/>. On a
/// backend with <see cref="IMetricKernels"/> (CUDA) only counts come back: a rank per sample
/// (classification) or the classes x classes confusion counts (segmentation). A CPU backend's
/// float logits are scored in place; other backends' are downloaded.
/// </summary>
public sealed class BatchScorer(Backend backend) : IDisposable
{
    private Buffer? _counts;
    private int[] _host = [];

    /// <param name="labels">The batch's labels on the device (the executor's "label" input).</param>
    /// <param name="logitsDesc">How the logits are stored (<see cref="Executor.DescOf"/>); NHWC logits are put in NCHW order on the host first.</param>
    public void Add(Meter meter, double meanLoss, Batch batch, BufferSlice logits, BufferSlice labels, TensorDesc? logitsDesc = null)
    {
        var hostLabels = batch.Labels.Span;
        meter.CheckBatch(batch.Count, logits.Count, hostLabels);
        if (logitsDesc is { Layout: Layout.Nhwc } desc)
        {
            var stored = new float[logits.Count];
            backend.Download(logits, stored);
            meter.Add(meanLoss, batch.Count, LayoutTranspose.Convert(stored, desc.Shape, Layout.Nhwc, Layout.Nchw), hostLabels);
        }
        else if (Queue(meter, batch.Count, logits, labels))
            Collect(meter, meanLoss, batch);
        else if (backend is CpuBackend<float> && logits.Type == DataType.F32)
            meter.Add(meanLoss, batch.Count, CpuBackend<float>.F(logits), hostLabels);
        else
        {
            var host = new float[logits.Count];
            backend.Download(logits, host);
            meter.Add(meanLoss, batch.Count, host, hostLabels);
        }
    }

    /// <summary>
    /// The device half of scoring, where the backend has metric kernels (false: it has none, use
    /// <see cref="Add"/>): queues the rank or confusion kernels into a fixed scratch buffer and
    /// reads nothing back, so a captured training step can include it. <see cref="Collect"/> finishes.
    /// </summary>
    public bool Queue(Meter meter, int samples, BufferSlice logits, BufferSlice labels)
    {
        if (backend is not IMetricKernels kernels || logits.Type != DataType.F32) return false;
        int k = meter.Classes;
        if (meter.Task == TaskKind.Classification)
            kernels.ClassRanks(Counts(samples), logits, labels, samples, k);
        else
        {
            var confusion = Counts(k * k);
            backend.Zero(confusion);
            kernels.Confusion(confusion, logits, labels, samples, k, (int)(labels.Count / Math.Max(1, samples)), meter.IgnoreLabel);
        }
        return true;
    }

    /// <summary>After the step: downloads what <see cref="Queue"/>'s kernels counted (a rank per sample, or the confusion counts) into <paramref name="meter"/>.</summary>
    public void Collect(Meter meter, double meanLoss, Batch batch)
    {
        int samples = batch.Count, k = meter.Classes;
        if (meter.Task == TaskKind.Classification)
        {
            backend.Download(new BufferSlice(_counts!, 0, samples), _host.AsSpan(0, samples));
            long top1 = 0, top5 = 0;
            foreach (int rank in _host.AsSpan(0, samples))
            {
                if (rank >= 1) top1++;
                if (rank >= 5) top5++;
            }
            meter.AddClassification(meanLoss, samples, top1, top5);
        }
        else
        {
            backend.Download(new BufferSlice(_counts!, 0, k * k), _host.AsSpan(0, k * k));
            meter.AddSegmentation(meanLoss, samples, _host.AsSpan(0, k * k));
        }
    }

    /// <summary>The first <paramref name="count"/> ints of a device scratch buffer (and a host one as large).</summary>
    private BufferSlice Counts(int count)
    {
        if (_counts is null || _counts.Count < count)
        {
            _counts?.Dispose();
            _counts = backend.Allocate(count, DataType.I32);
            _host = new int[count];
        }
        return new BufferSlice(_counts, 0, count);
    }

    public void Dispose()
    {
        _counts?.Dispose();
        _counts = null;
    }
}
