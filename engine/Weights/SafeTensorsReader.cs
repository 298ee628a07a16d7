using System.Numerics;

namespace Engine.Weights;

/// <summary>A safetensors file read tensor by tensor (<see cref="SafeTensors"/> parses the header).</summary>
public sealed class SafeTensorsReader : WeightReader
{
    private readonly FileStream _file;
    private readonly SafeTensors.Header _header;
    private readonly Dictionary<string, (long Begin, long End)> _offsets;

    public SafeTensorsReader(string path) : base(path)
    {
        _file = File.OpenRead(path);
        try { _header = SafeTensors.ReadHeader(_file, path); }
        catch { _file.Dispose(); throw; }
        Tensors = _header.Tensors.Select(t => new WeightEntry(t.Name, t.Shape, t.DType)).ToList();
        _offsets = _header.Tensors.ToDictionary(t => t.Name, t => (t.Begin, t.End));
    }

    public override string Format => "safetensors";
    public override IReadOnlyList<WeightEntry> Tensors { get; }
    public override IReadOnlyDictionary<string, string> Metadata => _header.Metadata;

    protected override void ReadInto<T>(WeightEntry entry, Span<T> destination)
    {
        _file.Position = _header.DataStart + _offsets[entry.Name].Begin;
        ReadConverted(_file, entry.DType, destination);
    }

    public override void Dispose()
    {
        _file.Dispose();
        base.Dispose();
    }
}
