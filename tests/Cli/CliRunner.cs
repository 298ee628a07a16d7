using System.CommandLine;
using Host;

namespace Engine.Tests.Cli;

/// <summary>Runs host commands in-process through the host's error handling, capturing what they print.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Run(IEnumerable<Command> commands, string[] args)
    {
        var root = new RootCommand();
        foreach (var c in commands) root.Subcommands.Add(c);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var (keepOut, keepErr) = (Console.Out, Console.Error);
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try { return (CliErrors.Run(root, args), stdout.ToString(), stderr.ToString()); }
        finally
        {
            Console.SetOut(keepOut);
            Console.SetError(keepErr);
        }
    }
}
