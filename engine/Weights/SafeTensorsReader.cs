namespace Engine.Weights;

/// <summary>A safetensors file read tensor by tensor (<see cref="SafeTensors"/> parses the header).</summary>
public sealed class SafeTensorsReader : WeightReader
{
    private readonly SafeTensors.Header _header;
    private readonly Dictionary<string, (long Begin, long End)> _offsets;

    public SafeTensorsReader(string path) : base(path)
    {
        using (var file = File.OpenRead(path)) _header = SafeTensors.ReadHeader(file, path);
        Tensors = _header.Tensors.Select(t => new WeightEntry(t.Name, t.Shape, t.DType)).ToList();
        _offsets = _header.Tensors.ToDictionary(t => t.Name, t => (t.Begin, t.End));
    }

    public override string Format => "safetensors";
    public override IReadOnlyList<WeightEntry> Tensors { get; }
    public override IReadOnlyDictionary<string, string> Metadata => _header.Metadata;

    protected override Stream OpenData(WeightEntry entry)
    {
        var file = File.OpenRead(Path);
        file.Position = _header.DataStart + _offsets[entry.Name].Begin;
        return file;
    }
}
