using System.Text.RegularExpressions;
using Engine.Cuda.Native;

namespace Engine.Tests.Cuda;

/// <summary>
/// An in-memory file tree with one OS's path rules, for running the library search on another
/// OS's data (Windows paths such as C:\Program Files\... on Linux). Folders exist when a file
/// or an added folder lies under them.
/// </summary>
public sealed class FakeFileTree(OsFamily os, Dictionary<string, string>? env = null)
{
    private readonly HashSet<string> _files = new(Comparer(os));
    private readonly HashSet<string> _folders = new(Comparer(os));
    public Dictionary<string, string> Env { get; } = env ?? [];

    private static StringComparer Comparer(OsFamily os) => os == OsFamily.Windows ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
    private char Sep => os == OsFamily.Windows ? '\\' : '/';
    private StringComparison Cmp => os == OsFamily.Windows ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    public string File(string path)
    {
        _files.Add(path);
        for (int i = path.LastIndexOf(Sep); i > 0; i = path.LastIndexOf(Sep, i - 1)) _folders.Add(path[..i]);
        return path;
    }

    public string Folder(string path)
    {
        File(path + Sep + ".keep");
        _files.Remove(path + Sep + ".keep");
        return path;
    }

    public SearchPlatform Platform => new(os, name => Env.TryGetValue(name, out var v) ? v : null, _files.Contains, _folders.Contains, Subfolders);

    private IEnumerable<string> Subfolders(string folder, string pattern)
    {
        var prefix = folder.TrimEnd(Sep) + Sep;
        var regex = new Regex("^" + Regex.Escape(pattern).Replace(@"\*", ".*") + "$", os == OsFamily.Windows ? RegexOptions.IgnoreCase : RegexOptions.None);
        return _folders.Where(f => f.StartsWith(prefix, Cmp) && f.IndexOf(Sep, prefix.Length) < 0 && regex.IsMatch(f[prefix.Length..])).ToList();
    }
}
