namespace Engine.Training.Schedules;

public enum CyclePolicy { Triangular, Triangular2, ExpRange }

/// <summary>
/// Cyclical learning rate (Smith, "Cyclical Learning Rates for Training Neural Networks", 2017):
/// cycle = floor(1 + it / (2 * halfCycle)), x = |it / halfCycle - 2 * cycle + 1|,
/// lr = base + (max - base) * max(0, 1 - x) * scale, where scale is 1 (triangular),
/// 1 / 2^(cycle - 1) (triangular2: the amplitude halves every cycle) or gamma^it (exp_range).
/// The rate is lowest at iteration 0 and peaks at iterations halfCycle * (2k - 1).
/// </summary>
public sealed class CyclicalSchedule : LrSchedule
{
    public CyclicalSchedule(double baseRate, double maxRate, long halfCycle, CyclePolicy policy, double gamma = 1)
    {
        if (halfCycle < 1) throw new ArgumentOutOfRangeException(nameof(halfCycle), halfCycle, "the half cycle must be at least one iteration");
        if (!(baseRate >= 0 && maxRate >= baseRate)) throw new ArgumentException($"cyclical schedule needs 0 <= base ({baseRate}) <= max ({maxRate})");
        BaseRate = baseRate; MaxRate = maxRate; HalfCycle = halfCycle; Policy = policy; Gamma = gamma;
    }

    public double BaseRate { get; }
    public double MaxRate { get; }
    public long HalfCycle { get; }
    public CyclePolicy Policy { get; }
    public double Gamma { get; }

    public override double Rate(long step)
    {
        long cycle = 1 + step / (2 * HalfCycle);
        double x = Math.Abs((double)step / HalfCycle - 2 * cycle + 1);
        double scale = Policy switch
        {
            CyclePolicy.Triangular => 1,
            CyclePolicy.Triangular2 => Math.Pow(2, -(cycle - 1)),
            _ => Math.Pow(Gamma, step),
        };
        return BaseRate + (MaxRate - BaseRate) * Math.Max(0, 1 - x) * scale;
    }

    public override string Describe()
    {
        string name = Policy switch { CyclePolicy.Triangular => "triangular", CyclePolicy.Triangular2 => "triangular2", _ => $"exp_range (gamma {Gamma:G6})" };
        return $"cyclical {name}, base {BaseRate:G6}, max {MaxRate:G6}, half cycle {HalfCycle} iterations (Smith 2017)";
    }
}
