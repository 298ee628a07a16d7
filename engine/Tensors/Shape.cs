using System.Globalization;

namespace Engine.Tensors;

/// <summary>An immutable list of dimensions, NCHW order for images. Compared by value.</summary>
public readonly struct Shape : IEquatable<Shape>
{
    private readonly int[]? _dims;

    public Shape(params int[] dims)
    {
        foreach (var d in dims)
            if (d < 0) throw new ArgumentException($"shape {string.Join('x', dims)}: negative dimension");
        _dims = (int[])dims.Clone();
    }

    public int Rank => _dims?.Length ?? 0;
    public int this[int i] => _dims![i < 0 ? _dims.Length + i : i];
    public ReadOnlySpan<int> Dims => _dims;

    public long Numel
    {
        get
        {
            long n = 1;
            if (_dims is not null) foreach (var d in _dims) n *= d;
            return n;
        }
    }

    /// <summary>This shape with its first (batch) dimension replaced.</summary>
    public Shape WithBatch(int n)
    {
        var d = (int[])_dims!.Clone();
        d[0] = n;
        return new Shape(d);
    }

    /// <summary>A new shape with <paramref name="n"/> put in front.</summary>
    public Shape Prepend(int n) => new([n, .. Dims]);

    /// <summary>The shape without its first dimension.</summary>
    public Shape DropFirst() => new(Dims[1..].ToArray());

    /// <summary>Parses "3x224x224" (also accepts ',' as separator).</summary>
    public static bool TryParse(string? text, out Shape shape)
    {
        shape = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var parts = text.Split(['x', 'X', ','], StringSplitOptions.TrimEntries);
        var dims = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out dims[i]) || dims[i] <= 0)
                return false;
        shape = new Shape(dims);
        return true;
    }

    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Dims) h.Add(d);
        return h.ToHashCode();
    }
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);
    public override string ToString() => Rank == 0 ? "scalar" : string.Join('x', _dims!);
}
