using System.Text.Json.Nodes;

namespace Engine.Training.Schedules;

/// <summary>
/// VGG's schedule: start at <see cref="InitialRate"/> and multiply by <see cref="Factor"/> (1/10)
/// when the validation score has not improved for more than <see cref="Patience"/> epochs,
/// at most <see cref="MaxDrops"/> times. After a drop the count of epochs without
/// improvement starts again.
/// </summary>
public sealed class PlateauSchedule(double initialRate, double factor = 0.1, int patience = 1, int maxDrops = 3) : LrSchedule
{
    public double InitialRate { get; } = initialRate;
    public double Factor { get; } = factor;
    public int Patience { get; } = patience;
    public int MaxDrops { get; } = maxDrops;

    public int Drops { get; private set; }
    public double Best { get; private set; } = double.NegativeInfinity;
    public int EpochsWithoutImprovement { get; private set; }

    public override double Rate(long step) => InitialRate * Math.Pow(Factor, Drops);

    public override string? EndOfEpoch(int epoch, double score)
    {
        if (score > Best)
        {
            Best = score;
            EpochsWithoutImprovement = 0;
            return null;
        }
        EpochsWithoutImprovement++;
        if (EpochsWithoutImprovement <= Patience || Drops >= MaxDrops) return null;
        Drops++;
        EpochsWithoutImprovement = 0;
        return $"validation score {score:G6} has not improved on {Best:G6} for {Patience + 1} epoch(s): learning rate divided by {1 / Factor:G4} to {Rate(0):G6} (drop {Drops} of {MaxDrops})";
    }

    public override string Describe() =>
        $"step on plateau: {InitialRate:G6}, times {Factor:G4} when validation accuracy has not improved for {Patience + 1} epoch(s), at most {MaxDrops} times";

    public override JsonObject SaveState() => new()
    {
        ["drops"] = Drops,
        ["best"] = double.IsNegativeInfinity(Best) ? null : Best,
        ["epochsWithoutImprovement"] = EpochsWithoutImprovement,
    };

    public override void RestoreState(JsonObject state)
    {
        Drops = (int?)state["drops"] ?? 0;
        Best = (double?)state["best"] ?? double.NegativeInfinity;
        EpochsWithoutImprovement = (int?)state["epochsWithoutImprovement"] ?? 0;
    }
}
