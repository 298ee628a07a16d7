using Engine.Tensors;

namespace Engine.Graph;

/// <summary>
/// Builds a graph eagerly: every node's shapes are inferred as it is added (at batch 1), so
/// an input a layer cannot take is reported at that layer by name. Layer helpers
/// (<c>b.Conv2d(x, ...)</c>) are extension methods in <see cref="Layers"/>, one per op file.
/// </summary>
public sealed class GraphBuilder(string name)
{
    private readonly List<Node> _nodes = [];
    private readonly List<Value> _inputs = [];
    private readonly Dictionary<string, Value> _outputs = [];
    private readonly ParameterLayout _params = new();
    private readonly ParameterLayout _states = new();
    private readonly HashSet<string> _nodeNames = [];
    private readonly Stack<string> _scopes = new();
    private int _valueCount;
    private Value? _loss;
    private int _backboneNodes;
    private long _backboneParameters;
    private bool _backboneOpen;

    public string Name { get; } = name;

    /// <summary>
    /// Whether composite helpers (the nets' conv units) emit batch norm and its activation as one
    /// fused node that recomputes the normalised value in backward; false keeps them apart (tests).
    /// </summary>
    public bool FuseNormActivation { get; init; } = true;

    /// <summary>The ranks whose batches synchronised batch norm (the nets' <c>Norm.SyncBatch</c>) takes its statistics over.</summary>
    public Distributed.ICollectives? NormGroup { get; init; }

    /// <summary>A graph input; <paramref name="sampleShape"/> excludes the batch dimension.</summary>
    public Value Input(string name, Shape sampleShape, bool isInt = false) => Input(name, sampleShape, isInt ? DataType.I32 : DataType.F32);

    /// <summary>A graph input of element type <paramref name="type"/> (F32: float data in the executor's precision; I32: labels).</summary>
    public Value Input(string name, Shape sampleShape, DataType type)
    {
        var v = new Value(_valueCount++, null, 0, sampleShape.Prepend(1), type, name);
        _inputs.Add(v);
        return v;
    }

    /// <summary>Prefixes names of the nodes added inside the returned scope with "<paramref name="scope"/>.".</summary>
    public IDisposable Scope(string scope)
    {
        _scopes.Push(scope);
        return new PopScope(_scopes);
    }

    /// <summary>
    /// Marks the nodes added inside the returned scope as the net's backbone, the part
    /// `--freeze backbone` holds fixed. It must be built first (the graph's inputs aside), so its
    /// nodes are a prefix of the graph and its parameters a prefix of the parameter layout: nothing
    /// in it then reads a trainable value, and the trainable parameters are one contiguous range.
    /// </summary>
    public IDisposable Backbone()
    {
        if (_nodes.Count > 0 || _backboneOpen) throw new InvalidOperationException($"{Name}: a backbone is declared once, before any other layer");
        _backboneOpen = true;
        return new EndBackbone(this);
    }

    public string Qualify(string name) => _scopes.Count == 0 ? name : string.Join('.', _scopes.Reverse()) + "." + name;

    /// <summary>Adds a node and returns its outputs.</summary>
    public Value[] Add(OpBase op, string name, params Value[] inputs)
    {
        var full = Qualify(name);
        if (!_nodeNames.Add(full)) throw new ArgumentException($"layer name '{full}' used twice");
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i].Type != op.InputType(i))
                throw new ShapeException($"{full}: input {i} ({inputs[i].Name}) must be {(op.InputType(i).IsFloat() ? "a float" : "an integer")} tensor");
        var inShapes = inputs.Select(v => v.Shape).ToArray();
        Shape[] outShapes;
        try { outShapes = op.InferShapes(inShapes); }
        catch (ShapeException e)
        {
            throw new ShapeException($"layer {full} ({op.Type}) cannot take input {string.Join(", ", inShapes.Select(s => s.DropFirst()))}: {e.Message}");
        }
        var node = new Node(_nodes.Count, full, op, inputs);
        node.Outputs = outShapes.Select((s, i) =>
            new Value(_valueCount++, node, i, s, op.OutputType(i), i == 0 ? full : $"{full}:{i}")).ToArray();
        node.Params = op.Parameters(inShapes).Select(p => _params.Add($"{full}.{p.Name}", p)).ToArray();
        node.States = op.States(inShapes).Select(p => _states.Add($"{full}.{p.Name}", p)).ToArray();
        _nodes.Add(node);
        return node.Outputs;
    }

    /// <summary>Adds a single-output node.</summary>
    public Value Add1(OpBase op, string name, params Value[] inputs) => Add(op, name, inputs)[0];

    /// <summary>A unique node name within the current scope: "relu", then "relu_1", ...</summary>
    public string Unique(string stem)
    {
        if (!_nodeNames.Contains(Qualify(stem))) return stem;
        for (int i = 1; ; i++)
            if (!_nodeNames.Contains(Qualify($"{stem}_{i}"))) return $"{stem}_{i}";
    }

    public void Output(string name, Value v) => _outputs[name] = v;

    public void SetLoss(Value v)
    {
        if (v.Shape.Numel != 1) throw new ArgumentException($"loss must be a scalar, got {v.Shape}");
        _loss = v;
        _outputs["loss"] = v;
    }

    public Graph Build() => new(Name, [.. _nodes], [.. _inputs], new(_outputs), _loss, _params, _states, _valueCount)
    {
        BackboneNodeCount = _backboneNodes, BackboneParameterCount = _backboneParameters,
    };

    private sealed class EndBackbone(GraphBuilder b) : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            (b._backboneNodes, b._backboneParameters, _done) = (b._nodes.Count, b._params.Count, true);
        }
    }

    private sealed class PopScope(Stack<string> scopes) : IDisposable
    {
        private bool _done;
        public void Dispose() { if (!_done) { scopes.Pop(); _done = true; } }
    }
}

