using Engine.Tensors;

namespace Engine.Graph;

/// <summary>
/// One tensor flowing through the graph: an input, or output <see cref="Index"/> of a node.
/// <see cref="Shape"/> is its shape at batch size 1; an executor re-derives it for its batch.
/// </summary>
public sealed class Value
{
    internal Value(int id, Node? producer, int index, Shape shape, bool isInt, string name)
    {
        Id = id; Producer = producer; Index = index; Shape = shape; IsInt = isInt; Name = name;
    }

    public int Id { get; }
    /// <summary>The node that computes this value, or null for a graph input.</summary>
    public Node? Producer { get; }
    public int Index { get; }
    public Shape Shape { get; }
    /// <summary>Int32 labels or indices (no gradient) rather than float data.</summary>
    public bool IsInt { get; }
    public string Name { get; }

    /// <summary>Channels of an NCHW value.</summary>
    public int Channels => Shape[1];
    public override string ToString() => $"{Name} ({Shape})";
}
