using Engine.IO;

namespace Engine.Training.Checkpoints;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new one: the data
/// goes to "name.tmp-PID" in the same folder, is flushed to disk, then renamed over the target
/// (rename is atomic within one file system; <see cref="FileReplace"/> covers Windows' rules).
/// </summary>
public static class AtomicFile
{
    /// <summary>Test hook: runs after the temporary file is complete and before the rename (a crash there must leave the old file).</summary>
    internal static Action<string>? BeforeRename;
    /// <summary>Test hook: the rename over the target; tests run the Windows path of <see cref="FileReplace"/> through it on Linux.</summary>
    internal static Action<string, string> Replace = FileReplace.Over;

    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = $"{full}.tmp-{Environment.ProcessId}";
        try
        {
            using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(f);
                f.Flush(flushToDisk: true);
            }
            BeforeRename?.Invoke(full);
            Replace(tmp, full);
        }
        catch
        {
            try { File.Delete(tmp); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            throw;
        }
    }

    public static void WriteText(string path, string text) => Write(path, s =>
    {
        using var w = new StreamWriter(s, leaveOpen: true);
        w.Write(text);
    });
}
