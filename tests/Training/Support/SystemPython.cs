using System.Diagnostics;

namespace Engine.Tests.Training.Support;

/// <summary>Runs scripts with /usr/bin/python3 (the one with numpy), or ignores the test when it is missing.</summary>
internal static class SystemPython
{
    public const string Path = "/usr/bin/python3";

    public static string Run(string script, params string[] args)
    {
        if (!File.Exists(Path)) Assert.Ignore($"{Path} is not installed");
        var psi = new ProcessStartInfo(Path) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0 && stderr.Contains("No module named 'numpy'")) Assert.Ignore("numpy is not installed for /usr/bin/python3");
        Assert.That(p.ExitCode, Is.EqualTo(0), stderr);
        return stdout.Result;
    }
}
