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

    /// <param name="meanLoss">The batch's loss (a mean over its counted elements).</param>
    public void Add(double meanLoss, int samples, ReadOnlySpan<float> logits, ReadOnlySpan<int> labels)
    {
        _lossSum += meanLoss * samples;
        _samples += samples;
        if (Task == TaskKind.Classification) AddClassification(samples, logits, labels);
        else AddSegmentation(samples, logits, labels);
    }

    private void AddClassification(int n, ReadOnlySpan<float> logits, ReadOnlySpan<int> labels)
    {
        if (logits.Length != n * Classes || labels.Length != n)
            throw new ArgumentException($"classification metrics: {n} samples need {n * Classes} logits and {n} labels, got {logits.Length} and {labels.Length}");
        for (int i = 0; i < n; i++)
        {
            int label = CheckLabel(labels[i]);
            int rank = TopK.RankOf(logits.Slice(i * Classes, Classes), label);
            if (rank >= 1) _top1Wrong++;
            if (rank >= 5) _top5Wrong++;
        }
    }

    private void AddSegmentation(int n, ReadOnlySpan<float> logits, ReadOnlySpan<int> masks)
    {
        if (n == 0) return;
        int plane = masks.Length / n;
        if (masks.Length != n * plane || logits.Length != (long)n * Classes * plane)
            throw new ArgumentException($"segmentation metrics: {n} samples of {plane} pixels need {n * Classes * plane} logits, got {logits.Length}");
        var scores = new float[Classes];
        for (int i = 0; i < n; i++)
        {
            var sample = logits.Slice(i * Classes * plane, Classes * plane);
            for (int p = 0; p < plane; p++)
            {
                int truth = masks[i * plane + p];
                if (truth == IgnoreLabel) continue;
                CheckLabel(truth);
                for (int k = 0; k < Classes; k++) scores[k] = sample[k * plane + p];
                Confusion.Add(truth, TopK.ArgMax(scores));
            }
        }
    }

    private int CheckLabel(int label) => label >= 0 && label < Classes ? label
        : throw new InvalidDataException($"label {label} is outside 0..{Classes - 1}{(IgnoreLabel >= 0 ? $" and is not the ignore label {IgnoreLabel}" : "")}");

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
