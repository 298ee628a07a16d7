namespace Engine.Training.LrFind;

/// <summary>
/// The learning rates a range test suggests. <see cref="Steepest"/>: the lr where the smoothed
/// loss falls fastest against log(lr) (fastai's "steep"), looked for only before the minimum so
/// that it lies where the loss is still falling, and after the first <see cref="SkipStart"/>
/// points, whose smoothed values are little more than single noisy losses. <see cref="MinimumTenth"/>:
/// a tenth of the lr at the smallest smoothed loss (fastai's "minimum / 10"), a more cautious hint.
/// </summary>
public sealed record LrSuggestion(int SteepestIndex, double Steepest, int MinimumIndex, double AtMinimum)
{
    /// <summary>Points at the start left out of the steepest-descent search (fewer on short curves).</summary>
    public const int SkipStart = 10;
    /// <summary>The smoothed loss must fall by at least this fraction of its earlier high for there to be a suggestion.</summary>
    public const double MinimumFall = 0.01;

    public double MinimumTenth => AtMinimum / 10;

    /// <summary>The suggestion, or null when the smoothed loss never really fell (by <see cref="MinimumFall"/>) before its minimum.</summary>
    public static LrSuggestion? From(IReadOnlyList<LrRangePoint> points)
    {
        if (points.Count < 3) return null;
        int min = 0, high = 0;
        for (int i = 1; i < points.Count; i++) if (points[i].Smoothed < points[min].Smoothed) min = i;
        for (int i = 1; i < min; i++) if (points[i].Smoothed > points[high].Smoothed) high = i;
        if (min < 1 || points[min].Smoothed > (1 - MinimumFall) * points[high].Smoothed) return null;
        int skip = Math.Min(SkipStart, points.Count / 10);
        if (skip >= min) skip = 0;
        // Central differences of the smoothed loss against log(lr) (one-sided at the first point), up to the minimum.
        int best = -1;
        double steepest = 0;
        for (int i = skip; i < min; i++)
        {
            int a = Math.Max(0, i - 1), b = i + 1;
            double slope = (points[b].Smoothed - points[a].Smoothed) / (Math.Log(points[b].LearningRate) - Math.Log(points[a].LearningRate));
            if (slope < steepest) (best, steepest) = (i, slope);
        }
        return best < 0 ? null : new LrSuggestion(best, points[best].LearningRate, min, points[min].LearningRate);
    }
}
