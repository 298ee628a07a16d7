using System.CommandLine;
using Engine.Graph;

namespace Host;

/// <summary>The --precision option of `train` and `eval`.</summary>
/// <param name="note">What the command does with it, the help's last sentence.</param>
public sealed class PrecisionChoice(string note)
{
    public Option<string?> Precision { get; } = new("--precision")
    {
        Description = "Arithmetic: fp32 (IEEE float32), tf32 (GPU only: float32 storage, convolutions and GEMMs on TF32 tensor cores, " +
            "~1e-3 relative error), bf16 (bf16 activations, activation gradients and convolution/GEMM inputs; fp32 accumulation, master " +
            "weights, optimizer state, batch-norm statistics and loss; emulated on the CPU by rounding, as the reference a GPU run is " +
            "checked against, not for speed; the GPU's bf16 path is not built yet) or fp64 (CPU only, for exact comparisons, e.g. of " +
            "data-parallel runs). Default: fp32 (the plan: bf16 on GPUs of compute capability 8.0+ once their bf16 path exists). " + note,
    };

    public void AddTo(Command c) => c.Options.Add(Precision);

    /// <summary>The precision asked for, or null for the device's default.</summary>
    public Engine.Graph.Precision? Given(ParseResult r) => r.GetValue(Precision) is not { } text ? null
        : Precisions.Parse(text) ?? throw new UsageException($"--precision '{text}': expected {Precisions.Names}");
}
