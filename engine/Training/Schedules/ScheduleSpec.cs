using System.Globalization;

namespace Engine.Training.Schedules;

/// <summary>
/// What a schedule text is resolved against: the base (or peak) rate and the run's length.
/// <see cref="TotalIterations"/> 0: the length is not known yet (a check of the text alone), so
/// milestones counted from the end are not checked against it.
/// </summary>
public readonly record struct ScheduleContext(double LearningRate, long IterationsPerEpoch, long TotalIterations);

/// <summary>
/// Parses a schedule written as <c>name[:key=value,...]</c>:
/// <list type="bullet">
/// <item><c>constant</c></item>
/// <item><c>triangular</c>, <c>triangular2</c>, <c>exp_range</c> — cyclical between <c>min</c> (default lr/1000)
///   and <c>max</c> (default lr); half cycle <c>half</c> epochs (default 10) or <c>half-iters</c> iterations;
///   <c>gamma</c> for exp_range (default 0.99994)</item>
/// <item><c>plateau</c> — lr times <c>factor</c> (0.1) when validation accuracy has not improved for more than
///   <c>patience</c> (1) epochs, at most <c>drops</c> (3) times</item>
/// <item><c>warmup</c> — linear warm-up over <c>iters</c> iterations (default 1/20 of the run, at most 500) from
///   <c>factor</c> (1/3) x lr, then lr times <c>gamma</c> (0.1) at each of <c>at</c>, iterations separated by '/'
///   (values below 1 are fractions of the run; default 0.667/0.889), or at <c>before-end</c> iterations before the
///   run's end (an <c>e</c> suffix counts epochs: <c>before-end=4e/1e</c>), so that the low-rate phases keep their
///   length when the run is stretched (seed 004's 1x/3x/6x schedules)</item>
/// </list>
/// </summary>
public static class ScheduleSpec
{
    public const string Help = "constant | triangular | triangular2 | exp_range | plateau | warmup, with optional :key=value,... " +
        "(cyclical: min, max, half (epochs), half-iters, gamma; plateau: factor, patience, drops; warmup: iters, factor, at=I1/I2 or before-end=I1/I2, gamma)";

    public static LrSchedule Parse(string text, ScheduleContext ctx)
    {
        var (name, args) = Split(text);
        LrSchedule result = name switch
        {
            "constant" => new ConstantSchedule(ctx.LearningRate),
            "triangular" or "triangular2" or "exp_range" or "exp-range" => Cyclical(name, args, ctx),
            "plateau" => new PlateauSchedule(ctx.LearningRate, args.Double("factor", 0.1), args.Int("patience", 1), args.Int("drops", 3)),
            "warmup" => Warmup(args, ctx),
            _ => throw new FormatException($"unknown schedule '{name}' (expected {Help})"),
        };
        args.RejectUnused(name);
        return result;
    }

    private static CyclicalSchedule Cyclical(string name, Args args, ScheduleContext ctx)
    {
        var policy = name switch { "triangular" => CyclePolicy.Triangular, "triangular2" => CyclePolicy.Triangular2, _ => CyclePolicy.ExpRange };
        double max = args.Double("max", ctx.LearningRate);
        double min = args.Double("min", max / 1000);
        long half = args.Has("half-iters")
            ? args.Long("half-iters", 0)
            : (long)Math.Max(1, Math.Round(args.Double("half", 10) * ctx.IterationsPerEpoch));
        if (half < 1) throw new FormatException($"schedule '{name}': the half cycle must be at least 1 iteration");
        if (min > max) throw new FormatException($"schedule '{name}': min {min} is above max {max}");
        return new CyclicalSchedule(min, max, half, policy, args.Double("gamma", 0.99994));
    }

    private static WarmupStepSchedule Warmup(Args args, ScheduleContext ctx)
    {
        long total = Math.Max(1, ctx.TotalIterations);
        long iters = args.Long("iters", Math.Min(500, total / 20));
        if (args.Has("at") && args.Has("before-end")) throw new FormatException("schedule 'warmup': give the milestones with at= or with before-end=, not both");
        long[] at = args.Has("before-end")
            ? Milestones(args.Text("before-end", ""), s => s.EndsWith('e') ? (s[..^1], ctx.IterationsPerEpoch) : (s, 1))
                .Select(d => total - (long)Math.Round(d)).ToArray()
            : Milestones(args.Text("at", "0.667/0.889"), s => (s, 1))
                .Select(d => d < 1 ? (long)Math.Round(d * total) : (long)d).ToArray();
        bool Outside(long m) => m <= iters || m >= total;
        if (args.Has("before-end") && ctx.TotalIterations > 0 && at.Any(Outside))
            throw new FormatException($"schedule 'warmup': a milestone before the end falls at iteration {at.First(Outside)}, outside the run's {total} iterations after its {iters}-iteration warm-up");
        return new WarmupStepSchedule(ctx.LearningRate, iters, args.Double("factor", 1.0 / 3), at, args.Double("gamma", 0.1));
    }

    /// <summary>Milestones separated by '/', each a positive number times the unit <paramref name="unit"/> gives for its text.</summary>
    private static IEnumerable<double> Milestones(string text, Func<string, (string Number, long Unit)> unit) =>
        text.Split(['/', ';', '+'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s =>
        {
            var (number, scale) = unit(s);
            return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0 ? d * scale
                : throw new FormatException($"schedule 'warmup': milestone '{s}' is not a positive number");
        });

    private static (string, Args) Split(string text)
    {
        var t = text.Trim();
        int colon = t.IndexOf(':');
        var name = (colon < 0 ? t : t[..colon]).Trim().ToLowerInvariant();
        var args = new Args(name);
        if (colon >= 0)
            foreach (var part in t[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                int eq = part.IndexOf('=');
                if (eq <= 0) throw new FormatException($"schedule '{name}': '{part}' is not key=value");
                args.Values[part[..eq].Trim().ToLowerInvariant()] = part[(eq + 1)..].Trim();
            }
        return (name, args);
    }

    private sealed class Args(string schedule)
    {
        public Dictionary<string, string> Values { get; } = [];
        private readonly HashSet<string> _used = [];

        public bool Has(string key) => Values.ContainsKey(key);

        public string Text(string key, string fallback)
        {
            _used.Add(key);
            return Values.TryGetValue(key, out var v) ? v : fallback;
        }

        public double Double(string key, double fallback)
        {
            _used.Add(key);
            if (!Values.TryGetValue(key, out var v)) return fallback;
            return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) && d >= 0 ? d
                : throw new FormatException($"schedule '{schedule}': {key}={v} is not a non-negative number");
        }

        public long Long(string key, long fallback)
        {
            _used.Add(key);
            if (!Values.TryGetValue(key, out var v)) return fallback;
            return long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
                : throw new FormatException($"schedule '{schedule}': {key}={v} is not a non-negative whole number");
        }

        public int Int(string key, int fallback) => (int)Math.Min(int.MaxValue, Long(key, fallback));

        public void RejectUnused(string name)
        {
            var unknown = Values.Keys.Where(k => !_used.Contains(k)).ToList();
            if (unknown.Count > 0) throw new FormatException($"schedule '{name}' takes no option '{unknown[0]}'");
        }
    }
}
