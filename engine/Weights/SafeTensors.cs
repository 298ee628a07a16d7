using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Engine.Tensors;

namespace Engine.Weights;

/// <summary>One named tensor of a safetensors file, converted to double on reading.</summary>
public sealed record NamedTensor(string Name, Shape Shape, string DType, double[] Data);

/// <summary>
/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// mapping each name to {dtype, shape, data_offsets} (plus an optional "__metadata__" map of
/// strings), padded with spaces to 8 bytes, then the raw little-endian data back to back.
/// Writes F32 or F64; reads F32, F64, F16 and BF16.
/// </summary>
public static class SafeTensors
{
    /// <summary>
    /// A tensor to write: its data is produced on demand, so large buffers are streamed one at a
    /// time; <paramref name="WriteTo"/> (with <paramref name="StreamedDType"/>) writes the raw
    /// little-endian bytes itself, in pieces, so not even one tensor needs an array of its own.
    /// </summary>
    public sealed record Entry(string Name, Shape Shape, Func<float[]>? Float32 = null, Func<double[]>? Float64 = null,
        string? StreamedDType = null, Action<Stream>? WriteTo = null)
    {
        public string DType => StreamedDType ?? (Float64 is null ? "F32" : "F64");
        public long Bytes => Shape.Numel * Elements.Size(DType);
    }

    public static void Write(Stream stream, IReadOnlyList<Entry> entries, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
            header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        long offset = 0;
        var seen = new HashSet<string>();
        foreach (var e in entries)
        {
            if (!seen.Add(e.Name)) throw new ArgumentException($"safetensors: tensor '{e.Name}' written twice");
            header[e.Name] = new JsonObject
            {
                ["dtype"] = e.DType,
                ["shape"] = new JsonArray(e.Shape.Dims.ToArray().Select(d => (JsonNode?)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + e.Bytes),
            };
            offset += e.Bytes;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
        stream.Write(len);
        stream.Write(json);
        for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var e in entries)
        {
            if (e.WriteTo is { } write)
            {
                long start = stream.Position;
                write(stream);
                if (stream.Position - start != e.Bytes) throw new ArgumentException($"safetensors: tensor '{e.Name}' of shape {e.Shape} wrote {stream.Position - start} bytes, not {e.Bytes}");
            }
            else if (e.Float64 is { } f64) WriteData(stream, e, f64());
            else WriteData(stream, e, (e.Float32 ?? throw new ArgumentException($"safetensors: tensor '{e.Name}' has no data"))());
        }
    }

    private static void WriteData<T>(Stream stream, Entry e, T[] data) where T : unmanaged
    {
        if (data.LongLength != e.Shape.Numel) throw new ArgumentException($"safetensors: tensor '{e.Name}' of shape {e.Shape} got {data.LongLength} values");
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors writing needs a little-endian machine");
        stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
    }

    /// <summary>The header of a file: tensor names in file order with dtype and shape, and the metadata.</summary>
    public sealed record Header(IReadOnlyList<(string Name, string DType, Shape Shape, long Begin, long End)> Tensors,
        IReadOnlyDictionary<string, string> Metadata, long DataStart);

    public static Header ReadHeader(string path)
    {
        using var f = File.OpenRead(path);
        return ReadHeader(f, path);
    }

    internal static Header ReadHeader(FileStream f, string path)
    {
        Span<byte> len = stackalloc byte[8];
        if (f.Read(len) != 8) throw new InvalidDataException($"{path}: too short to be a safetensors file");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(len);
        if (n == 0 || n > 100_000_000 || (long)n > f.Length - 8) throw new InvalidDataException($"{path}: not a safetensors file (header length {n})");
        var json = new byte[n];
        f.ReadExactly(json);
        JsonObject root;
        try { root = JsonNode.Parse(json)?.AsObject() ?? throw new InvalidDataException($"{path}: empty safetensors header"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: safetensors header is not valid JSON ({e.Message})"); }
        long dataStart = 8 + (long)n, dataLength = f.Length - dataStart;
        var meta = new Dictionary<string, string>();
        var tensors = new List<(string, string, Shape, long, long)>();
        foreach (var (name, node) in root)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node!.AsObject()) meta[k] = v?.GetValue<string>() ?? "";
                continue;
            }
            try
            {
                var o = node!.AsObject();
                var dtype = o["dtype"]!.GetValue<string>();
                var shape = new Shape(o["shape"]!.AsArray().Select(d => d!.GetValue<int>()).ToArray());
                var offs = o["data_offsets"]!.AsArray();
                long begin = offs[0]!.GetValue<long>(), end = offs[1]!.GetValue<long>();
                if (begin < 0 || end < begin || end > dataLength || end - begin != shape.Numel * ElementSize(dtype, path, name))
                    throw new InvalidDataException($"{path}: tensor '{name}' ({dtype} {shape}) has inconsistent data offsets {begin}..{end}");
                tensors.Add((name, dtype, shape, begin, end));
            }
            catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException)
            {
                throw new InvalidDataException($"{path}: malformed entry for tensor '{name}' in the safetensors header");
            }
        }
        return new Header(tensors, meta, dataStart);
    }

    /// <summary>Reads every tensor (or those <paramref name="wanted"/> accepts) as double: small files only (optimizer state, tests); weights go through <see cref="SafeTensorsReader"/>.</summary>
    public static (List<NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path, Func<string, bool>? wanted = null)
    {
        using var reader = new SafeTensorsReader(path);
        var result = new List<NamedTensor>();
        foreach (var t in reader.Tensors.Where(t => wanted is null || wanted(t.Name)))
        {
            var data = new double[t.Shape.Numel];
            reader.Read<double>(t, data);
            result.Add(new NamedTensor(t.Name, t.Shape, t.DType, data));
        }
        return (result, reader.Metadata);
    }

    private static int ElementSize(string dtype, string path, string name)
    {
        try { return Elements.Size(dtype); }
        catch (InvalidDataException) { throw new InvalidDataException($"{path}: tensor '{name}' has unsupported dtype {dtype} (expected F32, F64, F16 or BF16)"); }
    }
}
