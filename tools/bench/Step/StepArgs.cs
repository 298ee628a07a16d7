using System.Globalization;
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
    public bool Tf32 { get; init; }
    public bool ConvBenchmark { get; init; }
    public bool Nondeterministic { get; init; }
    /// <summary>Capture the step as a CUDA graph after warm-up and replay it (default on with --gpu).</summary>
    public bool CudaGraph { get; init; } = true;
    public string Optimizer { get; init; } = "sgd";
    public bool Profile { get; init; }
    public string? Markdown { get; init; }
    public string? SaveWeights { get; init; }

    public const string Usage =
        "usage: step [--net NAME] [--input CxHxW] [--batch N] [--classes N] [--width X] [--norm bn|gn|none]\n" +
        "            [--steps N] [--warmup N] [--optimizer sgd|adam] [--gpu N [--tf32] [--conv-search heuristic|benchmark]\n" +
        "            [--nondeterministic] [--cuda-graph on|off]] [--profile] [--markdown FILE] [--save-weights FILE]";

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
                case "--tf32": r = r with { Tf32 = true }; break;
                case "--cuda-graph":
                    {
                        string text = Next();
                        r = r with { CudaGraph = text switch { "on" => true, "off" => false, _ => throw new StepArgsException($"--cuda-graph '{text}': expected on or off") } };
                        break;
                    }
                case "--nondeterministic": r = r with { Nondeterministic = true }; break;
                case "--profile": r = r with { Profile = true }; break;
                case "--markdown": r = r with { Markdown = Next() }; break;
                case "--save-weights": r = r with { SaveWeights = Next() }; break;
                default: throw new StepArgsException($"unknown argument '{flag}'\n{Usage}");
            }
        }
        if (r.Gpu is null && (r.Tf32 || r.ConvBenchmark || r.Nondeterministic))
            throw new StepArgsException("--tf32, --conv-search and --nondeterministic need --gpu N (they are CUDA switches)");
        return r;
    }

    private static int Positive(string flag, string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 1 ? n
            : throw new StepArgsException($"{flag} '{text}': expected a positive whole number");

    private static int NonNegative(string flag, string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 0 ? n
            : throw new StepArgsException($"{flag} '{text}': expected a whole number, 0 or more");
}
