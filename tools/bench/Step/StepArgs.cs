using System.Globalization;
using Engine.Graph;
using Engine.Nets;
using Engine.Tensors;

namespace Engine.Bench.Step;

/// <summary>A bad command line: the message names the argument and what was wrong.</summary>
public sealed class StepArgsException(string message) : ArgumentException(message);

/// <summary>The step bench's command line (see <see cref="Usage"/>).</summary>
public sealed record StepArgs
{
    public string Net { get; init; } = "segnet";
    public Shape Input { get; init; } = new(3, 64, 64);
    public int Batch { get; init; } = 4;
    public int? Classes { get; init; }
    public double Width { get; init; } = 1.0;
    public Norm Norm { get; init; } = Norm.Default;
    public int Steps { get; init; } = 10;
    public int Warmup { get; init; } = 2;
    /// <summary>GPU ordinal, or null for the float32 CPU backend.</summary>
    public int? Gpu { get; init; }
    /// <summary>--precision; null: the device's default (fp32 on the CPU).</summary>
    public Precision? Precision { get; init; }
    /// <summary>--layout; null: the device's default (nchw on the CPU; a GPU refuses nhwc for now).</summary>
    public Layout? Layout { get; init; }
    public bool ConvBenchmark { get; init; }
    /// <summary>Convolutions through cuDNN's backend (graph) API instead of the legacy one.</summary>
    public bool ConvGraphApi { get; init; }
    public bool Nondeterministic { get; init; }
    /// <summary>Capture the step as a CUDA graph after warm-up and replay it (default on with --gpu).</summary>
    public bool CudaGraph { get; init; } = true;
    public string Optimizer { get; init; } = "sgd";
    public bool Profile { get; init; }
    /// <summary>Per convolution layer: forward, weight-gradient and input-gradient times of the CPU reference alone.</summary>
    public bool Convs { get; init; }
    public string? Markdown { get; init; }
    public string? SaveWeights { get; init; }

    public const string Usage =
        "usage: step [--net NAME] [--input CxHxW] [--batch N] [--classes N] [--width X] [--norm bn|gn|none]\n" +
        "            [--steps N] [--warmup N] [--optimizer sgd|adam] [--precision fp32|tf32|bf16|fp64] [--layout nchw|nhwc]\n" +
        "            [--gpu N [--conv-search heuristic|benchmark] [--conv-api legacy|graph] [--nondeterministic] [--cuda-graph on|off]] [--profile] [--convs] [--markdown FILE] [--save-weights FILE]\n" +
        "  --precision: tf32 needs --gpu; bf16 is emulated on the CPU (the reference, not fast) and not built on the GPU yet; fp64 is the CPU's\n" +
        "  --layout: how activations are stored; nhwc runs on the CPU (every op in NHWC), the GPU's NHWC path is not wired yet";

    public static StepArgs Parse(IReadOnlyList<string> a)
    {
        var r = new StepArgs();
        for (int i = 0; i < a.Count; i++)
        {
            string flag = a[i];
            string Next() => i + 1 < a.Count ? a[++i] : throw new StepArgsException($"{flag} needs a value");
            switch (flag)
            {
                case "--net": r = r with { Net = Next() }; break;
                case "--input":
                    {
                        string text = Next();
                        r = r with { Input = Shape.TryParse(text, out var s) && s.Rank == 3 ? s : throw new StepArgsException($"--input '{text}': expected CxHxW, e.g. 3x224x224") };
                        break;
                    }
                case "--batch": r = r with { Batch = Positive(flag, Next()) }; break;
                case "--classes": r = r with { Classes = Positive(flag, Next()) }; break;
                case "--steps": r = r with { Steps = Positive(flag, Next()) }; break;
                case "--warmup": r = r with { Warmup = NonNegative(flag, Next()) }; break;
                case "--gpu": r = r with { Gpu = NonNegative(flag, Next()) }; break;
                case "--width":
                    {
                        string text = Next();
                        r = r with { Width = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var w) && w > 0 && double.IsFinite(w) ? w : throw new StepArgsException($"--width '{text}': expected a positive number") };
                        break;
                    }
                case "--norm":
                    {
                        string text = Next();
                        r = r with
                        {
                            Norm = text.ToLowerInvariant() switch
                            {
                                "bn" => Norm.Batch,
                                "gn" => Norm.Group,
                                "none" => Norm.None,
                                _ => throw new StepArgsException($"--norm '{text}': expected bn, gn or none"),
                            },
                        };
                        break;
                    }
                case "--optimizer":
                    {
                        string text = Next();
                        r = r with { Optimizer = text is "sgd" or "adam" ? text : throw new StepArgsException($"--optimizer '{text}': expected sgd or adam") };
                        break;
                    }
                case "--conv-search":
                    {
                        string text = Next();
                        r = r with { ConvBenchmark = text switch { "heuristic" => false, "benchmark" => true, _ => throw new StepArgsException($"--conv-search '{text}': expected heuristic or benchmark") } };
                        break;
                    }
                case "--conv-api":
                    {
                        string text = Next();
                        r = r with { ConvGraphApi = text switch { "legacy" => false, "graph" => true, _ => throw new StepArgsException($"--conv-api '{text}': expected legacy or graph") } };
                        break;
                    }
                case "--precision":
                    {
                        string text = Next();
                        r = r with { Precision = Precisions.Parse(text) ?? throw new StepArgsException($"--precision '{text}': expected {Precisions.Names}") };
                        break;
                    }
                case "--layout":
                    {
                        string text = Next();
                        r = r with { Layout = Layouts.Parse(text) ?? throw new StepArgsException($"--layout '{text}': expected {Layouts.Names}") };
                        break;
                    }
                case "--tf32": throw new StepArgsException("--tf32 is now --precision tf32");
                case "--cuda-graph":
                    {
                        string text = Next();
                        r = r with { CudaGraph = text switch { "on" => true, "off" => false, _ => throw new StepArgsException($"--cuda-graph '{text}': expected on or off") } };
                        break;
                    }
                case "--nondeterministic": r = r with { Nondeterministic = true }; break;
                case "--profile": r = r with { Profile = true }; break;
                case "--convs": r = r with { Convs = true }; break;
                case "--markdown": r = r with { Markdown = Next() }; break;
                case "--save-weights": r = r with { SaveWeights = Next() }; break;
                default: throw new StepArgsException($"unknown argument '{flag}'\n{Usage}");
            }
        }
        if (r.Convs && r.Gpu is not null) throw new StepArgsException("--convs times the CPU convolutions; leave out --gpu");
        if (r.Gpu is null && (r.ConvBenchmark || r.Nondeterministic))
            throw new StepArgsException("--conv-search and --nondeterministic need --gpu N (they are CUDA switches)");
        if (r.Gpu is null && r.Precision == Graph.Precision.Tf32)
            throw new StepArgsException("--precision tf32 needs --gpu N (a GPU tensor-core mode; the CPU computes fp32)");
        if (r.Gpu is null && r.ConvGraphApi) throw new StepArgsException("--conv-api needs --gpu N (it is a CUDA switch)");
        return r;
    }

    private static int Positive(string flag, string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 1 ? n
            : throw new StepArgsException($"{flag} '{text}': expected a positive whole number");

    private static int NonNegative(string flag, string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 0 ? n
            : throw new StepArgsException($"{flag} '{text}': expected a whole number, 0 or more");
}
