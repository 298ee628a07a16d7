using System.Text.RegularExpressions;

namespace Engine.IO;

/// <summary>A file or folder could not be written; the message is "path: cause" (e.g. "No space left on device").</summary>
public sealed class FileWriteException(string path, string cause, Exception? inner = null) : IOException($"{path}: {cause}", inner)
{
    public string Path { get; } = path;
    public string Cause { get; } = cause;

    /// <summary>The failure <paramref name="e"/> of writing <paramref name="path"/>, named by that path.</summary>
    public static FileWriteException Of(string path, Exception e) => e as FileWriteException ?? new(path, IoErrors.Cause(e), e);
}

/// <summary>Reads .NET's file-system exception messages apart into the path and the cause.</summary>
public static partial class IoErrors
{
    /// <summary>The cause alone: "No space left on device" rather than "No space left on device : '/run/x.tmp-12'".</summary>
    public static string Cause(Exception e) => e switch
    {
        FileWriteException f => f.Cause,
        UnauthorizedAccessException => "permission denied",
        _ when WithPath().Match(e.Message) is { Success: true } m => m.Groups["cause"].Value,
        _ when FileExists().IsMatch(e.Message) => "a file of that name is in the way",
        _ => e.Message,
    };

    /// <summary>One line "path: cause" where the message names a path, else the message.</summary>
    public static string Describe(Exception e)
    {
        if (e is FileWriteException) return e.Message;
        var path = WithPath().Match(e.Message) is { Success: true } m ? m.Groups["path"].Value
            : QuotedPath().Match(e.Message) is { Success: true } q ? q.Groups["path"].Value : null;
        return path is null ? e.Message : $"{path}: {Cause(e)}";
    }

    // .NET on Unix: "<strerror> : '<path>'"
    [GeneratedRegex(@"^(?<cause>.+?) : '(?<path>.+)'$", RegexOptions.Singleline)]
    private static partial Regex WithPath();

    // "Access to the path '<path>' is denied.", "The file '<path>' already exists."
    [GeneratedRegex(@"(?:the path|The file) '(?<path>.+)' ")]
    private static partial Regex QuotedPath();

    [GeneratedRegex(@"^The file '.+' already exists\.$")]
    private static partial Regex FileExists();
}
