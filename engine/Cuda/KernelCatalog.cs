using System.Reflection;
using System.Text;

namespace Engine.Cuda;

/// <summary>
/// The hand-written kernels: PTX files embedded in the Engine assembly (resource names ending in
/// ".ptx", see kernels/ABI.md), or read from the folder named by <see cref="PtxFolderVariable"/>
/// (to run PTX compiled on the GPU machine for its own architecture). Each file is loaded into
/// the context the first time one of its kernels is asked for.
/// </summary>
public sealed class KernelCatalog : IDisposable
{
    public const string PtxFolderVariable = "ENGINE_KERNELS_PTX_DIR";

    private readonly Dictionary<string, PtxSource> _byEntry = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PtxModule> _loaded = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CudaFunction> _functions = new(StringComparer.Ordinal);
    private readonly List<PtxSource> _sources;

    private sealed record PtxSource(string Name, Func<byte[]> Read);

    public KernelCatalog(IEnumerable<(string Name, Func<byte[]> Read)> sources)
    {
        _sources = sources.Select(s => new PtxSource(s.Name, s.Read)).ToList();
        foreach (var src in _sources)
            foreach (var entry in PtxModule.EntryNames(Encoding.UTF8.GetString(src.Read())))
                _byEntry.TryAdd(entry, src);
    }

    /// <summary>PTX from <see cref="PtxFolderVariable"/> when set, else the PTX embedded in the Engine assembly.</summary>
    public static KernelCatalog Default()
    {
        if (Environment.GetEnvironmentVariable(PtxFolderVariable) is { Length: > 0 } folder)
        {
            if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{PtxFolderVariable}={folder}: no such folder");
            return new KernelCatalog(Directory.GetFiles(folder, "*.ptx").Order(StringComparer.Ordinal)
                .Select(f => (Path.GetFileName(f), (Func<byte[]>)(() => File.ReadAllBytes(f)))));
        }
        return new KernelCatalog(EmbeddedPtx(typeof(KernelCatalog).Assembly));
    }

    public static IEnumerable<(string Name, Func<byte[]> Read)> EmbeddedPtx(Assembly assembly) =>
        assembly.GetManifestResourceNames().Where(n => n.EndsWith(".ptx", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .Select(n => (n, (Func<byte[]>)(() =>
            {
                using var s = assembly.GetManifestResourceStream(n)!;
                using var m = new MemoryStream();
                s.CopyTo(m);
                return m.ToArray();
            })));

    public IReadOnlyCollection<string> EntryNames => _byEntry.Keys;
    public IReadOnlyList<string> SourceNames => _sources.Select(s => s.Name).ToArray();
    public bool Contains(string entry) => _byEntry.ContainsKey(entry);

    /// <summary>The kernel with this extern "C" name, loading its PTX file into the current context on first use.</summary>
    public CudaFunction Get(string entry)
    {
        if (_functions.TryGetValue(entry, out var f)) return f;
        if (!_byEntry.TryGetValue(entry, out var src))
            throw new KeyNotFoundException(_sources.Count == 0
                ? $"kernel {entry}: no PTX is embedded in the Engine assembly (build the kernels: ./build.sh, or set {PtxFolderVariable})"
                : $"kernel {entry} is in none of the PTX files ({string.Join(", ", _sources.Select(s => s.Name))})");
        if (!_loaded.TryGetValue(src.Name, out var module))
            _loaded[src.Name] = module = PtxModule.Load(src.Name, src.Read());
        return _functions[entry] = module.Function(entry);
    }

    public void Dispose()
    {
        foreach (var m in _loaded.Values) m.Dispose();
        _loaded.Clear();
        _functions.Clear();
    }
}
