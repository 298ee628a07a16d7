using System.Text.RegularExpressions;

namespace Engine.Tests.Kernels;

/// <summary>
/// The kernel sources, kernels/ABI.md and the built PTX, found by walking up from the test
/// binary (or the working directory) to the folder that holds kernels/ABI.md.
/// </summary>
internal static partial class KernelFiles
{
    /// <summary>The repository root, or null when the tests run without the source tree.</summary>
    public static string? Root { get; } = FindRoot();

    public static string KernelsDir => Path.Combine(RequireRoot(), "kernels");
    public static string BuildDir => Path.Combine(KernelsDir, "build");

    /// <summary>The repository root; ignores the calling test when the source tree is absent.</summary>
    public static string RequireRoot()
    {
        if (Root is null)
            Assert.Ignore($"kernels/ABI.md not found above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}: run from the source tree");
        return Root!;
    }

    /// <summary>The built PTX modules by module name; ignores the calling test when nvcc built none.</summary>
    public static Dictionary<string, string> RequireBuiltPtx()
    {
        var files = Directory.Exists(BuildDir) ? Directory.GetFiles(BuildDir, "*.ptx") : [];
        if (files.Length == 0)
            Assert.Ignore($"no PTX in {BuildDir}: nvcc is missing or tools/setup/build-kernels.sh has not run");
        return files.ToDictionary(f => Path.GetFileNameWithoutExtension(f), File.ReadAllText);
    }

    /// <summary>Entry name -> PTX parameter types (".u64", ".u32", ".f32", ...) of every .entry in a PTX text.</summary>
    public static Dictionary<string, string[]> PtxEntries(string ptx)
    {
        var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (Match m in PtxEntry().Matches(ptx))
            result[m.Groups["name"].Value] = PtxParam().Matches(m.Groups["params"].Value).Select(p => p.Groups[1].Value).ToArray();
        return result;
    }

    /// <summary>Names of the extern "C" entry points defined with the KERNEL macro in a .cu source.</summary>
    public static IEnumerable<string> SourceEntries(string source) =>
        SourceEntry().Matches(source).Select(m => m.Groups[1].Value);

    private static string? FindRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "kernels", "ABI.md"))) return dir.FullName;
        return null;
    }

    [GeneratedRegex(@"\.entry\s+(?<name>\w+)\s*\((?<params>[^)]*)\)", RegexOptions.Singleline)]
    private static partial Regex PtxEntry();

    [GeneratedRegex(@"\.param\s+(\.\w+)")]
    private static partial Regex PtxParam();

    [GeneratedRegex(@"^KERNEL\s+void\s+(\w+)\s*\(", RegexOptions.Multiline)]
    private static partial Regex SourceEntry();
}
