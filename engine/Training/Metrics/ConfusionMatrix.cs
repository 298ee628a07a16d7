namespace Engine.Training.Metrics;

/// <summary>
/// Counts of (true class, predicted class) over pixels, for pixel accuracy and intersection
/// over union. Pixels whose truth is the ignore label are left out of everything.
/// </summary>
public sealed class ConfusionMatrix(int classes)
{
    public int Classes { get; } = classes;
    /// <summary>Row-major [truth, prediction].</summary>
    public long[] Counts { get; } = new long[classes * classes];

    public long this[int truth, int predicted] => Counts[truth * Classes + predicted];

    public void Add(int truth, int predicted) => Counts[truth * Classes + predicted]++;

    public long Total => Counts.Sum();
    public long Correct { get { long s = 0; for (int c = 0; c < Classes; c++) s += this[c, c]; return s; } }

    /// <summary>Correct pixels over counted pixels; NaN when nothing was counted.</summary>
    public double PixelAccuracy => Total == 0 ? double.NaN : (double)Correct / Total;

    /// <summary>IoU of class c = TP / (TP + FP + FN); NaN when the class is neither in the truth nor predicted.</summary>
    public double IoU(int c)
    {
        long tp = this[c, c], truth = 0, predicted = 0;
        for (int k = 0; k < Classes; k++) { truth += this[c, k]; predicted += this[k, c]; }
        long union = truth + predicted - tp;
        return union == 0 ? double.NaN : (double)tp / union;
    }

    /// <summary>Mean IoU over the classes that occur in the truth or the prediction.</summary>
    public double MeanIoU
    {
        get
        {
            var present = Enumerable.Range(0, Classes).Select(IoU).Where(v => !double.IsNaN(v)).ToList();
            return present.Count == 0 ? double.NaN : present.Average();
        }
    }

    public void Merge(ConfusionMatrix other)
    {
        for (int i = 0; i < Counts.Length; i++) Counts[i] += other.Counts[i];
    }
}
