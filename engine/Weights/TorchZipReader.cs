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
            if (_zip.GetEntry(_prefix + "byteorder") is { } order)
            {
                using var text = new StreamReader(order.Open());
                if (text.ReadToEnd().Trim() is var o && o != "little")
                    throw new InvalidDataException($"{path}: its storages are {o}-endian; only little-endian PyTorch files are read");
            }
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

    protected override Stream? OpenData(WeightEntry entry)
    {
        var view = _views[entry.Name];
        var file = StorageOf(entry.Name, view);
        if (!IsContiguous(view)) return null;
        var s = file.Open();
        Skip(s, view.Offset * Elements.Size(view.Storage.DType));
        return s;
    }

    protected override void ReadStrided<T>(WeightEntry entry, Span<T> destination)
    {
        var view = _views[entry.Name];
        long extent = Extent(view);
        var all = new T[extent];
        using (var s = StorageOf(entry.Name, view).Open())
        {
            Skip(s, view.Offset * Elements.Size(view.Storage.DType));
            ReadConverted(s, view.Storage.DType, all.AsSpan());
        }
        Gather(all, view, destination);
    }

    /// <summary>The storage entry of a view, checked to hold it.</summary>
    private ZipArchiveEntry StorageOf(string name, TorchTensor view)
    {
        var file = _zip.GetEntry(_prefix + "data/" + view.Storage.Key)
            ?? throw new InvalidDataException($"{Path}: storage data/{view.Storage.Key} of tensor '{name}' is missing");
        if ((view.Offset + Extent(view)) * Elements.Size(view.Storage.DType) > file.Length)
            throw new InvalidDataException($"{Path}: tensor '{name}' reaches past the end of its storage data/{view.Storage.Key}");
        return file;
    }

    /// <summary>Elements of the storage a view spans from its offset on.</summary>
    private static long Extent(TorchTensor t)
    {
        long extent = 1;
        for (int d = 0; d < t.Shape.Length; d++) extent += (long)(t.Shape[d] - 1) * t.Stride[d];
        return t.Shape.Contains(0) ? 0 : extent;
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
