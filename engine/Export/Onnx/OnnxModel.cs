namespace Engine.Export.Onnx;

/// <summary>TensorProto.DataType values used here (onnx.proto).</summary>
public enum OnnxType { Float = 1, Int64 = 7 }

/// <summary>One attribute of a node: an int, a float, a string, or a list of ints.</summary>
public sealed record OnnxAttribute(string Name, long? Int = null, float? Float = null, string? String = null, long[]? Ints = null)
{
    public static implicit operator OnnxAttribute((string Name, long Value) a) => new(a.Name, Int: a.Value);
    public static implicit operator OnnxAttribute((string Name, float Value) a) => new(a.Name, Float: a.Value);
    public static implicit operator OnnxAttribute((string Name, string Value) a) => new(a.Name, String: a.Value);
    public static implicit operator OnnxAttribute((string Name, long[] Value) a) => new(a.Name, Ints: a.Value);
}

/// <summary>One operator application; an empty input name stands for an omitted optional input.</summary>
public sealed record OnnxNode(string OpType, string Name, string[] Inputs, string[] Outputs, OnnxAttribute[] Attributes);

/// <summary>
/// A constant tensor (an initializer) in raw_data, which the spec fixes as little-endian: the bytes are copied
/// from memory, so this holds on the little-endian platforms .NET runs on (x64, Arm64).
/// </summary>
public sealed record OnnxTensor(string Name, OnnxType Type, long[] Dims, byte[] Raw)
{
    public static OnnxTensor Floats(string name, long[] dims, ReadOnlySpan<float> values) =>
        new(name, OnnxType.Float, dims, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray());

    public static OnnxTensor Int64s(string name, params long[] values) =>
        new(name, OnnxType.Int64, [values.Length], System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
}

/// <summary>A graph input or output: name, element type, and each dimension as a number or a symbolic name ("N").</summary>
public sealed record OnnxValueInfo(string Name, OnnxType Type, object[] Dims);

public sealed record OnnxGraph(string Name, IReadOnlyList<OnnxNode> Nodes, IReadOnlyList<OnnxTensor> Initializers,
    IReadOnlyList<OnnxValueInfo> Inputs, IReadOnlyList<OnnxValueInfo> Outputs);

/// <summary>
/// The ONNX messages (onnx.proto, IR version 8) encoded with <see cref="ProtoMessage"/>; field
/// numbers as in onnx.proto: ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
/// ValueInfoProto (TypeProto.Tensor, TensorShapeProto) and OperatorSetIdProto.
/// </summary>
public static class OnnxModel
{
    /// <summary>IR version 8 is the one ONNX 1.13 pairs with opset 18.</summary>
    public const long IrVersion = 8;

    /// <summary>Writes the ModelProto; <paramref name="metadata"/> becomes its metadata_props (key/value strings runtimes show).</summary>
    public static void Write(Stream stream, OnnxGraph graph, int opset, string producer, string producerVersion,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Model(graph, opset, producer, producerVersion, metadata).WriteTo(stream);

    public static byte[] ToBytes(OnnxGraph graph, int opset, string producer, string producerVersion,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Model(graph, opset, producer, producerVersion, metadata).ToArray();

    private static ProtoMessage Model(OnnxGraph graph, int opset, string producer, string producerVersion, IReadOnlyDictionary<string, string>? metadata)
    {
        var m = new ProtoMessage()
            .Int(1, IrVersion)
            .String(2, producer)
            .String(3, producerVersion)
            .Message(7, Graph(graph))
            .Message(8, new ProtoMessage().String(1, "").Int(2, opset));
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
            m.Message(14, new ProtoMessage().String(1, key).String(2, value));
        return m;
    }

    private static ProtoMessage Graph(OnnxGraph g)
    {
        var m = new ProtoMessage();
        foreach (var n in g.Nodes) m.Message(1, Node(n));
        m.String(2, g.Name);
        foreach (var t in g.Initializers) m.Message(5, Tensor(t));
        foreach (var v in g.Inputs) m.Message(11, ValueInfo(v));
        foreach (var v in g.Outputs) m.Message(12, ValueInfo(v));
        return m;
    }

    private static ProtoMessage Node(OnnxNode n)
    {
        var m = new ProtoMessage();
        foreach (var i in n.Inputs) m.String(1, i);
        foreach (var o in n.Outputs) m.String(2, o);
        m.String(3, n.Name).String(4, n.OpType);
        foreach (var a in n.Attributes) m.Message(5, Attribute(a));
        return m;
    }

    // AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, INTS 7.
    private static ProtoMessage Attribute(OnnxAttribute a)
    {
        var m = new ProtoMessage().String(1, a.Name);
        if (a.Int is long i) return m.Int(20, 2).Int(3, i);
        if (a.Float is float f) return m.Int(20, 1).Float(2, f);
        if (a.String is { } s) return m.Int(20, 3).String(4, s);
        m.Int(20, 7);
        foreach (var v in a.Ints ?? throw new ArgumentException($"attribute {a.Name} has no value")) m.Int(8, v);
        return m;
    }

    private static ProtoMessage Tensor(OnnxTensor t)
    {
        var m = new ProtoMessage();
        foreach (var d in t.Dims) m.Int(1, d);
        return m.Int(2, (int)t.Type).String(8, t.Name).Bytes(9, t.Raw);
    }

    private static ProtoMessage ValueInfo(OnnxValueInfo v)
    {
        var shape = new ProtoMessage();
        foreach (var d in v.Dims)
            shape.Message(1, d is string name ? new ProtoMessage().String(2, name) : new ProtoMessage().Int(1, Convert.ToInt64(d)));
        var tensorType = new ProtoMessage().Int(1, (int)v.Type).Message(2, shape);
        return new ProtoMessage().String(1, v.Name).Message(2, new ProtoMessage().Message(1, tensorType));
    }
}
