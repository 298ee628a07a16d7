using Engine.Data;
using Engine.Graph;
using Engine.Training.Metrics;

namespace Engine.Training;

/// <summary>
/// Runs a graph forward in inference mode over a data split and measures it. Batches of the
/// training size reuse the training executor; a smaller last batch gets an executor of its own
/// over the same parameters.
/// </summary>
public sealed class Evaluator : IDisposable
{
    private readonly Dictionary<int, Executor> _executors = [];
    private readonly Executor? _shared;
    private readonly ParameterBuffers _parameters;
    private readonly BatchScorer _scorer;

    public Evaluator(Graph.Graph graph, Backend backend, ParameterBuffers parameters, TaskInfo task, Executor? shared = null)
    {
        Graph = graph; Backend = backend; _parameters = parameters; Task = task; _shared = shared;
        _scorer = new BatchScorer(backend);
        Logits = graph.Output("logits");
        Loss = graph.Loss;
    }

    public Graph.Graph Graph { get; }
    public Backend Backend { get; }
    public TaskInfo Task { get; }
    public Value Logits { get; }
    public Value? Loss { get; }
    /// <summary>
    /// Average the scores of each image and its left-right mirror (VGG's test protocol); for
    /// segmentation the mirror's score map is mirrored back first. The loss is the unmirrored pass's.
    /// </summary>
    public bool AverageFlip { get; init; }

    /// <summary>
    /// Measures every batch of one pass, scoring the logits on the backend (<see cref="BatchScorer"/>);
    /// <paramref name="each"/> sees each batch and a function that downloads its logits when called.
    /// </summary>
    public MetricSummary Run(IBatchSource source, int epoch = 0, Action<Batch, Func<float[]>>? each = null, CancellationToken cancel = default)
    {
        var meter = new Meter(Task.Task, Task.Classes, Task.IgnoreLabel);
        bool labelled = Graph.Inputs.Any(v => v.Name == "label");
        foreach (var batch in source.Epoch(epoch))
        {
            cancel.ThrowIfCancellationRequested();
            if (AverageFlip || !labelled)
            {
                var (loss, logits) = Forward(batch);
                meter.Add(loss, batch.Count, logits, batch.Labels.Span);
                each?.Invoke(batch, () => logits);
                continue;
            }
            var exec = ForwardOnce(batch);
            _scorer.Add(meter, ReadLoss(exec), batch, exec.ValueSlice(Logits), exec.ValueSlice(Graph.Input("label")), exec.DescOf(Logits));
            float[]? host = null;
            each?.Invoke(batch, () => host ??= exec.ReadFloat(Logits));
        }
        return meter.Summary();
    }

    /// <summary>One inference forward: the batch's mean loss (NaN without a loss) and its logits.</summary>
    public (double Loss, float[] Logits) Forward(Batch batch)
    {
        var exec = ForwardOnce(batch);
        double loss = ReadLoss(exec);
        var logits = exec.ReadFloat(Logits);
        if (!AverageFlip) return (loss, logits);

        var image = exec.ShapeOf(Graph.Input("image"));
        var nchw = Engine.Tensors.LayoutTranspose.Convert(batch.Images.ToArray(), image, batch.Layout, Engine.Tensors.Layout.Nchw);
        exec.SetInput("image", Mirror(nchw, image));
        exec.Forward(training: false);
        var mirrored = exec.ReadFloat(Logits);
        var shape = exec.ShapeOf(Logits);
        if (shape.Rank == 4) mirrored = Mirror(mirrored, shape);
        for (int i = 0; i < logits.Length; i++) logits[i] = 0.5f * (logits[i] + mirrored[i]);
        return (loss, logits);
    }

    private Executor ForwardOnce(Batch batch)
    {
        var exec = ExecutorFor(batch.Count);
        exec.SetInput("image", batch.Images.Span, batch.Layout);
        if (Graph.Inputs.Any(v => v.Name == "label")) exec.SetInput("label", batch.Labels.Span);
        exec.Forward(training: false);
        return exec;
    }

    private double ReadLoss(Executor exec) => Loss is null ? double.NaN : exec.Read(Loss)[0];

    /// <summary>NCHW data mirrored left-right.</summary>
    public static float[] Mirror(ReadOnlySpan<float> data, Engine.Tensors.Shape nchw)
    {
        int w = nchw[3];
        var r = new float[data.Length];
        for (int row = 0; row < data.Length / w; row++)
            for (int x = 0; x < w; x++) r[row * w + x] = data[row * w + w - 1 - x];
        return r;
    }

    private Executor ExecutorFor(int count)
    {
        if (_shared is not null && _shared.Batch == count) return _shared;
        if (!_executors.TryGetValue(count, out var e))
        {
            foreach (var old in _executors.Values) old.Dispose();
            _executors.Clear();
            _executors[count] = e = new Executor(Graph, Backend, count, new ExecutorOptions { InferenceOnly = true }, _parameters);
        }
        return e;
    }

    public void Dispose()
    {
        foreach (var e in _executors.Values) e.Dispose();
        _executors.Clear();
        _scorer.Dispose();
    }
}
