using Engine.Tensors;

namespace Engine.Graph.Memory;

/// <summary>
/// Where every value and gradient of one executor lives: one arena, packed by lifetime over the
/// step's timeline (forward node i at step i; in training, backward of node i at step 2F-1-i).
/// A value lives from its producer's forward to its last reader: a later forward consumer, or the
/// backward of a node that declares it reads it (<see cref="OpBase.BackwardReadsInput"/>,
/// <see cref="OpBase.BackwardReadsOutput"/>). A gradient lives from the backward of its value's
/// last consumer to the backward of its producer. The graph's inputs and outputs (and values
/// nothing consumes) live for the whole step, so they can be read afterwards. A concatenation's
/// eligible inputs are views into it (<see cref="ConcatViews"/>). An output its op can recompute
/// (<see cref="OpBase.CanRecomputeOutput"/>) lives to its last forward reader, and again, in a
/// block of its own, from the first to the last backward that reads it. A frozen backbone
/// (<see cref="ExecutorOptions.FreezeBackbone"/>) has no backward passes: what only they read dies
/// after forward and its values have no gradients. Fixed at construction.
/// </summary>
public sealed class MemoryPlan
{
    private readonly Dictionary<Value, ArenaBlock> _valueBlocks = [];
    private readonly Dictionary<Value, ArenaBlock> _gradBlocks = [];
    private readonly Dictionary<Value, ViewPlacement> _views;
    private readonly Dictionary<Value, Value> _inPlace = [];   // output -> the value whose storage it took
    private readonly HashSet<Value> _overwritten = [];
    private readonly Dictionary<Value, ArenaBlock> _recomputed = [];
    private readonly Dictionary<Node, (ArenaBlock Block, long Count, DataType Type)> _saved = [];
    private readonly int _frozenNodes;

    public MemoryPlan(Graph graph, Shape[] shapes, DataType floatType, ExecutorOptions options)
    {
        Graph = graph;
        Options = options;
        FloatType = floatType;
        int forward = graph.Nodes.Count;
        Training = !options.InferenceOnly;
        Steps = Training ? 2 * forward : forward;
        int last = Math.Max(Steps - 1, 0);
        int Backward(Node n) => 2 * forward - 1 - n.Index;
        if (Training && options.FreezeBackbone && !graph.HasBackbone) throw new NoBackboneException(graph.Name);
        _frozenNodes = Training && options.FreezeBackbone ? graph.BackboneNodeCount : 0;

        var consumers = ConcatViews.Consumers(graph);
        _views = options.ConcatViews ? ConcatViews.Find(graph, shapes, floatType.Size()) : [];
        var retained = Retained(graph, consumers, options.KeepAll);
        // In node order, so that a recomputed value's producer reads only values kept from forward.
        var recompute = new HashSet<Value>();
        if (Training && options.Recompute && !options.KeepAll)
            foreach (var v in AllValues(graph))
                if (Recomputable(v, consumers, retained) && HasBackward(v.Producer!) && !v.Producer!.Inputs.Any(recompute.Contains)) recompute.Add(v);

        // Values: producer's forward to the last reader.
        foreach (var v in AllValues(graph))
        {
            int start = v.Producer?.Index ?? 0, end = start;
            int firstBackwardRead = int.MaxValue, lastBackwardRead = -1;
            foreach (var (node, slot) in consumers[v])
            {
                end = Math.Max(end, node.Index);
                if (!HasBackward(node) || !node.Op.BackwardReadsInput(slot)) continue;
                firstBackwardRead = Math.Min(firstBackwardRead, Backward(node));
                lastBackwardRead = Math.Max(lastBackwardRead, Backward(node));
            }
            if (recompute.Contains(v))
                _recomputed[v] = new ArenaBlock(v.Name + " (recomputed)", Bytes(shapes[v.Id], v), firstBackwardRead, lastBackwardRead);
            else end = Math.Max(end, lastBackwardRead);
            if (v.Producer is { } p && HasBackward(p) && p.Op.BackwardReadsOutput(v.Index)) end = Math.Max(end, Backward(p));
            if (retained.Contains(v)) (start, end) = (options.KeepAll ? 0 : start, last);
            _valueBlocks[v] = new ArenaBlock(v.Name, Bytes(shapes[v.Id], v), start, end);
        }

        if (!options.KeepAll) ShareInPlace(graph, shapes, retained);

        // Gradients: from the first backward that can write one (its last consumer's) to its producer's backward.
        if (Training)
            foreach (var v in AllValues(graph).Where(v => TakesGradient(v, consumers)))
            {
                int start = consumers[v].Count == 0 || retained.Contains(v) ? forward : consumers[v].Min(c => Backward(c.Node));
                int end = v.Producer is { } p ? Backward(p) : last;
                if (retained.Contains(v) || v.Producer is null) end = last;
                if (options.KeepAll) start = 0;
                _gradBlocks[v] = new ArenaBlock(v.Name + " (gradient)", Bytes(shapes[v.Id], v), start, Math.Max(start, end));
            }

        // What a node keeps for its own backward besides its outputs: its forward through its backward.
        foreach (var node in graph.Nodes)
            if (node.Op.SavedScratch(node.Inputs.Select(v => shapes[v.Id]).ToArray(), node.Outputs.Select(v => shapes[v.Id]).ToArray()) is var (count, type))
            {
                var (start, end) = options.KeepAll ? (0, last) : (node.Index, HasBackward(node) ? Backward(node) : node.Index);
                _saved[node] = (new ArenaBlock(node.Name + " (saved)", count * type.Size(), start, end), count, type);
            }

        // A view's storage is its root's: the root's block covers the view's whole life.
        foreach (var (view, placement) in _views)
        {
            Widen(_valueBlocks[placement.Root], _valueBlocks[view]);
            _valueBlocks.Remove(view);
            if (_gradBlocks.Remove(view, out var g) && _gradBlocks.TryGetValue(placement.Root, out var rootGrad)) Widen(rootGrad, g);
        }

        Blocks = [.. _valueBlocks.Values, .. _recomputed.Values, .. _saved.Values.Select(s => s.Block), .. _gradBlocks.Values];
        KeepEverythingBytes = AllValues(graph).Sum(v => ArenaPacker.Align(Bytes(shapes[v.Id], v)) *
            (TakesGradient(v, consumers) ? 2 : 1))
            + _saved.Values.Sum(s => ArenaPacker.Align(s.Block.Bytes));
        if (options.KeepAll)
        {
            long offset = 0;
            foreach (var b in Blocks) { b.Offset = offset; offset += ArenaPacker.Align(b.Bytes); }
            ArenaBytes = offset;
            Strategy = "none (keep everything)";
            return;
        }
        long freeList = ArenaPacker.FreeListReuse(Blocks);
        var freeListOffsets = Blocks.Select(b => b.Offset).ToArray();
        long bestFit = ArenaPacker.BestFitDecreasingSize(Blocks);
        FreeListBytes = freeList;
        BestFitBytes = bestFit;
        if (freeList < bestFit)
        {
            for (int i = 0; i < Blocks.Count; i++) Blocks[i].Offset = freeListOffsets[i];
            ArenaBytes = freeList;
            Strategy = "free-list reuse (MXNet)";
        }
        else
        {
            ArenaBytes = bestFit;
            Strategy = "best fit, decreasing size (XLA)";
        }
    }

    public Graph Graph { get; }
    public ExecutorOptions Options { get; }

    /// <summary>Whether <paramref name="node"/> has a backward pass in this plan: every node in training, but a frozen backbone's.</summary>
    public bool HasBackward(Node node) => Training && node.Index >= _frozenNodes;

    /// <summary>
    /// A float value's gradient is computed when a backward pass writes it: a node's output when
    /// the node has one, a graph input when asked (<see cref="ExecutorOptions.InputGradients"/>) and read by such a node.
    /// </summary>
    private bool TakesGradient(Value v, Dictionary<Value, List<(Node Node, int Slot)>> consumers) =>
        Training && v.IsFloat && (v.Producer is { } p ? HasBackward(p) : Options.InputGradients && (_frozenNodes == 0 || consumers[v].Any(c => HasBackward(c.Node))));

    public DataType FloatType { get; }
    public bool Training { get; }
    /// <summary>Steps of the timeline: forward nodes, then (training) their backward passes.</summary>
    public int Steps { get; }
    public IReadOnlyList<ArenaBlock> Blocks { get; }
    /// <summary>The arena: every value and gradient that is not a view, packed.</summary>
    public long ArenaBytes { get; }
    /// <summary>What the two packing strategies needed (0 when nothing was shared).</summary>
    public long BestFitBytes { get; }
    public long FreeListBytes { get; }
    public string Strategy { get; }
    /// <summary>The most bytes alive at one step: no packing can do with less.</summary>
    public long PeakAliveBytes => Steps == 0 ? 0 : AliveBytes(PeakStep);
    /// <summary>The first step at which <see cref="PeakAliveBytes"/> are alive.</summary>
    public int PeakStep => Steps == 0 ? 0 : Enumerable.Range(0, Steps).MaxBy(AliveBytes);
    /// <summary>The blocks alive at <paramref name="step"/>, largest first.</summary>
    public IEnumerable<ArenaBlock> AliveAt(int step) => Blocks.Where(b => b.Start <= step && step <= b.End).OrderByDescending(b => b.Bytes);
    public long AliveBytes(int step) => AliveAt(step).Sum(b => ArenaPacker.Align(b.Bytes));
    /// <summary>What runs at <paramref name="step"/>: "forward of X" or "backward of X".</summary>
    public string StepName(int step) => step < Graph.Nodes.Count
        ? $"forward of {Graph.Nodes[step].Name}"
        : $"backward of {Graph.Nodes[2 * Graph.Nodes.Count - 1 - step].Name}";
    /// <summary>Every value and gradient in storage of its own for the executor's life (the executor before planning).</summary>
    public long KeepEverythingBytes { get; }

    public ArenaBlock ValueBlock(Value v) => _valueBlocks[Storage(v)];
    public ArenaBlock? GradientBlock(Value v) => _gradBlocks.GetValueOrDefault(_views.TryGetValue(v, out var p) ? p.Root : v);
    public bool HasGradient(Value v) => GradientBlock(v) is not null;
    /// <summary>Where a view lies in its root, or null for a value with storage of its own.</summary>
    public ViewPlacement? View(Value v) => _views.TryGetValue(v, out var p) ? p : null;
    public int ViewCount => _views.Count;
    /// <summary>Where <paramref name="v"/> is recomputed for backward, or null when it is kept from forward.</summary>
    public ArenaBlock? RecomputedBlock(Value v) => _recomputed.GetValueOrDefault(v);
    public int RecomputedCount => _recomputed.Count;
    /// <summary>Where <paramref name="node"/>'s saved scratch (<see cref="OpBase.SavedScratch"/>) lives, or null.</summary>
    public (ArenaBlock Block, long Count, DataType Type)? SavedScratch(Node node) => _saved.TryGetValue(node, out var s) ? s : null;
    /// <summary>Whether the value stays readable after the step (inputs, outputs, unconsumed values; all with KeepAll).</summary>
    public bool IsReadable(Value v) => !_overwritten.Contains(v) && (ValueBlock(v).End == Steps - 1 || Steps == 0);
    /// <summary>Outputs written over their input (<see cref="Ops.Op.InPlaceInput"/>).</summary>
    public int InPlaceCount => _inPlace.Count;

    /// <summary>The value whose block holds <paramref name="v"/>: its concatenation for a view, the input it overwrote for an in-place output.</summary>
    private Value Storage(Value v)
    {
        if (_views.TryGetValue(v, out var p)) v = p.Root;
        while (_inPlace.TryGetValue(v, out var under)) v = under;
        return v;
    }

    /// <summary>
    /// An output the op may write over its input takes the input's block when nothing reads the
    /// input after this node (no later consumer, no backward that reads it) and neither is a
    /// graph input or output, a view or a concatenation holding views.
    /// </summary>
    private void ShareInPlace(Graph graph, Shape[] shapes, HashSet<Value> retained)
    {
        var roots = _views.Values.Select(p => p.Root).ToHashSet();
        bool Plain(Value v) => v.IsFloat && v.Producer is not null && !retained.Contains(v) && !_views.ContainsKey(v) && !roots.Contains(v);
        foreach (var node in graph.Nodes)
            for (int o = 0; o < node.Outputs.Length; o++)
            {
                if (node.Op.InPlaceInput(o) is not int i) continue;
                var (x, y) = (node.Inputs[i], node.Outputs[o]);
                if (!Plain(x) || !y.IsFloat || _views.ContainsKey(y) || roots.Contains(y)) continue;
                if (shapes[x.Id].Numel != shapes[y.Id].Numel || node.Inputs.Count(v => v == x) > 1) continue;
                var block = _valueBlocks[Storage(x)];
                if (block.End != node.Index) continue;
                block.End = Math.Max(block.End, _valueBlocks[y].End);
                _valueBlocks.Remove(y);
                _inPlace[y] = Storage(x);
                _overwritten.Add(x);
            }
    }

    /// <summary>
    /// An output worth recomputing: its op can, it is the op's only output, backward reads it,
    /// and it is plain storage (not kept after the step, not a view or a concatenation).
    /// </summary>
    private bool Recomputable(Value v, Dictionary<Value, List<(Node Node, int Slot)>> consumers, HashSet<Value> retained)
    {
        if (v.Producer is not { } p || !p.Op.CanRecomputeOutput || p.Outputs.Length != 1 || !v.IsFloat) return false;
        if (p.Op.BackwardReadsOutput(0) || !Enumerable.Range(0, p.Inputs.Length).All(p.Op.BackwardReadsInput)) return false;
        if (retained.Contains(v) || _views.ContainsKey(v) || _views.Values.Any(placement => placement.Root == v)) return false;
        return consumers[v].Any(c => c.Node.Op.BackwardReadsInput(c.Slot));
    }

    /// <summary>Every value's shape at <paramref name="batch"/>, by value id.</summary>
    public static Shape[] Shapes(Graph graph, int batch)
    {
        var shapes = new Shape[graph.ValueCount];
        foreach (var v in graph.Inputs) shapes[v.Id] = v.Shape.WithBatch(batch);
        foreach (var node in graph.Nodes)
        {
            var outShapes = node.Op.InferShapes(node.Inputs.Select(v => shapes[v.Id]).ToArray());
            for (int i = 0; i < node.Outputs.Length; i++) shapes[node.Outputs[i].Id] = outShapes[i];
        }
        return shapes;
    }

    private long Bytes(Shape s, Value v) => s.Numel * (v.IsFloat ? FloatType : v.Type).Size();

    private static void Widen(ArenaBlock root, ArenaBlock part)
    {
        root.Start = Math.Min(root.Start, part.Start);
        root.End = Math.Max(root.End, part.End);
    }

    private static IEnumerable<Value> AllValues(Graph graph) => graph.Inputs.Concat(graph.Nodes.SelectMany(n => n.Outputs));

    private static HashSet<Value> Retained(Graph graph, Dictionary<Value, List<(Node Node, int Slot)>> consumers, bool keepAll)
    {
        if (keepAll) return [.. AllValues(graph)];
        var kept = new HashSet<Value>(graph.Inputs);
        kept.UnionWith(graph.Outputs.Values);
        kept.UnionWith(AllValues(graph).Where(v => consumers[v].Count == 0));
        return kept;
    }
}
