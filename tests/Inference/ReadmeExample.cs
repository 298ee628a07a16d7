using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Engine.Tests.Inference;

/// <summary>
/// The C# block under README.md's "Inference from C#" heading, compiled with Roslyn as a console
/// program's top-level statements (with the global usings of `dotnet new console`, which a
/// project's ImplicitUsings gives) against the engine, and run in this process.
/// </summary>
internal static partial class ReadmeExample
{
    private static readonly string[] ImplicitUsings =
        ["System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks"];

    public static string Code(string readmePath)
    {
        var m = Block().Match(File.ReadAllText(readmePath));
        return m.Success ? m.Groups[1].Value : throw new AssertionException($"{readmePath}: no ```csharp block under '## Inference from C#'");
    }

    /// <summary>Compiles <paramref name="code"/>; compiler errors fail the test with their text.</summary>
    public static Assembly Compile(string code)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = new[]
        {
            CSharpSyntaxTree.ParseText(code, parse, "README.cs"),
            CSharpSyntaxTree.ParseText(string.Join("\n", ImplicitUsings.Select(u => $"global using global::{u};")), parse, "GlobalUsings.cs"),
        };
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var references = platform.Append(typeof(Engine.Inference.Predictor).Assembly.Location).Distinct()
            .Select(p => MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create("ReadmeExample", trees, references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        var errors = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        Assert.That(errors, Is.Empty, "the README's example does not compile");
        return Assembly.Load(image.ToArray());
    }

    /// <summary>Runs the program's entry point with <paramref name="args"/>, returning what it printed.</summary>
    public static string Run(Assembly program, params string[] args)
    {
        var output = new StringWriter();
        var keep = Console.Out;
        Console.SetOut(output);
        try { program.EntryPoint!.Invoke(null, [args]); }
        finally { Console.SetOut(keep); }
        return output.ToString();
    }

    [GeneratedRegex(@"## Inference from C#.*?```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex Block();
}
