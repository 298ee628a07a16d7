using Engine.Graph.Memory;
using Engine.Tensors;

namespace Engine.Graph;

/// <summary>
/// Runs a graph on one backend at one batch size: forward in node order, backward in reverse,
/// each node accumulating into its inputs' gradients. Every value and gradient lives in one
/// arena laid out by a <see cref="MemoryPlan"/> fixed at construction. The first backward to
/// write a gradient in a pass overwrites it where its op can (<see cref="OpBase.OverwritesInputGradient"/>);
/// any other gradient is zeroed just before the first backward that touches it. Parameter
/// gradients are zeroed only by <see cref="ParameterBuffers.ZeroGrads"/>. Over parameters that
/// freeze the backbone (<see cref="ExecutorOptions.FreezeBackbone"/>), the backbone's nodes run in
/// evaluation mode and are left out of backward.
/// </summary>
public sealed class Executor : IDisposable
{
    private readonly Shape[] _shapes;
    private readonly BufferSlice?[] _values;
    private readonly BufferSlice?[] _grads;
    private readonly ArenaBlock?[] _gradBlocks;
    private readonly NodeRun[] _runs;
    // Inputs as backward reads them: a recomputed value from its backward block (null: as forward).
    private readonly BufferSlice[][] _forwardIn;
    private readonly BufferSlice[]?[] _backwardIn;
    private readonly BufferSlice?[] _recomputed;
    private readonly Buffer _arena;
    private readonly Buffer _stepScalar;
    private readonly bool _ownsParameters;
    private long _step;

    /// <param name="inputGradients">Also compute gradients of the graph's float inputs (gradient checks).</param>
    public Executor(Graph graph, Backend backend, int batch, ParameterBuffers? parameters = null, bool inputGradients = false)
        : this(graph, backend, batch, new ExecutorOptions { InputGradients = inputGradients }, parameters) { }

    public Executor(Graph graph, Backend backend, int batch, ExecutorOptions options, ParameterBuffers? parameters = null)
    {
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch size must be at least 1");
        if (options.InferenceOnly && options.InputGradients) throw new ArgumentException("an inference-only executor computes no gradients, of inputs neither");
        Graph = graph;
        Backend = backend;
        Batch = batch;
        _ownsParameters = parameters is null;
        Parameters = parameters ?? new ParameterBuffers(graph, backend, freezeBackbone: options.FreezeBackbone && !options.InferenceOnly);
        if (Parameters.Backend != backend) throw new ArgumentException("parameters live on another backend");
        if (!options.InferenceOnly && options.FreezeBackbone != Parameters.FreezeBackbone)
        {
            // Parameters without backbone gradients need a plan without backbone backward passes; the other way round the optimizer would decay weights nothing updates.
            if (options.FreezeBackbone) throw new ArgumentException($"{graph.Name}: ExecutorOptions.FreezeBackbone needs ParameterBuffers that freeze the backbone too");
            options = options with { FreezeBackbone = true };
        }
        // A channel slice of an NHWC concatenation is interleaved per pixel, not one block per sample,
        // which is all a view can be: NHWC concatenations copy their inputs (engine/Graph/LAYOUT.md).
        if (backend.Layout == Layout.Nhwc) options = options with { ConcatViews = false };
        Options = options;

        _shapes = MemoryPlan.Shapes(graph, batch);
        Plan = new MemoryPlan(graph, _shapes, backend.FloatType, options);
        _arena = backend.Allocate(Plan.ArenaBytes, DataType.U8);
        _stepScalar = backend.Allocate(2, DataType.I32);
        _values = new BufferSlice?[graph.ValueCount];
        _grads = new BufferSlice?[graph.ValueCount];
        _gradBlocks = new ArenaBlock?[graph.ValueCount];
        foreach (var v in graph.Inputs.Concat(graph.Nodes.SelectMany(n => n.Outputs)))
        {
            _values[v.Id] = Slice(Plan.ValueBlock(v), v);
            if (Plan.GradientBlock(v) is { } g)
            {
                _grads[v.Id] = Slice(g, v);
                _gradBlocks[v.Id] = g;
            }
        }

        _recomputed = new BufferSlice?[graph.ValueCount];
        foreach (var v in graph.Nodes.SelectMany(n => n.Outputs))
            if (Plan.RecomputedBlock(v) is { } r) _recomputed[v.Id] = new BufferSlice(_arena, r.Offset, _shapes[v.Id].Numel, Backend.FloatType);

        _runs = new NodeRun[graph.Nodes.Count];
        _forwardIn = new BufferSlice[graph.Nodes.Count][];
        _backwardIn = new BufferSlice[graph.Nodes.Count][];
        foreach (var node in graph.Nodes)
        {
            var run = new NodeRun(node)
            {
                InShapes = node.Inputs.Select(v => _shapes[v.Id]).ToArray(),
                OutShapes = node.Outputs.Select(v => _shapes[v.Id]).ToArray(),
                InDescs = node.Inputs.Select(DescOf).ToArray(),
                OutDescs = node.Outputs.Select(DescOf).ToArray(),
                Batch = batch,
                In = node.Inputs.Select(v => _values[v.Id]!.Value).ToArray(),
                Out = node.Outputs.Select(v => _values[v.Id]!.Value).ToArray(),
                InGrad = node.Inputs.Select(v => _grads[v.Id]).ToArray(),
                OutGrad = node.Outputs.Select(v => _grads[v.Id]).ToArray(),
                InStrides = Strides(node.Inputs),
                OutStrides = Strides(node.Outputs),
                InAliasesOutput = node.Op.InputsMayAliasOutput ? node.Inputs.Select(v => Plan.View(v)?.Root == node.Outputs[0]).ToArray() : null,
                Params = node.Params.Select(p => Parameters.Slice(Parameters.Values, p)).ToArray(),
                ParamGrads = Plan.HasBackward(node) ? node.Params.Select(p => Parameters.GradSlice(p)!.Value).ToArray() : [],
                States = node.States.Select(p => Parameters.Slice(Parameters.States, p)).ToArray(),
                StepScalar = BufferSlice.Whole(_stepScalar),
                SavedScratch = Plan.SavedScratch(node) is var (block, count, type) ? new BufferSlice(_arena, block.Offset, count, type) : null,
            };
            _runs[node.Index] = run;
            _forwardIn[node.Index] = run.In;
            if (Enumerable.Range(0, node.Inputs.Length).Any(i => RecomputedFor(node, i) is not null))
                _backwardIn[node.Index] = node.Inputs.Select((v, i) => RecomputedFor(node, i) ?? _values[v.Id]!.Value).ToArray();
        }
    }

    public Graph Graph { get; }
    public Backend Backend { get; }
    public int Batch { get; }
    public ExecutorOptions Options { get; }
    /// <summary>Where every value and gradient lives (host info prints it).</summary>
    public MemoryPlan Plan { get; }
    public ParameterBuffers Parameters { get; }
    /// <summary>Seed of stochastic ops; with <see cref="Step"/> it fixes every dropout mask.</summary>
    public ulong Seed { get; set; }
    /// <summary>
    /// The training step, set by the trainer so that a resumed run draws the same masks. Setting it
    /// also writes it to the backend's memory (<see cref="NodeRun.StepScalar"/>), before the step's
    /// work, where kernels of a captured step read it.
    /// </summary>
    public long Step
    {
        get => _step;
        set
        {
            _step = value;
            ReadOnlySpan<int> halves = [(int)(ulong)value, (int)((ulong)value >> 32)];
            Backend.Upload(BufferSlice.Whole(_stepScalar), halves);
        }
    }
    /// <summary>The global index of this executor's first example in the step's batch (data-parallel ranks), so dropout masks are those of one process at the global batch.</summary>
    public long ExampleOffset { get; set; }
    /// <summary>When set, told around every node's forward and backward pass (see <see cref="StepProfiler"/>); null costs nothing.</summary>
    public INodeProfiler? Profiler { get; set; }

    public Shape ShapeOf(Value v) => _shapes[v.Id];

    /// <summary>
    /// How <paramref name="v"/> is stored here: its shape at this batch, the backend's float type (or its
    /// own integer type), and for a 4-D value the backend's layout (other ranks have one layout).
    /// </summary>
    public TensorDesc DescOf(Value v) => new(_shapes[v.Id], v.IsFloat ? Backend.FloatType : v.Type, StoredLayout(v));

    /// <summary>The layout <paramref name="v"/> is stored in: the backend's for 4-D values, NCHW (row-major) for the rest.</summary>
    public Layout StoredLayout(Value v) => _shapes[v.Id].Rank == 4 ? Backend.Layout : Layout.Nchw;

    /// <summary>Sets a graph input from data in <paramref name="layout"/> (NCHW unless said): a copy when it is the stored layout, else transposed into it.</summary>
    public void SetInput(string name, ReadOnlySpan<float> data, Layout layout = Layout.Nchw) =>
        Backend.Upload(InputSlice(name, data.Length, true), Stored(name, data, layout));
    public void SetInput(string name, ReadOnlySpan<double> data, Layout layout = Layout.Nchw) =>
        Backend.Upload(InputSlice(name, data.Length, true), Stored(name, data, layout));
    public void SetInput(string name, ReadOnlySpan<int> data, Layout layout = Layout.Nchw) =>
        Backend.Upload(InputSlice(name, data.Length, false), Stored(name, data, layout));

    private ReadOnlySpan<T> Stored<T>(string name, ReadOnlySpan<T> data, Layout layout)
    {
        var v = Graph.Input(name);
        var stored = StoredLayout(v);
        if (layout == stored || _shapes[v.Id].Rank != 4 || data.Length != _shapes[v.Id].Numel) return data;
        var result = new T[data.Length];
        if (stored == Layout.Nhwc) LayoutTranspose.ToNhwc(data, result, _shapes[v.Id]);
        else LayoutTranspose.ToNchw(data, result, _shapes[v.Id]);
        return result;
    }

    /// <summary>Direct access to a value's storage (for backends' own staging copies); a view's slice spans its samples' whole stride.</summary>
    public BufferSlice ValueSlice(Value v) => _values[v.Id] ?? throw new InvalidOperationException($"{v.Name} has no storage");

    public void Forward(bool training)
    {
        foreach (var run in _runs)
        {
            run.In = _forwardIn[run.Node.Index];
            run.Training = training && !Frozen(run.Node);
            run.Seed = Seed;
            run.Step = Step;
            run.ExampleOffset = ExampleOffset;
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

    /// <summary>Backward from <paramref name="output"/> with the given gradient (e.g. a random projection for gradient checks), in NCHW order as <see cref="Read"/> gives values.</summary>
    public void Backward(Value output, ReadOnlySpan<double> outputGrad)
    {
        if (StoredLayout(output) == Layout.Nhwc && outputGrad.Length == _shapes[output.Id].Numel)
        {
            var stored = new double[outputGrad.Length];
            LayoutTranspose.ToNhwc(outputGrad, stored, _shapes[output.Id]);
            outputGrad = stored;
        }
        if (!Plan.Training) throw new InvalidOperationException($"this executor of '{Graph.Name}' was built for inference only: it has no gradients");
        var seedGrad = _grads[output.Id] ?? throw new InvalidOperationException($"{output.Name} takes no gradient");
        if (!Plan.IsReadable(output))
            throw new InvalidOperationException($"{output.Name} is not an output of '{Graph.Name}', so its gradient's storage is shared before backward; seed backward from an output, or build the executor with ExecutorOptions.KeepAll");
        var reaches = new bool[_shapes.Length];
        reaches[output.Id] = true;
        var active = new List<NodeRun>();
        for (int i = _runs.Length - 1; i >= 0; i--)
        {
            var node = _runs[i].Node;
            if (!Plan.HasBackward(node) || !node.Outputs.Any(o => reaches[o.Id])) continue;
            active.Add(_runs[i]);
            foreach (var v in node.Inputs) if (v.IsFloat) reaches[v.Id] = true;
        }
        var touched = new HashSet<Value>();
        ZeroedInLastBackward.Clear();
        ZeroOnce(output, touched);
        // A uniform seed (d(loss) = 1) is a fill, not a host copy, so that the step can be captured.
        if (outputGrad.Length > 0 && outputGrad.Length == seedGrad.Count && !outputGrad.ContainsAnyExcept(outputGrad[0])) Backend.Fill(seedGrad, outputGrad[0]);
        else Backend.Upload(seedGrad, outputGrad);
        var recomputed = new HashSet<Value>();
        foreach (var run in active)
        {
            foreach (var v in run.Node.Outputs) ZeroOnce(v, touched);
            MarkFirstWriters(run, touched);
            RecomputeInputs(run, recomputed);
            if (Profiler is { } p)
            {
                p.Begin(run.Node, Pass.Backward);
                Backend.Backward(run);
                p.End(run.Node, Pass.Backward);
            }
            else Backend.Backward(run);
        }
    }

    /// <summary>A node of a frozen backbone in a training executor: evaluation mode, no backward.</summary>
    private bool Frozen(Node node) => Plan.Training && !Plan.HasBackward(node);

    /// <summary>A block's bytes in the arena as floats of the backend (tests poison freed blocks through it).</summary>
    internal BufferSlice ArenaFloats(ArenaBlock block) =>
        new(_arena, block.Offset, block.Bytes / Backend.FloatType.Size(), Backend.FloatType);

    /// <summary>
    /// Before the first backward of this pass that reads a recomputed value, its producer writes it
    /// again into its backward block (<see cref="MemoryPlan.RecomputedBlock"/>); backward reads it there.
    /// </summary>
    private void RecomputeInputs(NodeRun run, HashSet<Value> recomputed)
    {
        if (_backwardIn[run.Node.Index] is not { } backwardIn) return;
        for (int i = 0; i < backwardIn.Length; i++)
        {
            var v = run.Node.Inputs[i];
            if (RecomputedFor(run.Node, i) is not { } target || !recomputed.Add(v)) continue;
            // The producer's inputs are kept from forward (the plan recomputes no chains), so it reads them as forward did.
            var producer = _runs[v.Producer!.Index];
            var forwardOut = producer.Out;
            producer.Out = [target];
            try
            {
                Profiler?.BeginSection("recompute");
                Backend.Recompute(producer);
                Profiler?.EndSection("recompute");
            }
            finally { producer.Out = forwardOut; }
        }
        run.In = backwardIn;
    }

    /// <summary>Where <paramref name="node"/>'s backward reads input <paramref name="slot"/> when it is recomputed (null: kept from forward, or not read).</summary>
    private BufferSlice? RecomputedFor(Node node, int slot) =>
        node.Op.BackwardReadsInput(slot) ? _recomputed[node.Inputs[slot].Id] : null;

    /// <summary>
    /// For each input gradient <paramref name="run"/>'s backward writes: the first writer of a whole
    /// gradient in this pass overwrites it when its op can; otherwise the gradient is zeroed first.
    /// A concatenation input's view is part of its root's gradient, which earlier backward passes
    /// (the concatenation's consumers) wrote, so views always accumulate.
    /// </summary>
    private void MarkFirstWriters(NodeRun run, HashSet<Value> touched)
    {
        var inputs = run.Node.Inputs;
        var overwrite = run.InGradOverwrite ??= new bool[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            var v = inputs[i];
            overwrite[i] = false;
            if (run.InGrad[i] is null) continue;
            bool whole = Plan.View(v) is null && Array.IndexOf(inputs, v) == Array.LastIndexOf(inputs, v);
            if (whole && run.Node.Op.OverwritesInputGradient(i) && touched.Add(v)) overwrite[i] = true;
            else ZeroOnce(v, touched);
        }
    }

    /// <summary>Zeroes the storage holding <paramref name="v"/>'s gradient (a view's root, whole) the first time this backward touches it.</summary>
    private void ZeroOnce(Value v, HashSet<Value> touched)
    {
        var unit = Plan.View(v)?.Root ?? v;
        if (_gradBlocks[unit.Id] is { } block && touched.Add(unit))
        {
            Backend.Zero(ArenaFloats(block));
            ZeroedInLastBackward.Add(unit);
        }
    }

    /// <summary>The gradients the last backward zeroed because their first writer could not overwrite them (tests).</summary>
    internal List<Value> ZeroedInLastBackward { get; } = [];

    // Reads return NCHW order whatever the stored layout, so callers see one order (ReadStored: as stored).
    public double[] Read(Value v) => Nchw(v, Download<double>(v, gradient: false));
    public float[] ReadFloat(Value v) => Nchw(v, Download<float>(v, gradient: false));
    public int[] ReadInt(Value v) => Nchw(v, Download<int>(v, gradient: false));
    /// <summary>The gradient of the last backward with respect to <paramref name="v"/> (NCHW order).</summary>
    public double[] ReadGrad(Value v) => Nchw(v, Download<double>(v, gradient: true));
    /// <summary>A value's elements in its stored order (<see cref="StoredLayout"/>); tests check the storage through it.</summary>
    public double[] ReadStored(Value v, bool gradient = false) => Download<double>(v, gradient);

    private T[] Nchw<T>(Value v, T[] stored) => LayoutTranspose.Convert(stored, _shapes[v.Id], StoredLayout(v), Layout.Nchw);

    public Tensor<double> ReadTensor(Value v) => new(_shapes[v.Id], Read(v));

    private T[] Download<T>(Value v, bool gradient) where T : unmanaged
    {
        var slice = (gradient ? _grads[v.Id] : _values[v.Id])
            ?? throw new InvalidOperationException($"{v.Name} has no {(gradient ? "gradient" : "value")} storage in this executor");
        if (!Plan.IsReadable(v))
            throw new InvalidOperationException($"{v.Name} is not kept after the step by the memory plan of '{Graph.Name}' (its storage is reused); read the graph's outputs, or build the executor with ExecutorOptions.KeepAll");
        var raw = new T[slice.Count];
        switch (raw)
        {
            case double[] d: Backend.Download(slice, d); break;
            case float[] f: Backend.Download(slice, f); break;
            case int[] n: Backend.Download(slice, n); break;
        }
        if (Plan.View(v) is not { } view) return raw;
        // A view holds one block per sample, the root's per-sample size apart.
        long perSample = _shapes[v.Id].Numel / Batch;
        var packed = new T[_shapes[v.Id].Numel];
        for (int b = 0; b < Batch; b++) Array.Copy(raw, b * view.SampleStride, packed, b * perSample, perSample);
        return packed;
    }

    private BufferSlice InputSlice(string name, int length, bool isFloat)
    {
        var v = Graph.Input(name);
        if (v.IsFloat != isFloat) throw new ArgumentException($"input '{name}' takes {(v.IsFloat ? "float" : "integer")} data");
        if (length != _shapes[v.Id].Numel)
            throw new ArgumentException($"input '{name}' of shape {_shapes[v.Id]} needs {_shapes[v.Id].Numel} values, got {length}");
        return _values[v.Id]!.Value;
    }

    /// <summary>A value's elements in the arena: for a view, from its first sample's start through its last sample's end.</summary>
    private BufferSlice Slice(ArenaBlock block, Value v)
    {
        var type = v.IsFloat ? Backend.FloatType : v.Type;
        var shape = _shapes[v.Id];
        if (Plan.View(v) is not { } view) return new BufferSlice(_arena, block.Offset, shape.Numel, type);
        long perSample = shape.Numel / Batch;
        return new BufferSlice(_arena, block.Offset + view.ByteOffset, (Batch - 1) * view.SampleStride + perSample, type);
    }

    private long[]? Strides(Value[] values) =>
        values.Any(v => Plan.View(v) is not null) ? values.Select(v => Plan.View(v)?.SampleStride ?? _shapes[v.Id].Numel / Batch).ToArray() : null;

    public void Dispose()
    {
        // Per-node backend state may hold device memory and native descriptors (CUDA backend).
        foreach (var run in _runs) (run.BackendState as IDisposable)?.Dispose();
        _arena.Dispose();
        _stepScalar.Dispose();
        if (_ownsParameters) Parameters.Dispose();
    }
}
