namespace Engine.Cuda.Native;

public enum OsFamily { Linux, Windows }

/// <summary>
/// What the native-library search needs to know about a machine: whose names and folders apply,
/// its environment and its file system. <see cref="Current"/> is this machine; tests pass another
/// OS's data (a Windows tree, with backslashes and ';'-separated PATH, on Linux) through the same
/// search. Paths are joined and split here, never with <see cref="Path"/>, whose separator is
/// the one of the machine the code runs on.
/// </summary>
/// <param name="Environment">Reads an environment variable (null when unset).</param>
/// <param name="Subfolders">The sub-folders of a folder whose names match a '*' pattern (none when the folder is missing).</param>
public sealed record SearchPlatform(
    OsFamily Os,
    Func<string, string?> Environment,
    Func<string, bool> FileExists,
    Func<string, bool> DirectoryExists,
    Func<string, string, IEnumerable<string>> Subfolders)
{
    public static OsFamily CurrentOs => OperatingSystem.IsWindows() ? OsFamily.Windows : OsFamily.Linux;

    public static SearchPlatform Current { get; } = RealFileSystem(CurrentOs, System.Environment.GetEnvironmentVariable);

    /// <summary>The real file system, with another OS's rules or environment (tests build trees under a temp folder).</summary>
    public static SearchPlatform RealFileSystem(OsFamily os, Func<string, string?> environment) =>
        new(os, environment, File.Exists, Directory.Exists, RealSubfolders);

    public bool IsWindows => Os == OsFamily.Windows;
    public char DirectorySeparator => IsWindows ? '\\' : '/';
    /// <summary>What separates folders in PATH, LD_LIBRARY_PATH and the override variable.</summary>
    public char PathListSeparator => IsWindows ? ';' : ':';
    /// <summary>Windows file names are case-insensitive.</summary>
    public StringComparer PathComparer => IsWindows ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    /// <summary>Joins path parts; parts may be written with '/' ("targets/x86_64-linux/lib"), which becomes '\' on Windows.</summary>
    public string Join(string folder, params string[] parts)
    {
        var result = folder;
        foreach (var part in parts)
        {
            var p = IsWindows ? part.Replace('/', '\\') : part;
            result = result.Length == 0 || result[^1] == DirectorySeparator ? result + p : result + DirectorySeparator + p;
        }
        return result;
    }

    /// <summary>The last part of a path.</summary>
    public string FileName(string path)
    {
        var trimmed = TrimEnd(path);
        int cut = IsWindows ? trimmed.LastIndexOfAny(['\\', '/']) : trimmed.LastIndexOf('/');
        return trimmed[(cut + 1)..];
    }

    /// <summary>The folder holding a file ("" for a bare file name).</summary>
    public string FolderOf(string path)
    {
        int cut = IsWindows ? path.LastIndexOfAny(['\\', '/']) : path.LastIndexOf('/');
        return cut < 0 ? "" : cut == 0 ? path[..1] : path[..cut];
    }

    /// <summary>A folder without trailing separators; the root itself ("/", "C:\") is kept.</summary>
    public string TrimEnd(string folder)
    {
        var f = IsWindows ? folder.TrimEnd('\\', '/') : folder.TrimEnd('/');
        if (f.Length == 0 && folder.Length > 0) return folder[..1];
        if (IsWindows && f.Length == 2 && f[1] == ':') return f + '\\';
        return f;
    }

    /// <summary>The folders of a PATH-like variable, empty entries dropped.</summary>
    public IEnumerable<string> SplitList(string? value) =>
        string.IsNullOrEmpty(value) ? [] : value.Split(PathListSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(f => IsWindows ? f.Trim('"') : f)  // Windows allows quoted PATH entries
            .Where(f => f.Length > 0);

    private static IEnumerable<string> RealSubfolders(string folder, string pattern)
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
}
