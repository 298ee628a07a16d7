namespace Engine.Training.Schedules;

/// <summary>
/// Detectron's schedule (as in "Rethinking ImageNet Pre-training"): a linear warm-up from
/// <see cref="WarmupFactor"/> x lr to lr over <see cref="WarmupIterations"/>, then lr divided by
/// 10 at each of the fixed <see cref="Milestones"/> (iterations).
/// </summary>
public sealed class WarmupStepSchedule : LrSchedule
{
    public WarmupStepSchedule(double rate, long warmupIterations, double warmupFactor, long[] milestones, double gamma = 0.1)
    {
        if (warmupIterations < 0) throw new ArgumentOutOfRangeException(nameof(warmupIterations), "warm-up length must not be negative");
        BaseRate = rate; WarmupIterations = warmupIterations; WarmupFactor = warmupFactor; Gamma = gamma;
        Milestones = [.. milestones.Order()];
    }

    public double BaseRate { get; }
    public long WarmupIterations { get; }
    public double WarmupFactor { get; }
    public long[] Milestones { get; }
    public double Gamma { get; }

    public override double Rate(long step)
    {
        int passed = Milestones.Count(m => step >= m);
        double rate = BaseRate * Math.Pow(Gamma, passed);
        if (step < WarmupIterations)
        {
            double alpha = (double)step / WarmupIterations;
            rate *= WarmupFactor * (1 - alpha) + alpha;
        }
        return rate;
    }

    public override string Describe() =>
        $"linear warm-up over {WarmupIterations} iterations from {WarmupFactor:G4} x {BaseRate:G6}, then times {Gamma:G4} at iterations {string.Join(", ", Milestones)}";
}
