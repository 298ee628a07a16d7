namespace Engine.Training.LrFind;

/// <summary>
/// The range test's raw losses over a sliding window of consecutive steps: each window's mean and
/// the least-squares slope of its losses against ln(lr). Centred on its steps, a window has none of
/// the exponential average's lag (beta 0.98 lags about 50 steps, half of a 100-step test, so its
/// minimum comes after the loss has turned), and its slope is not swung by one noisy batch the way
/// a difference of two neighbouring points is.
/// </summary>
public static class LossWindows
{
    /// <summary>Steps in a window: a sixth of the points, at least 5 (all of them when there are fewer).</summary>
    public static int Size(int points) => Math.Min(points, Math.Max(5, points / 6));

    /// <summary>Window i covers points i .. i + size - 1 (its middle point is i + size / 2); there are points - size + 1 of them.</summary>
    public static (double[] Means, double[] Slopes) Of(IReadOnlyList<LrRangePoint> points, int size)
    {
        if (size < 2 || size > points.Count) throw new ArgumentOutOfRangeException(nameof(size), size, $"a window needs 2..{points.Count} points");
        int count = points.Count - size + 1;
        var (means, slopes) = (new double[count], new double[count]);
        for (int i = 0; i < count; i++)
        {
            double mx = 0, my = 0;
            for (int j = i; j < i + size; j++) (mx, my) = (mx + Math.Log(points[j].LearningRate), my + points[j].Loss);
            (mx, my) = (mx / size, my / size);
            double sxx = 0, sxy = 0;
            for (int j = i; j < i + size; j++)
            {
                double dx = Math.Log(points[j].LearningRate) - mx;
                (sxx, sxy) = (sxx + dx * dx, sxy + dx * (points[j].Loss - my));
            }
            (means[i], slopes[i]) = (my, sxx > 0 ? sxy / sxx : 0);
        }
        return (means, slopes);
    }
}
