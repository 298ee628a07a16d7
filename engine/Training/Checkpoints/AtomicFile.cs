using Engine.IO;

namespace Engine.Training.Checkpoints;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new one: the data
/// goes to "name.tmp-PID" in the same folder, is flushed to disk, then renamed over the target
/// (rename is atomic within one file system; <see cref="FileReplace"/> covers Windows' rules).
/// A failure (disk full, read-only, permissions) removes the temporary file, leaves the target
/// as it was and is thrown as a <see cref="FileWriteException"/> naming the target.
/// </summary>
public static class AtomicFile
{
    /// <summary>Test hook: runs after the temporary file is complete and before the rename (a crash there must leave the old file).</summary>
    internal static Action<string>? BeforeRename;
    /// <summary>Test hook: the rename over the target; tests run the Windows path of <see cref="FileReplace"/> through it on Linux.</summary>
    internal static Action<string, string> Replace = FileReplace.Over;
    /// <summary>Test hook: wraps the temporary file's stream (target path, stream), e.g. to fail mid-write as a full disk does.</summary>
    internal static Func<string, Stream, Stream>? WrapStream;

    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var tmp = $"{full}.tmp-{Environment.ProcessId}";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            using (var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            using (var f = WrapStream?.Invoke(full, file) ?? file)
            {
                write(f);
                f.Flush();
                file.Flush(flushToDisk: true);
            }
            BeforeRename?.Invoke(full);
            Replace(tmp, full);
        }
        catch (Exception e)
        {
            try { File.Delete(tmp); } catch (Exception d) when (d is IOException or UnauthorizedAccessException) { }
            if (e is IOException or UnauthorizedAccessException) throw FileWriteException.Of(full, e);
            throw;
        }
    }

    /// <summary>
    /// Deletes the temporary files that writes killed before their rename left in <paramref name="folder"/>
    /// ("name.tmp-PID" of another process); returns their names.
    /// </summary>
    public static IReadOnlyList<string> RemoveLeftovers(string folder)
    {
        if (!Directory.Exists(folder)) return [];
        var removed = new List<string>();
        string own = $".tmp-{Environment.ProcessId}";
        foreach (var f in Directory.GetFiles(folder, "*.tmp-*"))
        {
            var suffix = f[(f.LastIndexOf(".tmp-", StringComparison.Ordinal) + 5)..];
            if (suffix.Length == 0 || !suffix.All(char.IsAsciiDigit) || f.EndsWith(own, StringComparison.Ordinal)) continue;
            try { File.Delete(f); removed.Add(Path.GetFileName(f)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }

    public static void WriteText(string path, string text) => Write(path, s =>
    {
        using var w = new StreamWriter(s, leaveOpen: true);
        w.Write(text);
    });
}
