namespace Engine.Graph;

/// <summary>Median times of one node over the profiled steps; null for a pass that never ran.</summary>
public sealed record NodeTime(Node Node, double? ForwardMs, double? BackwardMs);

/// <summary>Medians over <see cref="Steps"/> profiled steps: the whole step, each node, each named section (e.g. "optimizer").</summary>
public sealed record StepProfile(int Steps, double StepMs, IReadOnlyList<NodeTime> Nodes, IReadOnlyDictionary<string, double> Sections);

/// <summary>
/// Times every node's forward and backward pass, plus named sections, on the backend's own
/// <see cref="Timeline"/>: two marks per interval, one wait at the end of each step, so that a
/// GPU step runs as it would unprofiled (no synchronisation between nodes). Set it as
/// <see cref="Executor.Profiler"/> and bracket each step with <see cref="BeginStep"/> and
/// <see cref="EndStep"/>.
/// </summary>
public sealed class StepProfiler : INodeProfiler, IDisposable
{
    private readonly record struct Key(Node? Node, Pass Pass, string? Section);

    private readonly Timeline _timeline;
    private readonly List<(Key Key, int Start, int End)> _intervals = [];
    private readonly Dictionary<Key, int> _open = [];
    private readonly Dictionary<Key, List<double>> _samples = [];
    private readonly List<double> _steps = [];
    private int _next = -1;

    public StepProfiler(Backend backend) { _timeline = backend.CreateTimeline(); }

    /// <summary>Steps recorded since construction or <see cref="Reset"/>.</summary>
    public int Steps => _steps.Count;

    public void BeginStep()
    {
        if (_next >= 0) throw new InvalidOperationException("BeginStep called twice without EndStep");
        _intervals.Clear();
        _open.Clear();
        _next = 0;
        _timeline.Mark(_next++);
    }

    public void Begin(Node node, Pass pass) => Open(new Key(node, pass, null));
    public void End(Node node, Pass pass) => Close(new Key(node, pass, null));
    public void BeginSection(string name) => Open(new Key(null, Pass.Forward, name));
    public void EndSection(string name) => Close(new Key(null, Pass.Forward, name));

    /// <summary>Ends the step: waits for the backend's work once, then records each interval (summed per node and pass within the step).</summary>
    public void EndStep()
    {
        if (_next < 0) throw new InvalidOperationException("EndStep without BeginStep");
        if (_open.Count > 0) throw new InvalidOperationException($"step ended with {Describe(_open.Keys.First())} still open");
        int last = _next;
        _timeline.Mark(last);
        _next = -1;
        _timeline.Wait();
        var sums = new Dictionary<Key, double>();
        foreach (var (key, start, end) in _intervals)
            sums[key] = sums.GetValueOrDefault(key) + _timeline.ElapsedMs(start, end);
        foreach (var (key, ms) in sums)
        {
            if (!_samples.TryGetValue(key, out var list)) _samples[key] = list = [];
            list.Add(ms);
        }
        _steps.Add(_timeline.ElapsedMs(0, last));
    }

    /// <summary>Forgets the steps recorded so far (e.g. warm-up steps).</summary>
    public void Reset()
    {
        _samples.Clear();
        _steps.Clear();
    }

    /// <summary>Medians over the recorded steps; nodes in graph order.</summary>
    public StepProfile Summary()
    {
        if (_steps.Count == 0) throw new InvalidOperationException("no profiled step recorded");
        var nodes = _samples.Keys.Where(k => k.Node is not null).Select(k => k.Node!).Distinct()
            .OrderBy(n => n.Index)
            .Select(n => new NodeTime(n, MedianOf(new Key(n, Pass.Forward, null)), MedianOf(new Key(n, Pass.Backward, null))))
            .ToList();
        var sections = _samples.Where(kv => kv.Key.Section is not null).ToDictionary(kv => kv.Key.Section!, kv => Median(kv.Value));
        return new StepProfile(_steps.Count, Median(_steps), nodes, sections);
    }

    public static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private double? MedianOf(Key key) => _samples.TryGetValue(key, out var list) ? Median(list) : null;

    private void Open(Key key)
    {
        if (_next < 0) throw new InvalidOperationException($"{Describe(key)} began outside a step: call StepProfiler.BeginStep first");
        if (!_open.TryAdd(key, _next)) throw new InvalidOperationException($"{Describe(key)} began twice");
        _timeline.Mark(_next++);
    }

    private void Close(Key key)
    {
        if (!_open.Remove(key, out int start)) throw new InvalidOperationException($"{Describe(key)} ended without beginning");
        _intervals.Add((key, start, _next));
        _timeline.Mark(_next++);
    }

    private static string Describe(Key k) => k.Node is { } n ? $"{n} {k.Pass.ToString().ToLowerInvariant()}" : $"section '{k.Section}'";

    public void Dispose() => _timeline.Dispose();
}
