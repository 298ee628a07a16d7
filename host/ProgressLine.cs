using System.Globalization;
using Engine.Training;

namespace Host;

/// <summary>
/// The training progress on stderr: one line rewritten in place on a terminal, or a plain line
/// every few seconds when stderr is a file or a pipe (logs stay readable).
/// </summary>
public sealed class ProgressLine(TextWriter err, bool interactive, TimeSpan? every = null)
{
    private readonly TimeSpan _every = every ?? TimeSpan.FromSeconds(interactive ? 0.2 : 10);
    private DateTime _last = DateTime.MinValue;
    private int _width;

    public static ProgressLine ForConsole() => new(Console.Error, !Console.IsErrorRedirected);

    public void Report(StepProgress p) =>
        Show(() => Format(p), force: (p.Batch == p.BatchesPerEpoch && !interactive) || p.Step == p.TotalSteps);

    /// <summary>Shows a line made by <paramref name="line"/> if enough time has passed since the last one, or when <paramref name="force"/>d.</summary>
    public void Show(Func<string> line, bool force)
    {
        var now = DateTime.UtcNow;
        if (now - _last < _every && !force) return;
        _last = now;
        Write(line());
    }

    private void Write(string line)
    {
        if (interactive)
        {
            err.Write("\r" + line.PadRight(_width));
            _width = line.Length;
        }
        else err.WriteLine(line);
    }

    /// <summary>Ends an in-place line before other output.</summary>
    public void Break()
    {
        if (interactive && _width > 0) err.WriteLine();
        _width = 0;
    }

    public static string Format(StepProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {p.Epoch}/{p.Epochs} batch {p.Batch}/{p.BatchesPerEpoch} step {p.Step}/{p.TotalSteps}  loss {p.Loss:F4} (epoch avg {p.AverageLoss:F4})  lr {p.LearningRate:G3}  {Rate(p.ImagesPerSecond)}  ETA {Eta(p.Eta)}");

    private static string Rate(double r) => double.IsFinite(r) ? string.Create(CultureInfo.InvariantCulture, $"{r:F1} img/s") : "-- img/s";

    public static string Eta(TimeSpan t) => t <= TimeSpan.Zero ? "--" : t.TotalHours >= 1
        ? $"{(int)t.TotalHours}h{t.Minutes:D2}m" : t.TotalMinutes >= 1 ? $"{t.Minutes}m{t.Seconds:D2}s" : $"{t.Seconds}s";
}
