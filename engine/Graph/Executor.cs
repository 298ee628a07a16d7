using Engine.Tensors;

namespace Engine.Graph;

/// <summary>
/// Runs a graph on one backend at one batch size: forward in node order, backward in reverse,
/// each node accumulating into its inputs' gradients. Activation gradients are zeroed by each
/// backward; parameter gradients only by <see cref="ParameterBuffers.ZeroGrads"/>.
/// </summary>
public sealed class Executor : IDisposable
{
    private readonly Shape[] _shapes;
    private readonly Buffer?[] _values;
    private readonly Buffer?[] _grads;
    private readonly NodeRun[] _runs;
    private readonly bool _ownsParameters;

    /// <param name="inputGradients">Also compute gradients of the graph's float inputs (gradient checks).</param>
    public Executor(Graph graph, Backend backend, int batch, ParameterBuffers? parameters = null, bool inputGradients = false)
        : this(graph, backend, batch, new ExecutorOptions { InputGradients = inputGradients }, parameters) { }

    public Executor(Graph graph, Backend backend, int batch, ExecutorOptions options, ParameterBuffers? parameters = null)
    {
        bool inputGradients = options.InputGradients;
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch size must be at least 1");
        Graph = graph;
        Backend = backend;
        Batch = batch;
        _ownsParameters = parameters is null;
        Parameters = parameters ?? new ParameterBuffers(graph, backend);
        if (Parameters.Backend != backend) throw new ArgumentException("parameters live on another backend");

        _shapes = new Shape[graph.ValueCount];
        _values = new Buffer?[graph.ValueCount];
        _grads = new Buffer?[graph.ValueCount];
        foreach (var v in graph.Inputs)
        {
            _shapes[v.Id] = v.Shape.WithBatch(batch);
            _values[v.Id] = backend.Allocate(_shapes[v.Id].Numel, v.IsInt);
            if (inputGradients && !v.IsInt) _grads[v.Id] = backend.Allocate(_shapes[v.Id].Numel, false);
        }

        _runs = new NodeRun[graph.Nodes.Count];
        foreach (var node in graph.Nodes)
        {
            var inShapes = node.Inputs.Select(v => _shapes[v.Id]).ToArray();
            var outShapes = node.Op.InferShapes(inShapes);
            var run = new NodeRun(node) { InShapes = inShapes, OutShapes = outShapes, Batch = batch };
            foreach (var (o, s) in node.Outputs.Zip(outShapes))
            {
                _shapes[o.Id] = s;
                _values[o.Id] = backend.Allocate(s.Numel, o.IsInt);
                if (!o.IsInt) _grads[o.Id] = backend.Allocate(s.Numel, false);
            }
            run.In = node.Inputs.Select(v => BufferSlice.Whole(_values[v.Id]!)).ToArray();
            run.Out = node.Outputs.Select(v => BufferSlice.Whole(_values[v.Id]!)).ToArray();
            run.InGrad = node.Inputs.Select(v => _grads[v.Id] is { } g ? BufferSlice.Whole(g) : (BufferSlice?)null).ToArray();
            run.OutGrad = node.Outputs.Select(v => _grads[v.Id] is { } g ? BufferSlice.Whole(g) : (BufferSlice?)null).ToArray();
            run.Params = node.Params.Select(p => Parameters.Slice(Parameters.Values, p)).ToArray();
            run.ParamGrads = node.Params.Select(p => Parameters.Slice(Parameters.Grads, p)).ToArray();
            run.States = node.States.Select(p => Parameters.Slice(Parameters.States, p)).ToArray();
            _runs[node.Index] = run;
        }
    }

    public Graph Graph { get; }
    public Backend Backend { get; }
    public int Batch { get; }
    public ParameterBuffers Parameters { get; }
    /// <summary>Seed of stochastic ops; with <see cref="Step"/> it fixes every dropout mask.</summary>
    public ulong Seed { get; set; }
    /// <summary>The training step, set by the trainer so that a resumed run draws the same masks.</summary>
    public long Step { get; set; }
    /// <summary>When set, told around every node's forward and backward pass (see <see cref="StepProfiler"/>); null costs nothing.</summary>
    public INodeProfiler? Profiler { get; set; }

    public Shape ShapeOf(Value v) => _shapes[v.Id];

    public void SetInput(string name, ReadOnlySpan<float> data) => Backend.Upload(InputSlice(name, data.Length, false), data);
    public void SetInput(string name, ReadOnlySpan<double> data) => Backend.Upload(InputSlice(name, data.Length, false), data);
    public void SetInput(string name, ReadOnlySpan<int> data) => Backend.Upload(InputSlice(name, data.Length, true), data);

    /// <summary>Direct access to a value's storage (for backends' own staging copies).</summary>
    public BufferSlice ValueSlice(Value v) => BufferSlice.Whole(_values[v.Id] ?? throw new InvalidOperationException($"{v.Name} has no storage"));

    public void Forward(bool training)
    {
        foreach (var run in _runs)
        {
            run.Training = training;
            run.Seed = Seed;
            run.Step = Step;
            if (Profiler is { } p)
            {
                p.Begin(run.Node, Pass.Forward);
                Backend.Forward(run);
                p.End(run.Node, Pass.Forward);
            }
            else Backend.Forward(run);
        }
    }

    /// <summary>Backward from the graph's loss, with d(loss) = 1.</summary>
    public void Backward()
    {
        var loss = Graph.Loss ?? throw new InvalidOperationException($"graph '{Graph.Name}' has no loss; pass an output gradient");
        Backward(loss, [1.0]);
    }

    /// <summary>Backward from <paramref name="output"/> with the given gradient (e.g. a random projection for gradient checks).</summary>
    public void Backward(Value output, ReadOnlySpan<double> outputGrad)
    {
        var seedGrad = _grads[output.Id] ?? throw new InvalidOperationException($"{output.Name} takes no gradient");
        var reaches = new bool[_shapes.Length];
        reaches[output.Id] = true;
        var active = new List<NodeRun>();
        for (int i = _runs.Length - 1; i >= 0; i--)
        {
            var node = _runs[i].Node;
            if (!node.Outputs.Any(o => reaches[o.Id])) continue;
            active.Add(_runs[i]);
            foreach (var v in node.Inputs) if (!v.IsInt) reaches[v.Id] = true;
        }
        for (int id = 0; id < _grads.Length; id++)
            if (reaches[id] && _grads[id] is { } g) Backend.Zero(BufferSlice.Whole(g));
        Backend.Upload(BufferSlice.Whole(seedGrad), outputGrad);
        foreach (var run in active)
        {
            if (Profiler is { } p)
            {
                p.Begin(run.Node, Pass.Backward);
                Backend.Backward(run);
                p.End(run.Node, Pass.Backward);
            }
            else Backend.Backward(run);
        }
    }

    public double[] Read(Value v) => Download<double>(_values[v.Id], v);
    public float[] ReadFloat(Value v) => Download<float>(_values[v.Id], v);
    public int[] ReadInt(Value v) => Download<int>(_values[v.Id], v);
    /// <summary>The gradient of the last backward with respect to <paramref name="v"/>.</summary>
    public double[] ReadGrad(Value v) => Download<double>(_grads[v.Id], v);

    public Tensor<double> ReadTensor(Value v) => new(_shapes[v.Id], Read(v));

    private T[] Download<T>(Buffer? b, Value v) where T : unmanaged
    {
        if (b is null) throw new InvalidOperationException($"{v.Name} has no gradient storage");
        var r = new T[b.Count];
        switch (r)
        {
            case double[] d: Backend.Download(BufferSlice.Whole(b), d); break;
            case float[] f: Backend.Download(BufferSlice.Whole(b), f); break;
            case int[] n: Backend.Download(BufferSlice.Whole(b), n); break;
        }
        return r;
    }

    private BufferSlice InputSlice(string name, int length, bool isInt)
    {
        var v = Graph.Input(name);
        if (v.IsInt != isInt) throw new ArgumentException($"input '{name}' takes {(v.IsInt ? "integer" : "float")} data");
        if (length != _shapes[v.Id].Numel)
            throw new ArgumentException($"input '{name}' of shape {_shapes[v.Id]} needs {_shapes[v.Id].Numel} values, got {length}");
        return BufferSlice.Whole(_values[v.Id]!);
    }

    public void Dispose()
    {
        // Per-node backend state may hold device memory and native descriptors (CUDA backend).
        foreach (var run in _runs) (run.BackendState as IDisposable)?.Dispose();
        foreach (var b in _values) b?.Dispose();
        foreach (var b in _grads) b?.Dispose();
        if (_ownsParameters) Parameters.Dispose();
    }
}
