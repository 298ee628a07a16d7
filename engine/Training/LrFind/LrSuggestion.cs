namespace Engine.Training.LrFind;

/// <summary>
/// The learning rates a range test suggests, from the loss over windows of <see cref="Window"/>
/// consecutive steps (<see cref="LossWindows"/>). <see cref="Steepest"/>: the middle lr of the window
/// whose loss falls fastest against log(lr) (fastai's "steep", made robust for short, noisy runs),
/// looked for only up to the window of the lowest mean, so that it lies where the loss is still
/// falling, and after the first tenth of the windows (at most <see cref="SkipStart"/>), where the lr
/// is too small to change anything and a slope is batch noise. <see cref="MinimumTenth"/>: a tenth of
/// the middle lr of the lowest window (fastai's "minimum / 10"), a more cautious hint; <see cref="StillFalling"/>:
/// the lowest window is the last one.
/// </summary>
public sealed record LrSuggestion(int SteepestIndex, double Steepest, int MinimumIndex, double AtMinimum, int Window, bool StillFalling)
{
    /// <summary>Windows at the start left out of the steepest-descent search (fewer on short curves).</summary>
    public const int SkipStart = 10;
    /// <summary>The lowest window mean must lie at least this fraction below an earlier one for there to be a suggestion.</summary>
    public const double MinimumFall = 0.01;

    public double MinimumTenth => AtMinimum / 10;

    /// <summary>The suggestion, or null when the windowed loss never really fell (by <see cref="MinimumFall"/>) before its lowest.</summary>
    public static LrSuggestion? From(IReadOnlyList<LrRangePoint> points)
    {
        if (points.Count < 3) return null;
        int window = LossWindows.Size(points.Count);
        var (means, slopes) = LossWindows.Of(points, window);
        int bottom = 0, high = 0;
        for (int i = 1; i < means.Length; i++) if (means[i] < means[bottom]) bottom = i;
        for (int i = 1; i < bottom; i++) if (means[i] > means[high]) high = i;
        if (bottom < 1 || means[bottom] > (1 - MinimumFall) * means[high]) return null;
        int skip = Math.Min(SkipStart, means.Length / 10);
        if (skip >= bottom) skip = 0;
        int best = -1;
        for (int i = skip; i <= bottom; i++)
            if (slopes[i] < 0 && (best < 0 || slopes[i] < slopes[best])) best = i;
        if (best < 0) return null;
        int steepest = best + window / 2, minimum = bottom + window / 2;
        return new LrSuggestion(steepest, points[steepest].LearningRate, minimum, points[minimum].LearningRate, window, StillFalling: bottom == means.Length - 1);
    }
}
