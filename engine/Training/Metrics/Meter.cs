using System.Text.Json.Nodes;
using Engine.Data;

namespace Engine.Training.Metrics;

/// <summary>What one pass over a data split measured. Fields that do not apply to the task are null.</summary>
public sealed record MetricSummary(double Loss, long Samples, double? Top1Error, double? Top5Error,
    double? PixelAccuracy, double? MeanIoU, double[]? ClassIoU)
{
    /// <summary>Classification: top-1 error; segmentation: 1 - pixel accuracy.</summary>
    public double Error => Top1Error ?? (1 - PixelAccuracy ?? double.NaN);
    /// <summary>Higher is better: what a plateau schedule watches.</summary>
    public double Score => 1 - Error;
}

/// <summary>
/// Accumulates loss and task metrics batch by batch: top-1 / top-5 error for classification
/// (logits [N, K], labels [N]); pixel accuracy, per-class IoU and mIoU for segmentation
/// (logits [N, K, H, W], masks [N, H, W], the ignore label left out).
/// </summary>
public sealed class Meter(TaskKind task, int classes, int ignoreLabel = -1)
{
    private double _lossSum;
    private long _samples, _top1Wrong, _top5Wrong;

    public TaskKind Task { get; } = task;
    public int Classes { get; } = classes;
    public int IgnoreLabel { get; } = ignoreLabel;
    public ConfusionMatrix Confusion { get; private set; } = new(classes);

    /// <summary>One batch scored from host logits (<see cref="BatchScorer"/> scores them where they live).</summary>
    /// <param name="meanLoss">The batch's loss (a mean over its counted elements).</param>
    public void Add(double meanLoss, int samples, ReadOnlySpan<float> logits, ReadOnlySpan<int> labels)
    {
        CheckBatch(samples, logits.Length, labels);
        if (Task == TaskKind.Classification)
        {
            long top1 = 0, top5 = 0;
            for (int i = 0; i < samples; i++)
            {
                int rank = TopK.RankOf(logits.Slice(i * Classes, Classes), labels[i]);
                if (rank >= 1) top1++;
                if (rank >= 5) top5++;
            }
            AddClassification(meanLoss, samples, top1, top5);
        }
        else
        {
            AddLoss(meanLoss, samples);
            if (samples == 0) return;
            int plane = labels.Length / samples;
            var scores = new float[Classes];
            for (int i = 0; i < samples; i++)
            {
                var sample = logits.Slice(i * Classes * plane, Classes * plane);
                for (int p = 0; p < plane; p++)
                {
                    int truth = labels[i * plane + p];
                    if (truth == IgnoreLabel) continue;
                    for (int k = 0; k < Classes; k++) scores[k] = sample[k * plane + p];
                    Confusion.Add(truth, TopK.ArgMax(scores));
                }
            }
        }
    }

    /// <summary>One classification batch from its counts of samples whose label is not the best (top-1) or not among the best five.</summary>
    public void AddClassification(double meanLoss, int samples, long top1Wrong, long top5Wrong)
    {
        AddLoss(meanLoss, samples);
        _top1Wrong += top1Wrong;
        _top5Wrong += top5Wrong;
    }

    /// <summary>One segmentation batch from its confusion counts (row-major [truth, prediction]).</summary>
    public void AddSegmentation(double meanLoss, int samples, ReadOnlySpan<int> confusion)
    {
        AddLoss(meanLoss, samples);
        for (int i = 0; i < confusion.Length; i++) Confusion.Counts[i] += confusion[i];
    }

    private void AddLoss(double meanLoss, int samples)
    {
        _lossSum += meanLoss * samples;
        _samples += samples;
    }

    /// <summary>
    /// Checks that <paramref name="logits"/> elements and the labels fit <paramref name="samples"/>
    /// (classification: [N, K] and [N]; segmentation: [N, K, H, W] and [N, H, W]) and that every
    /// label is a class or the ignore label.
    /// </summary>
    public void CheckBatch(int samples, long logits, ReadOnlySpan<int> labels)
    {
        if (Task == TaskKind.Classification)
        {
            if (logits != (long)samples * Classes || labels.Length != samples)
                throw new ArgumentException($"classification metrics: {samples} samples need {samples * Classes} logits and {samples} labels, got {logits} and {labels.Length}");
        }
        else if (samples > 0)
        {
            int plane = labels.Length / samples;
            if (labels.Length != samples * plane || logits != (long)samples * Classes * plane)
                throw new ArgumentException($"segmentation metrics: {samples} samples of {plane} pixels need {samples * Classes * plane} logits, got {logits}");
        }
        foreach (int label in labels)
            if ((label < 0 || label >= Classes) && !(Task == TaskKind.Segmentation && label == IgnoreLabel))
                throw new InvalidDataException($"label {label} is outside 0..{Classes - 1}{(IgnoreLabel >= 0 ? $" and is not the ignore label {IgnoreLabel}" : "")}");
    }

    public MetricSummary Summary()
    {
        double loss = _samples == 0 ? double.NaN : _lossSum / _samples;
        if (Task == TaskKind.Classification)
        {
            double top1 = _samples == 0 ? double.NaN : (double)_top1Wrong / _samples;
            double top5 = _samples == 0 ? double.NaN : (double)_top5Wrong / _samples;
            return new MetricSummary(loss, _samples, top1, top5, null, null, null);
        }
        var iou = Enumerable.Range(0, Classes).Select(Confusion.IoU).ToArray();
        return new MetricSummary(loss, _samples, null, null, Confusion.PixelAccuracy, Confusion.MeanIoU, iou);
    }

    /// <summary>The running sums as one vector (loss sum, samples, top-1 and top-5 wrong, confusion counts), for summing over data-parallel ranks.</summary>
    public double[] Totals() => [_lossSum, _samples, _top1Wrong, _top5Wrong, .. Confusion.Counts.Select(c => (double)c)];

    /// <summary>A meter holding <paramref name="totals"/> (a <see cref="Totals"/> vector, e.g. summed over ranks).</summary>
    public Meter WithTotals(ReadOnlySpan<double> totals)
    {
        var m = new Meter(Task, Classes, IgnoreLabel) { _lossSum = totals[0], _samples = (long)totals[1], _top1Wrong = (long)totals[2], _top5Wrong = (long)totals[3] };
        for (int i = 0; i < m.Confusion.Counts.Length; i++) m.Confusion.Counts[i] = (long)totals[4 + i];
        return m;
    }

    /// <summary>The running sums, for a checkpoint taken in the middle of an epoch.</summary>
    public JsonObject Save() => new()
    {
        ["lossSum"] = _lossSum, ["samples"] = _samples, ["top1Wrong"] = _top1Wrong, ["top5Wrong"] = _top5Wrong,
        ["confusion"] = Task == TaskKind.Segmentation ? new JsonArray(Confusion.Counts.Select(c => (JsonNode?)c).ToArray()) : null,
    };

    public void Restore(JsonObject s)
    {
        _lossSum = (double)s["lossSum"]!;
        _samples = (long)s["samples"]!;
        _top1Wrong = (long)s["top1Wrong"]!;
        _top5Wrong = (long)s["top5Wrong"]!;
        Confusion = new ConfusionMatrix(Classes);
        if (s["confusion"] is JsonArray a)
            for (int i = 0; i < a.Count; i++) Confusion.Counts[i] = (long)a[i]!;
    }
}
