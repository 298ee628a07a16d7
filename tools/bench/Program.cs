using System.Globalization;
using Bench;
using Engine.Cuda;
using Engine.Tensors;

// Kernel microbenchmarks in the style of llm.c's dev/cuda: each kernel is first validated
// against the CPU reference op, then timed with events after an L2 flush, on the shapes real
// nets use (vovnet57 at batch 64, 224x224; SegNet) and, with --sweep, over batch sizes.
// Usage: bench [--gpu N] [--filter TEXT] [--repeat N] [--sweep] [--no-validate] [--markdown FILE]

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var options = Options.Parse(args);
if (options is null) return 2;

Gpu gpu;
try
{
    gpu = new Gpu(options.Gpu);
}
catch (CudaUnavailableException e)
{
    Console.Error.WriteLine($"bench: {e.Message}");
    return 1;
}
using var _ = gpu;
var info = gpu.Backend.Device.Info;
Console.WriteLine($"# Kernel benchmarks: {info.Name}, {info.Multiprocessors} SMs, sm_{info.ComputeMajor}{info.ComputeMinor}, driver CUDA {CudaDevice.DriverVersion()}");
Console.WriteLine($"# kernels: {(Environment.GetEnvironmentVariable(KernelCatalog.PtxFolderVariable) is { Length: > 0 } dir ? dir : "embedded PTX")}");
double copy = gpu.CopyBandwidth();
Console.WriteLine($"# device-to-device copy: {copy:F0} GB/s (read + write); {options.Repeats} timed runs per kernel, L2 flushed before each");
Console.WriteLine();

var rows = new List<string>
{
    "| kernel | dir | shape | valid | mean µs | best µs | GB/s | % of copy |",
    "|---|---|---|---|---|---|---|---|",
};
int failures = 0;
foreach (var c in Suite.Real().Where(options.Selects))
    rows.Add(Measure(c, options.Validate));
if (options.Sweep)
{
    foreach (var batch in new[] { 1, 2, 4, 8, 16, 32, 64, 128 })
        foreach (var c in Suite.Sweep(batch).Where(options.Selects))
            rows.Add(Measure(c, validate: options.Validate && batch <= 4));
}

Console.WriteLine();
foreach (var r in rows) Console.WriteLine(r);
if (options.Markdown is { } path)
{
    File.WriteAllLines(path, [$"Kernel benchmarks on {info.Name} ({info.Multiprocessors} SMs), copy bandwidth {copy:F0} GB/s, {DateTime.UtcNow:yyyy-MM-dd}", "", .. rows]);
    Console.WriteLine($"# table written to {path}");
}
if (failures > 0) Console.WriteLine($"# {failures} kernel(s) FAILED validation");
return failures > 0 ? 1 : 0;

string Measure(Case c, bool validate)
{
    Console.WriteLine($"{c.Kernel} {c.Direction} {c.Shape}");
    c.Setup(gpu);
    string valid = "-";
    if (validate)
    {
        bool ok = c.Validate(gpu);
        valid = ok ? "ok" : "FAIL";
        if (!ok) failures++;
    }
    var (mean, best) = gpu.Time(() => c.Run(gpu), options.Repeats);
    gpu.FreeAll();
    double gbs = c.Bytes / (mean * 1e3);
    Console.WriteLine($"    {mean:F1} µs mean, {best:F1} µs best, {gbs:F0} GB/s");
    return $"| {c.Kernel} | {c.Direction} | {c.Shape} | {valid} | {mean:F1} | {best:F1} | {gbs:F0} | {100 * gbs / copy:F0}% |";
}

namespace Bench
{
    internal sealed record Options(int Gpu, string? Filter, int Repeats, bool Sweep, bool Validate, string? Markdown)
    {
        public bool Selects(Case c) => Filter is null || c.ToString().Contains(Filter, StringComparison.OrdinalIgnoreCase);

        public static Options? Parse(string[] args)
        {
            var o = new Options(0, null, 20, false, true, null);
            for (int i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                try
                {
                    o = args[i] switch
                    {
                        "--gpu" => o with { Gpu = int.Parse(Value(), CultureInfo.InvariantCulture) },
                        "--filter" => o with { Filter = Value() },
                        "--repeat" => o with { Repeats = Math.Max(1, int.Parse(Value(), CultureInfo.InvariantCulture)) },
                        "--sweep" => o with { Sweep = true },
                        "--no-validate" => o with { Validate = false },
                        "--markdown" => o with { Markdown = Value() },
                        _ => throw new ArgumentException($"unknown argument '{args[i]}'"),
                    };
                }
                catch (Exception e) when (e is ArgumentException or FormatException)
                {
                    Console.Error.WriteLine($"bench: {e.Message}. Usage: bench [--gpu N] [--filter TEXT] [--repeat N] [--sweep] [--no-validate] [--markdown FILE]");
                    return null;
                }
            }
            return o;
        }
    }

    /// <summary>The shapes: vovnet57 at batch 64 (224x224 input) and SegNet; the sweep scales the batch.</summary>
    internal static class Suite
    {
        public static IEnumerable<Case> Real()
        {
            foreach (var bwd in new[] { false, true })
            {
                yield return new MishCase(new Shape(64, 64, 112, 112), bwd);   // stem
                yield return new MishCase(new Shape(64, 128, 56, 56), bwd);    // stage 2 OSA layer
                yield return new MishCase(new Shape(64, 1024, 7, 7), bwd);     // stage 5 output
                yield return new ConcatCase(new Shape(64, 128, 56, 56), 5, bwd); // stage 2 OSA concat
                yield return new ConcatCase(new Shape(64, 224, 7, 7), 5, bwd);   // stage 5 OSA concat
                yield return new MaxPoolCase(new Shape(64, 128, 112, 112), 3, 2, 1, bwd); // stem pool
                yield return new MaxPoolCase(new Shape(64, 768, 14, 14), 3, 2, 1, bwd);   // stage 4 pool
                yield return new MaxUnpoolCase(new Shape(4, 32, 32, 32), bwd);    // SegNet seed (64x64, width 32)
                yield return new MaxUnpoolCase(new Shape(16, 64, 112, 112), bwd); // full-size SegNet at 224
                yield return new SoftmaxCeCase(new Shape(64, 1000), bwd);         // ImageNet head
                yield return new SoftmaxCeCase(new Shape(4, 22, 64, 64), bwd);    // SegNet seed
                yield return new SoftmaxCeCase(new Shape(8, 151, 320, 480), bwd); // ADE20K-sized segmentation
                yield return new GroupNormCase(new Shape(64, 128, 56, 56), 32, bwd);
                yield return new GroupNormCase(new Shape(64, 1024, 7, 7), 32, bwd);
                yield return new BnActCase(new Shape(64, 64, 112, 112), bwd);   // vovnet57 stem BN + Mish
                yield return new BnActCase(new Shape(64, 128, 56, 56), bwd);    // stage 2 OSA layer
                yield return new BnActCase(new Shape(64, 1024, 7, 7), bwd);     // stage 5 output
            }
            foreach (var adam in new[] { false, true })
            {
                yield return new OptimizerCase(31_430_184, adam);    // vovnet57's parameters
                yield return new OptimizerCase(138_357_544, adam);   // vgg16's
            }
        }

        public static IEnumerable<Case> Sweep(int batch)
        {
            foreach (var bwd in new[] { false, true })
            {
                yield return new MishCase(new Shape(batch, 128, 56, 56), bwd);
                yield return new ConcatCase(new Shape(batch, 128, 56, 56), 5, bwd);
                yield return new MaxPoolCase(new Shape(batch, 128, 112, 112), 3, 2, 1, bwd);
                yield return new SoftmaxCeCase(new Shape(batch, 22, 64, 64), bwd);
                yield return new GroupNormCase(new Shape(batch, 128, 56, 56), 32, bwd);
                yield return new BnActCase(new Shape(batch, 128, 56, 56), bwd);
            }
            yield return new OptimizerCase(batch * 1_000_000, adam: true);
        }
    }
}
