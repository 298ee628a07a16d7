using System.IO.Compression;
using Engine.Tensors;

namespace Engine.Weights;

/// <summary>
/// A PyTorch .pth/.pt file in torch.save's zip format (PyTorch 1.6 on): ARCHIVE/data.pkl pickles
/// the state dict, each tensor a view (offset, shape, stride) of a storage whose raw little-endian
/// bytes are the entry ARCHIVE/data/KEY. The pickle is read by <see cref="Pickle"/> (nothing is
/// executed); a checkpoint dict holding the state dict under "state_dict", "model" or
/// "state_dict_ema" is also accepted. Non-tensor values (e.g. counters) are skipped.
/// </summary>
public sealed class TorchZipReader : WeightReader
{
    private static readonly string[] NestedKeys = ["state_dict", "model", "state_dict_ema", "model_ema"];

    private readonly ZipArchive _zip;
    private readonly string _prefix;
    private readonly Dictionary<string, TorchTensor> _views = [];

    public TorchZipReader(string path) : base(path)
    {
        _zip = ZipFile.OpenRead(path);
        try
        {
            var pkl = _zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
                ?? throw new InvalidDataException($"{path}: a zip file without ARCHIVE/data.pkl, so not a PyTorch file");
            _prefix = pkl.FullName[..^"data.pkl".Length];
            var bytes = new byte[pkl.Length];
            using (var s = pkl.Open()) s.ReadExactly(bytes);
            var dict = StateDict(Pickle.Load(bytes, $"{path} ({pkl.FullName})"));
            var entries = new List<WeightEntry>();
            foreach (var (key, value) in dict)
                if (key is string name && value is TorchTensor t)
                {
                    _views[name] = t;
                    entries.Add(new WeightEntry(name, new Shape(t.Shape), t.Storage.DType));
                }
            Tensors = entries;
        }
        catch { _zip.Dispose(); throw; }
    }

    public override string Format => "PyTorch zip";
    public override IReadOnlyList<WeightEntry> Tensors { get; }

    private PickleDict StateDict(object? root)
    {
        if (root is not PickleDict d) throw new InvalidDataException($"{Path}: holds a {root?.GetType().Name ?? "None"}, not a dict of tensors");
        if (d.Any(kv => kv.Value is TorchTensor)) return d;
        foreach (var key in NestedKeys)
            if (d.FirstOrDefault(kv => key.Equals(kv.Key)).Value is PickleDict inner && inner.Any(kv => kv.Value is TorchTensor)) return inner;
        throw new InvalidDataException($"{Path}: a dict without tensors (keys: {string.Join(", ", d.Take(8).Select(kv => kv.Key))}); " +
            $"expected a state dict, or one under {string.Join("/", NestedKeys)}");
    }

    protected override void ReadInto<T>(WeightEntry entry, Span<T> destination)
    {
        var view = _views[entry.Name];
        var file = _zip.GetEntry(_prefix + "data/" + view.Storage.Key)
            ?? throw new InvalidDataException($"{Path}: storage data/{view.Storage.Key} of tensor '{entry.Name}' is missing");
        int size = Elements.Size(view.Storage.DType);
        long extent = 1;   // elements of the storage the view touches, from its offset on
        for (int d = 0; d < view.Shape.Length; d++) extent += (long)(view.Shape[d] - 1) * view.Stride[d];
        if (destination.IsEmpty) return;
        if ((view.Offset + extent) * size > file.Length)
            throw new InvalidDataException($"{Path}: tensor '{entry.Name}' reaches past the end of its storage data/{view.Storage.Key}");
        using var s = file.Open();
        Skip(s, view.Offset * size);
        if (IsContiguous(view)) { ReadConverted(s, view.Storage.DType, destination); return; }
        var all = new T[extent];
        ReadConverted(s, view.Storage.DType, all.AsSpan());
        Gather(all, view, destination);
    }

    private static bool IsContiguous(TorchTensor t)
    {
        long expected = 1;
        for (int d = t.Shape.Length - 1; d >= 0; d--)
        {
            if (t.Shape[d] != 1 && t.Stride[d] != expected) return false;
            expected *= t.Shape[d];
        }
        return true;
    }

    private static void Gather<T>(T[] source, TorchTensor t, Span<T> destination)
    {
        var index = new int[t.Shape.Length];
        for (int i = 0; i < destination.Length; i++)
        {
            long at = 0;
            for (int d = 0; d < index.Length; d++) at += index[d] * t.Stride[d];
            destination[i] = source[at];
            for (int d = index.Length - 1; d >= 0 && ++index[d] == t.Shape[d]; d--) index[d] = 0;
        }
    }

    private static void Skip(Stream s, long bytes)
    {
        if (s.CanSeek) { s.Seek(bytes, SeekOrigin.Current); return; }
        var buffer = new byte[Math.Min(bytes, 1 << 16)];
        while (bytes > 0) bytes -= s.Read(buffer, 0, (int)Math.Min(bytes, buffer.Length)) is > 0 and var n ? n : throw new EndOfStreamException();
    }

    public override void Dispose()
    {
        _zip.Dispose();
        base.Dispose();
    }
}
