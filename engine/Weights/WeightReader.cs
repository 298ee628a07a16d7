using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using Engine.Tensors;

namespace Engine.Weights;

/// <summary>
/// One tensor of a weight file as its header describes it; the data stays in the file until
/// <see cref="WeightReader.Read{T}"/> converts it. <paramref name="DType"/> is safetensors'
/// spelling (F32, F16, BF16, F64, I64, ...).
/// </summary>
public sealed record WeightEntry(string Name, Shape Shape, string DType);

/// <summary>
/// A weight file opened for reading one tensor at a time, each converted straight to the
/// backend's float type: peak memory is one tensor, never the file widened to double.
/// <see cref="WeightFiles.Open"/> picks the reader from the file's first bytes.
/// </summary>
public abstract class WeightReader : IDisposable
{
    protected WeightReader(string path) => Path = path;

    public string Path { get; }
    public abstract IReadOnlyList<WeightEntry> Tensors { get; }
    public virtual IReadOnlyDictionary<string, string> Metadata { get; } = new Dictionary<string, string>();

    /// <summary>What kind of file this is, for messages ("safetensors", "PyTorch zip").</summary>
    public abstract string Format { get; }

    /// <summary>Converts the tensor's values into <paramref name="destination"/> (its element count long).</summary>
    public void Read<T>(WeightEntry entry, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (destination.Length != entry.Shape.Numel)
            throw new ArgumentException($"{Path}: tensor '{entry.Name}' has {entry.Shape.Numel} values, the destination {destination.Length}");
        CheckFloat(entry);
        using var data = OpenData(entry);
        if (data is null) ReadStrided(entry, destination);
        else ReadConverted(data, entry.DType, destination);
    }

    /// <summary>
    /// Converts the tensor's values a chunk at a time (about a million elements), handing each to
    /// <paramref name="sink"/> with its element offset: a tensor never needs a buffer of its own.
    /// </summary>
    public void Read<T>(WeightEntry entry, ChunkSink<T> sink) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckFloat(entry);
        using var data = OpenData(entry);
        if (data is null)
        {
            var all = new T[entry.Shape.Numel];
            ReadStrided(entry, all.AsSpan());
            sink(0, all);
            return;
        }
        var values = ArrayPool<T>.Shared.Rent(ChunkElements);
        try
        {
            for (long done = 0; done < entry.Shape.Numel; done += ChunkElements)
            {
                var chunk = values.AsSpan(0, (int)Math.Min(ChunkElements, entry.Shape.Numel - done));
                ReadConverted(data, entry.DType, chunk);
                sink(done, chunk);
            }
        }
        finally { ArrayPool<T>.Shared.Return(values); }
    }

    private void CheckFloat(WeightEntry entry)
    {
        if (!Elements.IsFloat(entry.DType))
            throw new InvalidDataException($"{Path}: tensor '{entry.Name}' is {entry.DType}, not a floating-point tensor");
    }

    /// <summary>A stream at the tensor's first byte, its elements contiguous from there; null when they are not (a strided view).</summary>
    protected abstract Stream? OpenData(WeightEntry entry);

    /// <summary>A tensor whose elements are not contiguous in the file (<see cref="OpenData"/> gave null).</summary>
    protected virtual void ReadStrided<T>(WeightEntry entry, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T> =>
        throw new InvalidDataException($"{Path}: tensor '{entry.Name}' is not stored contiguously");

    private const int ChunkElements = 1 << 20;

    /// <summary>Reads <paramref name="destination"/>'s length of <paramref name="dtype"/> elements, converting through a small byte buffer.</summary>
    protected static void ReadConverted<T>(Stream stream, string dtype, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = Elements.Size(dtype);
        var chunk = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int perChunk = chunk.Length / size, done = 0;
            while (done < destination.Length)
            {
                int n = Math.Min(perChunk, destination.Length - done);
                stream.ReadExactly(chunk, 0, n * size);
                Elements.Convert(chunk.AsSpan(0, n * size), dtype, destination.Slice(done, n));
                done += n;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(chunk); }
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>Receives one chunk of a tensor's values, starting at element <paramref name="offset"/>.</summary>
public delegate void ChunkSink<T>(long offset, ReadOnlySpan<T> values);

/// <summary>Element types of weight files: sizes and conversion to float or double (little-endian).</summary>
public static class Elements
{
    public static bool IsFloat(string dtype) => dtype is "F32" or "F64" or "F16" or "BF16";

    public static int Size(string dtype) => dtype switch
    {
        "F64" or "I64" => 8,
        "F32" or "I32" => 4,
        "F16" or "BF16" or "I16" => 2,
        "U8" or "I8" or "BOOL" => 1,
        _ => throw new InvalidDataException($"unsupported element type {dtype}"),
    };

    public static void Convert<T>(ReadOnlySpan<byte> bytes, string dtype, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("weight files are read on little-endian machines only");
        switch (dtype)
        {
            case "F32":
                if (typeof(T) == typeof(float)) { MemoryMarshal.Cast<byte, T>(bytes).CopyTo(destination); return; }
                Widen(MemoryMarshal.Cast<byte, float>(bytes), destination);
                return;
            case "F64": Widen(MemoryMarshal.Cast<byte, double>(bytes), destination); return;
            case "F16": Widen(MemoryMarshal.Cast<byte, Half>(bytes), destination); return;
            case "BF16":
                var raw = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < raw.Length; i++) destination[i] = T.CreateTruncating(BitConverter.Int32BitsToSingle(raw[i] << 16));
                return;
            default: throw new InvalidDataException($"element type {dtype} is not a floating-point type");
        }
    }

    private static void Widen<TFrom, T>(ReadOnlySpan<TFrom> source, Span<T> destination)
        where TFrom : unmanaged, INumberBase<TFrom> where T : unmanaged, INumberBase<T>
    {
        for (int i = 0; i < source.Length; i++) destination[i] = T.CreateTruncating(source[i]);
    }
}
