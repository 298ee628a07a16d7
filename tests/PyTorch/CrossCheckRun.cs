using Engine.Tensors;

namespace Engine.Tests.PyTorch;

/// <summary>
/// Writes every case (float64 and float32) into a temporary folder, runs the reference script
/// once over all of them, and compares each engine output and gradient with PyTorch's:
/// max |engine - torch| &lt;= tolerance * max(max |torch|, 1e-6), per tensor.
/// </summary>
public sealed class CrossCheckRun : IDisposable
{
    private readonly string _root;
    private readonly string? _skip;
    private readonly Dictionary<string, string> _writeErrors = [];

    private CrossCheckRun(string root, string? skip) { _root = root; _skip = skip; }

    public static CrossCheckRun Start(IEnumerable<CrossCheckCase> cases, string label)
    {
        var python = PythonTorch.Python(out var reason);
        var root = Path.Combine(Path.GetTempPath(), $"engine-xcheck-{label}-{Environment.ProcessId}");
        if (python is null) return new CrossCheckRun(root, reason);
        if (Directory.Exists(root)) Directory.Delete(root, true);
        var run = new CrossCheckRun(root, null);
        foreach (var c in cases)
            foreach (var dbl in new[] { true, false })
            {
                try { c.Write(run.Dir(c, dbl), dbl); }
                catch (Exception e) { run._writeErrors[run.Dir(c, dbl)] = e.ToString(); }
            }
        var script = Path.Combine(PythonTorch.RepoRoot, "tools", "reference", "xcheck.py");
        var (code, output) = PythonTorch.Run(python, script, root);
        if (code != 0) throw new InvalidOperationException($"xcheck.py failed ({code}):\n{output}");
        return run;
    }

    private string Dir(CrossCheckCase c, bool dbl) => Path.Combine(_root, c.Id + (dbl ? ".f64" : ".f32"));

    /// <param name="roundoffFallback">
    /// float32 only: a tensor that misses <paramref name="tolerance"/> still passes when the
    /// engine is about as close to PyTorch's float64 result as PyTorch's own float32 result is
    /// (within 4x: summation order alone moves a tensor's roundoff by 2x either way). Deep nets in
    /// training mode amplify float32 roundoff to ~1e-4 in any implementation; a real error is
    /// orders of magnitude larger.
    /// </param>
    public void Compare(CrossCheckCase c, bool useDouble, double tolerance, bool roundoffFallback = false)
    {
        if (_skip is not null) Assert.Ignore(_skip);
        var dir = Dir(c, useDouble);
        if (_writeErrors.TryGetValue(dir, out var err)) Assert.Fail($"engine failed on {c.Id}: {err}");
        var torchError = Path.Combine(dir, "torch_error.txt");
        if (File.Exists(torchError)) Assert.Fail($"PyTorch failed on {c.Id}: {File.ReadAllText(torchError)}");

        var compared = new List<string>();
        var problems = new List<string>();
        foreach (var enginePath in Directory.GetFiles(dir, "engine_*.npy").Order())
        {
            var name = Path.GetFileName(enginePath)["engine_".Length..];
            var torchPath = Path.Combine(dir, "torch_" + name);
            if (!File.Exists(torchPath)) { problems.Add($"{name}: PyTorch produced no counterpart"); continue; }
            var a = Npy.Read<double>(enginePath);
            var b = Npy.Read<double>(torchPath);
            compared.Add(name);
            if (a.Shape.Numel != b.Shape.Numel) { problems.Add($"{name}: shape {a.Shape} vs PyTorch {b.Shape}"); continue; }
            var (maxDiff, scale, worst) = Difference(a, b);
            if (maxDiff <= tolerance * scale) continue;
            if (roundoffFallback && !useDouble && File.Exists(Path.Combine(Dir(c, true), "torch_" + name)))
            {
                var truth = Npy.Read<double>(Path.Combine(Dir(c, true), "torch_" + name));
                var (engineError, truthScale, _) = Difference(a, truth);
                var (torchRoundoff, _, _) = Difference(b, truth);
                if (engineError <= 4 * torchRoundoff) continue;
                problems.Add($"{name}: engine float32 is {engineError / truthScale:G3} from PyTorch float64, PyTorch float32 only {torchRoundoff / truthScale:G3}");
                continue;
            }
            problems.Add($"{name}: max |diff| {maxDiff:G3} at {worst} (engine {a.Data[worst]:G10}, torch {b.Data[worst]:G10}), scale {scale:G3}, relative {maxDiff / scale:G3} > {tolerance:G1}");
        }
        Assert.That(compared, Is.Not.Empty, $"{c.Id}: nothing compared");
        Assert.That(problems, Is.Empty, $"{c.Id} ({(useDouble ? "float64" : "float32")}):\n  " + string.Join("\n  ", problems));
    }

    private static (double MaxDiff, double Scale, long Worst) Difference(Tensor<double> a, Tensor<double> b)
    {
        double maxDiff = 0, scale = 1e-6;
        long worst = 0;
        for (long i = 0; i < a.Data.LongLength; i++)
        {
            scale = Math.Max(scale, Math.Abs(b.Data[i]));
            double d = Math.Abs(a.Data[i] - b.Data[i]);
            if (!(d <= maxDiff)) { maxDiff = d; worst = i; }
        }
        return (maxDiff, scale, worst);
    }

    public void Dispose()
    {
        if (Directory.Exists(_root) && Environment.GetEnvironmentVariable("ENGINE_KEEP_XCHECK") != "1") Directory.Delete(_root, true);
    }
}
