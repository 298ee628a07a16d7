namespace Engine.Data.Datasets;

/// <summary>
/// Lists the files under a class folder, following directory links with care: a link is followed
/// only to a real folder outside the dataset root that this walk has not reached yet, so a link
/// back to an ancestor (a loop), to the root or to another class folder adds nothing, and a folder
/// reached twice is read once. Names starting with '.' are skipped on every OS; file names that
/// are not UTF-8 (Linux) are kept through <see cref="RawFileNames"/>.
/// </summary>
internal static class FolderWalk
{
    public static readonly StringComparer PathComparer = OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
    private static readonly StringComparison PathComparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    /// <summary>The files of <paramref name="folder"/> grouped by the real folder they were found in.</summary>
    public static List<(string RealFolder, List<string> Files)> Files(string folder, string rootReal)
    {
        var options = new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden, RecurseSubdirectories = false };
        var result = new List<(string, List<string>)>();
        var visited = new HashSet<string>(PathComparer);
        var pending = new Stack<(string Path, string Real)>();
        string start = RealPath(folder);
        visited.Add(start);
        pending.Push((folder, start));
        while (pending.TryPop(out var dir))
        {
            var info = new DirectoryInfo(dir.Path);
            var names = info.EnumerateFiles("*", options).Select(f => f.Name).ToList();
            if (names.RemoveAll(RawFileNames.Mangled) > 0) names.AddRange(RawFileNames.Undecodable(dir.Path));
            result.Add((dir.Real, names.Where(n => !n.StartsWith('.')).Select(n => Path.Combine(dir.Path, n)).ToList()));
            foreach (var sub in info.EnumerateDirectories("*", options))
            {
                if (sub.Name.StartsWith('.')) continue;
                string real;
                if (!sub.Attributes.HasFlag(FileAttributes.ReparsePoint)) real = Path.Combine(dir.Real, sub.Name);
                else
                {
                    try { real = RealPath(sub.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? sub.FullName); }
                    catch (IOException) { continue; }   // a link loop or a broken link
                    if (Within(real, rootReal) || Within(dir.Real, real)) continue;
                }
                if (visited.Add(real)) pending.Push((Path.Combine(dir.Path, sub.Name), real));
            }
        }
        return result;
    }

    /// <summary>The path with every link in it resolved (the OS's realpath, written with .NET's calls).</summary>
    public static string RealPath(string path, int depth = 0)
    {
        if (depth > 40) throw new IOException($"too many levels of links in {path}");
        string full = Path.GetFullPath(path);
        string current = Path.GetPathRoot(full)!;
        foreach (var part in full[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Combine(current, part);
            var info = new DirectoryInfo(next);
            if (info.Exists && info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
                next = RealPath(target.FullName, depth + 1);
            current = next;
        }
        return current;
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="folder"/> or inside it.</summary>
    public static bool Within(string path, string folder)
    {
        folder = Path.TrimEndingDirectorySeparator(folder);
        return path.Equals(folder, PathComparison)
            || path.StartsWith(folder + Path.DirectorySeparatorChar, PathComparison);
    }
}
