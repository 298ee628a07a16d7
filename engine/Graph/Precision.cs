namespace Engine.Graph;

/// <summary>
/// The arithmetic of a run (`--precision`). fp32: IEEE float32 everywhere. tf32: float32 storage,
/// convolutions and GEMMs on a GPU's TF32 tensor cores. bf16: bf16 activations, activation
/// gradients and convolution/GEMM operands with fp32 accumulation, master weights, optimizer
/// state, normalisation statistics and loss (emulated on the CPU: engine/Graph/PRECISION.md).
/// fp64: float64 everywhere, the CPU's gradient checks and exact comparisons.
/// </summary>
public enum Precision { Fp32, Tf32, Bf16, Fp64 }

public static class Precisions
{
    /// <summary>The names <see cref="Parse"/> takes, for messages.</summary>
    public const string Names = "fp32, tf32, bf16 or fp64";

    public static string Name(this Precision p) => p.ToString().ToLowerInvariant();

    /// <summary>The precision a `--precision` value names, or null.</summary>
    public static Precision? Parse(string? text) => text?.ToLowerInvariant() switch
    {
        "fp32" => Precision.Fp32,
        "tf32" => Precision.Tf32,
        "bf16" => Precision.Bf16,
        "fp64" => Precision.Fp64,
        _ => null,
    };
}

/// <summary>A backend cannot run the precision asked for; the message says why and what it can run.</summary>
public sealed class PrecisionNotSupportedException(string message) : Exception(message);
