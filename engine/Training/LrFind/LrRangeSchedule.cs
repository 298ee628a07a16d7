namespace Engine.Training.LrFind;

/// <summary>
/// The range test's learning rates: rising exponentially from <see cref="Start"/> at step 0 to
/// <see cref="End"/> at step <see cref="Steps"/> - 1, lr_i = start * (end / start)^(i / (steps - 1)).
/// </summary>
public sealed record LrRangeSchedule
{
    public LrRangeSchedule(double start, double end, int steps)
    {
        if (!(start > 0) || !double.IsFinite(start)) throw new ArgumentOutOfRangeException(nameof(start), start, "the start lr must be a positive number");
        if (!(end > start) || !double.IsFinite(end)) throw new ArgumentOutOfRangeException(nameof(end), end, "the end lr must be a number above the start lr");
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), steps, "the range test needs at least 2 steps");
        (Start, End, Steps) = (start, end, steps);
    }

    public double Start { get; }
    public double End { get; }
    public int Steps { get; }

    public double Rate(int step) => step >= Steps - 1 ? End : Start * Math.Pow(End / Start, step / (double)(Steps - 1));
}
