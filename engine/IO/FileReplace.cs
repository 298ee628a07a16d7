namespace Engine.IO;

/// <summary>
/// Renames a finished temporary file over its target. POSIX rename replaces the target atomically
/// even while a reader holds it open. On Windows File.Move(overwrite) is MoveFileEx with
/// REPLACE_EXISTING, which also replaces in one step but fails instead of waiting while another
/// process has the target or the new file open without FILE_SHARE_DELETE (a virus scanner or
/// indexer inspecting a fresh file, a user's editor on metrics.csv), and fails on a read-only
/// target. There the read-only bit is cleared and the rename retried for about two seconds; the
/// target is never removed first, so a reader sees the old or the new file, never none.
/// </summary>
public static class FileReplace
{
    public const int WindowsAttempts = 10;

    public static void Over(string source, string target) => Over(source, target, OperatingSystem.IsWindows());

    /// <param name="windows">Take the Windows path (tests take it on Linux too).</param>
    /// <param name="move">The rename (File.Move with overwrite; tests inject failures).</param>
    /// <param name="sleep">Waits between attempts, in milliseconds.</param>
    public static void Over(string source, string target, bool windows, Action<string, string>? move = null, Action<int>? sleep = null)
    {
        move ??= (s, t) => File.Move(s, t, overwrite: true);
        if (!windows)
        {
            move(source, target);
            return;
        }
        sleep ??= Thread.Sleep;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                ClearReadOnly(target);
                move(source, target);
                return;
            }
            catch (Exception e) when (attempt < WindowsAttempts && IsTransient(e))
            {
                sleep(Math.Min(10 << (attempt - 1), 500));
            }
        }
    }

    private static void ClearReadOnly(string path)
    {
        if (File.Exists(path) && File.GetAttributes(path) is var a && a.HasFlag(FileAttributes.ReadOnly))
            File.SetAttributes(path, a & ~FileAttributes.ReadOnly);
    }

    /// <summary>Sharing and access violations pass; a missing file or folder does not.</summary>
    private static bool IsTransient(Exception e) =>
        e is UnauthorizedAccessException ||
        (e is IOException && e is not FileNotFoundException and not DirectoryNotFoundException and not PathTooLongException);
}
