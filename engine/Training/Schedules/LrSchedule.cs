using System.Text.Json.Nodes;

namespace Engine.Training.Schedules;

/// <summary>
/// A learning rate per iteration (stepped every mini-batch, counting from 0). Schedules that
/// react to validation results (<see cref="Plateau"/>) keep state, saved in checkpoints.
/// </summary>
public abstract class LrSchedule
{
    /// <summary>The learning rate for iteration <paramref name="step"/>.</summary>
    public abstract double Rate(long step);

    /// <summary>One line for the run's log.</summary>
    public abstract string Describe();

    /// <summary>
    /// Called after each epoch with a validation score where higher is better (accuracy);
    /// returns a note for the log when the schedule changed, else null.
    /// </summary>
    public virtual string? EndOfEpoch(int epoch, double score) => null;

    public virtual JsonObject SaveState() => [];
    public virtual void RestoreState(JsonObject state) { }
}

/// <summary>The same rate throughout.</summary>
public sealed class ConstantSchedule(double rate) : LrSchedule
{
    public double Value { get; } = rate;
    public override double Rate(long step) => Value;
    public override string Describe() => $"constant {Value:G6}";
}
