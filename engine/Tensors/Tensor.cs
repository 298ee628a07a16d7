namespace Engine.Tensors;

/// <summary>A host tensor: a shape over a contiguous array, row-major.</summary>
public sealed class Tensor<T> where T : unmanaged
{
    public Shape Shape { get; }
    public T[] Data { get; }

    public Tensor(Shape shape) : this(shape, new T[shape.Numel]) { }

    public Tensor(Shape shape, T[] data)
    {
        if (data.LongLength != shape.Numel)
            throw new ArgumentException($"tensor of shape {shape} needs {shape.Numel} elements, got {data.LongLength}");
        Shape = shape;
        Data = data;
    }

    public Span<T> Span => Data;
    public override string ToString() => $"Tensor<{typeof(T).Name}>({Shape})";
}
