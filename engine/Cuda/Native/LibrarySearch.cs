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
/// there. Pure apart from the platform's file system: the OS, the environment, the home folder and
/// a root prefix for Linux's fixed system folders are passed in, so tests can build a fake tree,
/// a Windows one included. The folders per OS are listed by <see cref="LinuxLibraryFolders"/> and
/// <see cref="WindowsLibraryFolders"/>; both begin with the override variable. Folder-major: an
/// earlier folder wins over a newer version in a later one, so the override is always honoured.
/// </summary>
public sealed class LibrarySearch
{
    /// <summary>Folders searched before anything else, separated like PATH (':' on Linux, ';' on Windows).</summary>
    public const string OverrideVariable = "ENGINE_CUDA_LIB_PATH";
    /// <summary>A Python virtual environment (or its site-packages) whose NVIDIA wheels are searched.</summary>
    public const string VenvVariable = "ENGINE_PYTHON_VENV";

    /// <summary>The Python environments the variables name (ours, an active venv, conda), in that order: roots of their site-packages.</summary>
    internal static List<string> EnvironmentRoots(LibrarySearch s)
    {
        var roots = new List<string>();
        foreach (var variable in new[] { VenvVariable, "VIRTUAL_ENV", "CONDA_PREFIX" })
            if (s.Env(variable) is { Length: > 0 } v) roots.Add(v);
        return roots;
    }

    /// <param name="root">Prefix for Linux's fixed system folders ("" on a real machine, a temp folder in tests); Windows takes them from its variables.</param>
    /// <param name="home">The user's home folder, or null.</param>
    public LibrarySearch(SearchPlatform platform, string root, string? home)
    {
        Platform = platform;
        Root = root.Length == 0 || root == "/" ? "" : platform.TrimEnd(root);
        Home = home;
    }

    /// <summary>Linux rules on the real file system (the shape of the older tests).</summary>
    public LibrarySearch(Func<string, string?> env, string root, string? home)
        : this(SearchPlatform.RealFileSystem(OsFamily.Linux, env), root, home) { }

    public static LibrarySearch FromEnvironment()
    {
        var p = SearchPlatform.Current;
        return new(p, "", p.Environment(p.IsWindows ? "USERPROFILE" : "HOME"));
    }

    public SearchPlatform Platform { get; }
    internal string Root { get; }
    internal string? Home { get; }
    internal string? Env(string name) => Platform.Environment(name);

    /// <summary>The folders searched, in order, each listed once; folders that do not exist are left out.</summary>
    public IReadOnlyList<string> Folders()
    {
        var result = new List<string>();
        var seen = new HashSet<string>(Platform.PathComparer);
        var candidates = Platform.IsWindows ? WindowsLibraryFolders.Candidates(this) : LinuxLibraryFolders.Candidates(this);
        foreach (var folder in candidates)
        {
            if (string.IsNullOrWhiteSpace(folder)) continue;
            var f = Platform.TrimEnd(folder);
            if (Platform.DirectoryExists(f) && seen.Add(f)) result.Add(f);
        }
        return result;
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
                var path = Platform.Join(folder, name);
                if (!Platform.FileExists(path)) continue;
                if (reject(path) is { } why) { rejected.Add($"{path}: {why}"); continue; }
                return new LibraryLocation(path, folders, rejected);
            }
        return new LibraryLocation(null, folders, rejected);
    }

    /// <summary>The one-line explanation of a failed search; folders are listed like PATH on this platform.</summary>
    public string NotFoundMessage(NativeLibrarySpec spec, LibraryLocation where)
    {
        var names = string.Join(", ", spec.FileNames);
        var folders = where.SearchedFolders.Count == 0 ? "(no existing folders)" : string.Join(Platform.PathListSeparator, where.SearchedFolders);
        var rejected = where.Rejected.Count == 0 ? "" : $"; rejected: {string.Join("; ", where.Rejected)}";
        return $"{spec.Display} not found: looked for {names} in {folders} and the system loader's paths{rejected}. " +
               $"Set {OverrideVariable} to the folder holding it (or {VenvVariable} to a Python venv with NVIDIA wheels).";
    }

    /// <summary>Sub-folders of <paramref name="folder"/> matching <paramref name="pattern"/>, newest version first.</summary>
    internal IEnumerable<string> NewestSubfolders(string folder, string pattern) =>
        NewestFirst(Platform.Subfolders(folder, pattern), Platform.FileName);

    /// <summary>Sorts folders so that "cuda-13.0" comes before "cuda-12.4" and "python3.12" before "python3.9".</summary>
    internal static IEnumerable<string> NewestFirst(IEnumerable<string> folders) => NewestFirst(folders, f => Path.GetFileName(f));

    private static IEnumerable<string> NewestFirst(IEnumerable<string> folders, Func<string, string> name) =>
        folders.OrderByDescending(f => VersionKey(name(f)), VersionComparer.Instance).ThenBy(f => f, StringComparer.Ordinal);

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
