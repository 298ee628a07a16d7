using System.CommandLine;
using Engine.Graph;
using Engine.IO;
using Engine.Ops;

namespace Host;

/// <summary>A problem with the user's input: printed as one line, exit code 2, no stack trace.</summary>
public sealed class UsageException(string message) : Exception(message);

public static class CliErrors
{
    /// <summary>
    /// Runs the command line; known failures become one clear line on stderr and a non-zero exit:
    /// bad input 2, a file that cannot be written (disk full, read-only, permissions) 4.
    /// </summary>
    public static int Run(RootCommand root, string[] args)
    {
        try
        {
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0) throw new UsageException(string.Join("; ", parsed.Errors.Select(e => e.Message)));
            // Without this, System.CommandLine prints its own "Unhandled exception" trace and returns 1.
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (Report(e) is int code)
        {
            return code;
        }
    }

    /// <summary>Prints a known failure as one line and returns its exit code; null for an exception that is a bug (left to crash with its trace).</summary>
    public static int? Report(Exception e)
    {
        switch (e)
        {
            case UsageException or ShapeException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or KeyNotFoundException:
                Console.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Usage;
            case IOException or UnauthorizedAccessException:
                Console.Error.WriteLine($"error: {IoErrors.Describe(e)}");
                return ExitCodes.FileSystem;
            case Engine.Distributed.CollectiveException or Engine.Distributed.MpiUnavailableException:
                Console.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.RankFailed;
            default:
                return null;
        }
    }
}
