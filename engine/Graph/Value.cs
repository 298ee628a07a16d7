using Engine.Tensors;

namespace Engine.Graph;

/// <summary>
/// One tensor flowing through the graph: an input, or output <see cref="Index"/> of a node.
/// <see cref="Shape"/> is its shape at batch size 1; an executor re-derives it for its batch.
/// </summary>
public sealed class Value
{
    internal Value(int id, Node? producer, int index, Shape shape, DataType type, string name)
    {
        Id = id; Producer = producer; Index = index; Shape = shape; Type = type; Name = name;
    }

    public int Id { get; }
    /// <summary>The node that computes this value, or null for a graph input.</summary>
    public Node? Producer { get; }
    public int Index { get; }
    public Shape Shape { get; }
    /// <summary>
    /// The declared element type: <see cref="DataType.I32"/> for labels and indices (no gradient),
    /// <see cref="DataType.F32"/> for float data, which an executor stores in its backend's float type.
    /// </summary>
    public DataType Type { get; }
    public bool IsFloat => Type.IsFloat();
    public string Name { get; }

    /// <summary>Channels of an NCHW value.</summary>
    public int Channels => Shape[1];
    public override string ToString() => $"{Name} ({Shape})";
}
