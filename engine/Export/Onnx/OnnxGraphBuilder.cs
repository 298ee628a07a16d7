using System.Runtime.InteropServices;
using Engine.Graph;

namespace Engine.Export.Onnx;

/// <summary>
/// The state of one export: the nodes and initializers emitted so far, the ONNX name of each
/// engine value (its own name, except where a removed node passes its input on), and the
/// engine's parameters and states, read into initializers one tensor at a time.
/// </summary>
internal sealed class OnnxGraphBuilder(ParameterBuffers parameters)
{
    private readonly List<OnnxNode> _nodes = [];
    private readonly List<OnnxTensor> _initializers = [];
    private readonly Dictionary<Value, string> _names = [];
    private readonly HashSet<string> _used = [];
    private readonly HashSet<string> _nodeNames = [];

    public IReadOnlyList<OnnxNode> Nodes => _nodes;
    public IReadOnlyList<OnnxTensor> Initializers => _initializers;

    /// <summary>The ONNX name of <paramref name="v"/>.</summary>
    public string Name(Value v) => _names.TryGetValue(v, out var name) ? name : v.Name;

    /// <summary>Gives <paramref name="v"/> another ONNX name: a published output's, or its input's when its node is removed.</summary>
    public void Rename(Value v, string name) => _names[v] = name;

    /// <summary>A fresh name for an intermediate tensor of node <paramref name="owner"/>.</summary>
    public string Temp(Node owner, string suffix)
    {
        string name = $"{owner.Name}/{suffix}";
        for (int i = 2; !_used.Add(name); i++) name = $"{owner.Name}/{suffix}_{i}";
        return name;
    }

    /// <summary>An ONNX node for engine node <paramref name="owner"/>: the first takes its name, any further one "owner/OpType".</summary>
    public void Add(string opType, Node owner, string[] inputs, string[] outputs, params OnnxAttribute[] attributes)
    {
        string name = owner.Name;
        for (int i = 2; !_nodeNames.Add(name); i++) name = i == 2 ? $"{owner.Name}/{opType}" : $"{owner.Name}/{opType}_{i}";
        _nodes.Add(new OnnxNode(opType, name, inputs, outputs, attributes));
    }

    /// <summary>Parameter <paramref name="index"/> of <paramref name="n"/> as an initializer named like the engine's parameter; <paramref name="dims"/> reshapes it.</summary>
    public string Parameter(Node n, int index, long[]? dims = null) => Initializer(n.Params[index], parameters.Values, dims);

    /// <summary>State <paramref name="index"/> of <paramref name="n"/> (BN's running statistics) as an initializer.</summary>
    public string State(Node n, int index) => Initializer(n.States[index], parameters.States, null);

    /// <summary>The view's values as float32, downloaded straight into the tensor's bytes (VGG's weights are half a gigabyte).</summary>
    private string Initializer(ParamView view, Engine.Graph.Buffer source, long[]? dims)
    {
        var raw = new byte[checked(view.Count * sizeof(float))];
        parameters.Backend.Download(parameters.Slice(source, view), MemoryMarshal.Cast<byte, float>(raw.AsSpan()));
        dims ??= view.Shape.Dims.ToArray().Select(d => (long)d).ToArray();
        _initializers.Add(new OnnxTensor(view.Name, OnnxType.Float, dims, raw));
        _used.Add(view.Name);
        return view.Name;
    }

    /// <summary>A constant of the export's own (a shape, scales) named after its node.</summary>
    public string Constant(Node owner, string suffix, OnnxTensor value)
    {
        string name = Temp(owner, suffix);
        _initializers.Add(value with { Name = name });
        return name;
    }
}
