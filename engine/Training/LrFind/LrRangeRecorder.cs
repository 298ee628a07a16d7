using System.Globalization;
using System.Text;

namespace Engine.Training.LrFind;

/// <summary>One step of the range test: its lr, its loss and the smoothed loss so far.</summary>
public sealed record LrRangePoint(int Step, double LearningRate, double Loss, double Smoothed);

/// <summary>
/// The losses of a range test as they come, with fastai's stop rule: stop once the smoothed loss
/// exceeds <see cref="DivergenceFactor"/> times the best smoothed loss so far, or a loss is not
/// finite (that step is not recorded). The points and the reason for stopping are what the
/// suggestion, the plot and the CSV are made from.
/// </summary>
public sealed class LrRangeRecorder(double beta = LossSmoother.DefaultBeta)
{
    public const double DivergenceFactor = 4;
    private readonly LossSmoother _smoother = new(beta);
    private readonly List<LrRangePoint> _points = [];
    private double _best = double.PositiveInfinity;

    public IReadOnlyList<LrRangePoint> Points => _points;
    /// <summary>Why the test stopped before its last step; null while it goes on.</summary>
    public string? StopReason { get; private set; }

    /// <summary>Records a step; false when the test should stop here.</summary>
    public bool Add(double learningRate, double loss)
    {
        if (StopReason is not null) return false;
        int step = _points.Count;
        if (!double.IsFinite(loss))
        {
            StopReason = Inv($"the loss became {loss} at step {step + 1} (lr {learningRate:G3})");
            return false;
        }
        double smoothed = _smoother.Add(loss);
        _points.Add(new LrRangePoint(step, learningRate, loss, smoothed));
        if (step > 0 && smoothed > DivergenceFactor * _best)
        {
            StopReason = Inv($"the smoothed loss {smoothed:G4} passed {DivergenceFactor:G} x the best {_best:G4} at step {step + 1} (lr {learningRate:G3})");
            return false;
        }
        _best = Math.Min(_best, smoothed);
        return true;
    }

    /// <summary>step,lr,loss,smoothed_loss — one line per recorded step.</summary>
    public static string Csv(IReadOnlyList<LrRangePoint> points)
    {
        var sb = new StringBuilder("step,lr,loss,smoothed_loss\n");
        foreach (var p in points) sb.Append(Inv($"{p.Step + 1},{p.LearningRate:R},{p.Loss:R},{p.Smoothed:R}\n"));
        return sb.ToString();
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
