namespace Engine.Cuda.Native;

/// <summary>One native library: how it is shown in messages and the file names it may have, preferred first.</summary>
public sealed record NativeLibrarySpec(string Display, IReadOnlyList<string> FileNames);

/// <summary>Where a library was found, or every folder that was searched and why candidates were rejected.</summary>
public sealed record LibraryLocation(string? Path, IReadOnlyList<string> SearchedFolders, IReadOnlyList<string> Rejected)
{
    public bool Found => Path is not null;
}

/// <summary>
/// Decides which folders are searched for the CUDA libraries, in order, and finds a library's file
/// there. Pure apart from reading the file system: the environment, the home folder and a root
/// prefix for the fixed system folders are passed in, so tests can build a fake tree.
/// Order: the override variable, LD_LIBRARY_PATH, CUDA_HOME/CUDA_PATH, the toolkits under
/// /usr/local, the distribution's folders, then the Python wheels' nvidia/*/lib folders
/// (PyTorch ships cuBLAS and cuDNN that way). Folder-major: an earlier folder wins over a newer
/// version in a later one, so the override is always honoured.
/// </summary>
public sealed class LibrarySearch
{
    /// <summary>Colon-separated folders searched before anything else.</summary>
    public const string OverrideVariable = "ENGINE_CUDA_LIB_PATH";
    /// <summary>A Python virtual environment (or its site-packages) whose nvidia/*/lib wheels are searched.</summary>
    public const string VenvVariable = "ENGINE_PYTHON_VENV";

    private readonly Func<string, string?> _env;
    private readonly string _root;
    private readonly string? _home;

    /// <param name="env">Reads an environment variable (null when unset).</param>
    /// <param name="root">Prefix for the fixed system folders ("" on a real machine, a temp folder in tests).</param>
    /// <param name="home">The user's home folder, or null.</param>
    public LibrarySearch(Func<string, string?> env, string root, string? home)
    {
        _env = env;
        _root = root.TrimEnd('/');
        _home = home;
    }

    public static LibrarySearch FromEnvironment() =>
        new(Environment.GetEnvironmentVariable, "", Environment.GetEnvironmentVariable("HOME"));

    /// <summary>The folders searched, in order, each listed once; folders that do not exist are left out.</summary>
    public IReadOnlyList<string> Folders()
    {
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(string? folder)
        {
            if (string.IsNullOrWhiteSpace(folder)) return;
            var f = folder.TrimEnd('/');
            if (f.Length == 0) f = "/";
            if (Directory.Exists(f) && seen.Add(f)) result.Add(f);
        }

        foreach (var f in SplitPath(_env(OverrideVariable))) Add(f);
        foreach (var f in SplitPath(_env("LD_LIBRARY_PATH"))) Add(f);
        foreach (var var in new[] { "CUDA_HOME", "CUDA_PATH" })
            if (_env(var) is { Length: > 0 } cudaHome)
            {
                Add(Path.Combine(cudaHome, "targets/x86_64-linux/lib"));
                Add(Path.Combine(cudaHome, "lib64"));
            }

        Add(_root + "/usr/local/cuda/targets/x86_64-linux/lib");
        Add(_root + "/usr/local/cuda/lib64");
        foreach (var toolkit in NewestFirst(Glob(_root + "/usr/local", "cuda-*")))
        {
            Add(Path.Combine(toolkit, "targets/x86_64-linux/lib"));
            Add(Path.Combine(toolkit, "lib64"));
        }
        Add(_root + "/usr/lib/x86_64-linux-gnu");
        Add(_root + "/usr/lib64");
        Add(_root + "/usr/lib/wsl/lib");

        foreach (var site in SitePackages())
            foreach (var lib in NewestFirst(Glob(Path.Combine(site, "nvidia"), "*")))
                Add(Path.Combine(lib, "lib"));
        if (_env("CONDA_PREFIX") is { Length: > 0 } conda) Add(Path.Combine(conda, "lib"));
        return result;
    }

    /// <summary>site-packages / dist-packages folders of the usual Python installations and of named venvs.</summary>
    internal IEnumerable<string> SitePackages()
    {
        var roots = new List<string>();
        foreach (var var in new[] { VenvVariable, "VIRTUAL_ENV", "CONDA_PREFIX" })
            if (_env(var) is { Length: > 0 } v) roots.Add(v);
        if (_home is { Length: > 0 })
        {
            roots.Add(Path.Combine(_home, ".local"));
            roots.Add(Path.Combine(_home, ".venv"));
            roots.Add(Path.Combine(_home, "venv"));
            roots.AddRange(Glob(_home, "*").Where(d => Directory.Exists(Path.Combine(d, "lib"))));
        }
        roots.Add(_root + "/usr/local");
        roots.Add(_root + "/usr");
        roots.Add(_root + "/opt/conda");
        roots.AddRange(Glob(_root + "/opt", "*"));

        foreach (var r in roots)
        {
            // A variable may name site-packages itself.
            if (Directory.Exists(Path.Combine(r, "nvidia"))) yield return r;
            foreach (var py in NewestFirst(Glob(Path.Combine(r, "lib"), "python3*")))
                foreach (var kind in new[] { "site-packages", "dist-packages" })
                {
                    var site = Path.Combine(py, kind);
                    if (Directory.Exists(site)) yield return site;
                }
        }
    }

    /// <summary>The first of the library's file names present in the first folder holding any of them.</summary>
    public LibraryLocation Locate(NativeLibrarySpec spec) => Locate(spec, _ => null);

    /// <param name="reject">Returns why a found file cannot be used (e.g. it fails to load), or null to accept it.</param>
    public LibraryLocation Locate(NativeLibrarySpec spec, Func<string, string?> reject)
    {
        var folders = Folders();
        var rejected = new List<string>();
        foreach (var folder in folders)
            foreach (var name in spec.FileNames)
            {
                var path = Path.Combine(folder, name);
                if (!File.Exists(path)) continue;
                if (reject(path) is { } why) { rejected.Add($"{path}: {why}"); continue; }
                return new LibraryLocation(path, folders, rejected);
            }
        return new LibraryLocation(null, folders, rejected);
    }

    /// <summary>The one-line explanation of a failed search.</summary>
    public static string NotFoundMessage(NativeLibrarySpec spec, LibraryLocation where)
    {
        var names = string.Join(", ", spec.FileNames);
        var folders = where.SearchedFolders.Count == 0 ? "(no existing folders)" : string.Join(":", where.SearchedFolders);
        var rejected = where.Rejected.Count == 0 ? "" : $"; rejected: {string.Join("; ", where.Rejected)}";
        return $"{spec.Display} not found: looked for {names} in {folders} and the system loader's paths{rejected}. " +
               $"Set {OverrideVariable} to the folder holding it (or {VenvVariable} to a Python venv with NVIDIA wheels).";
    }

    private static IEnumerable<string> SplitPath(string? value) =>
        string.IsNullOrEmpty(value) ? [] : value.Split(':', StringSplitOptions.RemoveEmptyEntries);

    private static IEnumerable<string> Glob(string folder, string pattern)
    {
        try
        {
            return Directory.Exists(folder) ? Directory.GetDirectories(folder, pattern) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Sorts folders so that "cuda-13.0" comes before "cuda-12.4" and "python3.12" before "python3.9".</summary>
    internal static IEnumerable<string> NewestFirst(IEnumerable<string> folders) =>
        folders.OrderByDescending(f => VersionKey(Path.GetFileName(f)), VersionComparer.Instance).ThenBy(f => f, StringComparer.Ordinal);

    private static int[] VersionKey(string name)
    {
        var parts = new List<int>();
        int i = 0;
        while (i < name.Length)
        {
            if (!char.IsAsciiDigit(name[i])) { i++; continue; }
            int start = i;
            while (i < name.Length && char.IsAsciiDigit(name[i])) i++;
            parts.Add(int.TryParse(name.AsSpan(start, i - start), out var v) ? v : 0);
        }
        return [.. parts];
    }

    private sealed class VersionComparer : IComparer<int[]>
    {
        public static readonly VersionComparer Instance = new();
        public int Compare(int[]? a, int[]? b)
        {
            a ??= []; b ??= [];
            for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
                if (a[i] != b[i]) return a[i].CompareTo(b[i]);
            return a.Length.CompareTo(b.Length);
        }
    }
}
