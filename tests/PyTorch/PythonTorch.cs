using System.Diagnostics;

namespace Engine.Tests.PyTorch;

/// <summary>Finds Debian's python3 with torch (python3-torch), or with onnx (python3-onnx), and runs the reference scripts.</summary>
public static class PythonTorch
{
    private static readonly Lazy<(string? Python, string? Reason)> Found = new(() => Find("import torch, numpy",
        "PyTorch not found: install python3-torch (./build.sh does as root) or set ENGINE_TORCH_PYTHON"));
    private static readonly Lazy<(string? Python, string? Reason)> FoundOnnx = new(() => Find("import onnx, onnx.checker",
        "the onnx package not found: install python3-onnx (./build.sh does as root) or set ENGINE_TORCH_PYTHON to a python3 with onnx"));

    /// <summary>The interpreter to use, or null with the reason it is unavailable.</summary>
    public static string? Python(out string reason)
    {
        var (python, why) = Found.Value;
        reason = why ?? "";
        return python;
    }

    /// <summary>An interpreter with the onnx package (its checker), or null with the reason it is unavailable.</summary>
    public static string? OnnxPython(out string reason)
    {
        var (python, why) = FoundOnnx.Value;
        reason = why ?? "";
        return python;
    }

    public static string RepoRoot { get; } = FindRepoRoot();

    public static (int ExitCode, string Output) Run(string python, params string[] args)
    {
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["OMP_NUM_THREADS"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static (string?, string?) Find(string imports, string missing)
    {
        var candidates = new[] { Environment.GetEnvironmentVariable("ENGINE_TORCH_PYTHON"), "/usr/bin/python3" };
        foreach (var c in candidates)
        {
            if (string.IsNullOrEmpty(c) || !File.Exists(c)) continue;
            try
            {
                var (code, _) = Run(c, "-c", imports);
                if (code == 0) return (c, null);
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
        return (null, missing);
    }

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Engine.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("repository root (Engine.sln) not found above " + AppContext.BaseDirectory);
    }
}
