using System.Text.RegularExpressions;

namespace Engine.Tests.Kernels;

/// <summary>One kernel as kernels/ABI.md documents it: its module and its C parameter types in order.</summary>
internal sealed record AbiEntry(string Name, string Module, string[] ParameterTypes)
{
    /// <summary>The PTX parameter type each C parameter becomes: pointers and 64-bit integers .u64, int .u32, float .f32.</summary>
    public string[] PtxTypes => ParameterTypes.Select(PtxType).ToArray();

    private static string PtxType(string c) => c switch
    {
        _ when c.EndsWith('*') => ".u64",
        "long long" or "unsigned long long" => ".u64",
        "int" or "unsigned int" => ".u32",
        "float" => ".f32",
        _ => throw new FormatException($"ABI.md: parameter type '{c}' has no PTX mapping in this test"),
    };
}

/// <summary>
/// Reads kernels/ABI.md: the module table ("| `module` | `a`, `b` |") and, per kernel, a
/// "### name" heading followed by a line starting with the backticked parameter list.
/// </summary>
internal static partial class AbiDocument
{
    public static IReadOnlyList<AbiEntry> Parse(string markdown)
    {
        var moduleOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match row in ModuleRow().Matches(markdown))
            foreach (Match name in Backticked().Matches(row.Groups["entries"].Value))
                moduleOf[name.Groups[1].Value] = row.Groups["module"].Value;

        var entries = new List<AbiEntry>();
        foreach (Match m in Heading().Matches(markdown))
        {
            var name = m.Groups["name"].Value;
            var types = m.Groups["params"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(TypeOf).ToArray();
            entries.Add(new AbiEntry(name, moduleOf.GetValueOrDefault(name, ""), types));
        }
        return entries;
    }

    /// <summary>"const float* x" -> "float*"; "unsigned long long seed" -> "unsigned long long".</summary>
    private static string TypeOf(string parameter)
    {
        var p = parameter.Replace("const ", "").Replace("__restrict__", "").Trim();
        int cut = p.LastIndexOfAny([' ', '*']);
        if (cut < 0) throw new FormatException($"ABI.md: cannot read a type from '{parameter}'");
        return p[..(cut + 1)].Replace(" *", "*").Trim();
    }

    [GeneratedRegex(@"^###\s+(?<name>\w+)\s*\n`\((?<params>[^)]*)\)`", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"^\|\s*`(?<module>\w+)`\s*\|(?<entries>[^|\n]*)\|", RegexOptions.Multiline)]
    private static partial Regex ModuleRow();

    [GeneratedRegex(@"`(\w+)`")]
    private static partial Regex Backticked();
}
