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

    public Value Input(string name) => Inputs.FirstOrDefault(v => v.Name == name)
        ?? throw new KeyNotFoundException($"graph '{Name}' has no input '{name}' (inputs: {string.Join(", ", Inputs.Select(i => i.Name))})");

    public Value Output(string name) => Outputs.TryGetValue(name, out var v) ? v
        : throw new KeyNotFoundException($"graph '{Name}' has no output '{name}' (outputs: {string.Join(", ", Outputs.Keys)})");

    /// <summary>Total multiply-accumulates of one forward pass per image.</summary>
    public long MultiplyAccumulates => Nodes.Sum(n => n.Op.MultiplyAccumulates(
        n.Inputs.Select(i => i.Shape).ToArray(), n.Outputs.Select(o => o.Shape).ToArray()));
}
