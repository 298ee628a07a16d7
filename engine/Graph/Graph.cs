namespace Engine.Graph;

/// <summary>A built network: nodes in execution order, its inputs, named outputs, loss, and parameter layouts.</summary>
public sealed class Graph
{
    internal Graph(string name, List<Node> nodes, List<Value> inputs, Dictionary<string, Value> outputs,
        Value? loss, ParameterLayout parameters, ParameterLayout states, int valueCount)
    {
        Name = name; Nodes = nodes; Inputs = inputs; Outputs = outputs; Loss = loss;
        Parameters = parameters; States = states; ValueCount = valueCount;
    }

    public string Name { get; }
    public IReadOnlyList<Node> Nodes { get; }
    public IReadOnlyList<Value> Inputs { get; }
    public IReadOnlyDictionary<string, Value> Outputs { get; }
    /// <summary>The scalar the trainer minimises, if the graph has one.</summary>
    public Value? Loss { get; }
    public ParameterLayout Parameters { get; }
    public ParameterLayout States { get; }
    internal int ValueCount { get; }

    /// <summary>How many of the first nodes form the net's backbone (<see cref="GraphBuilder.Backbone"/>); 0: none declared.</summary>
    public int BackboneNodeCount { get; internal init; }
    /// <summary>The backbone's parameters: the first this many of the layout.</summary>
    public long BackboneParameterCount { get; internal init; }
    public bool HasBackbone => BackboneNodeCount > 0;
    public bool InBackbone(Node n) => n.Index < BackboneNodeCount;

    /// <summary>Parameters held fixed (a prefix of the layout): the backbone's when it is frozen, else none.</summary>
    public long FrozenParameterCount(bool freezeBackbone)
    {
        if (freezeBackbone && !HasBackbone) throw new NoBackboneException(Name);
        return freezeBackbone ? BackboneParameterCount : 0;
    }

    public Value Input(string name) => Inputs.FirstOrDefault(v => v.Name == name)
        ?? throw new KeyNotFoundException($"graph '{Name}' has no input '{name}' (inputs: {string.Join(", ", Inputs.Select(i => i.Name))})");

    public Value Output(string name) => Outputs.TryGetValue(name, out var v) ? v
        : throw new KeyNotFoundException($"graph '{Name}' has no output '{name}' (outputs: {string.Join(", ", Outputs.Keys)})");

    /// <summary>Total multiply-accumulates of one forward pass per image.</summary>
    public long MultiplyAccumulates => Nodes.Sum(n => n.Op.MultiplyAccumulates(
        n.Inputs.Select(i => i.Shape).ToArray(), n.Outputs.Select(o => o.Shape).ToArray()));
}

/// <summary>`--freeze backbone` asked of a net that declares no backbone.</summary>
public sealed class NoBackboneException(string net)
    : InvalidOperationException($"{net} declares no backbone to freeze (the vovnet57 nets and vovnet57-seg do)")
{
    public string Net { get; } = net;
}
