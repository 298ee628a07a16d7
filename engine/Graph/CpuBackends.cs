namespace Engine.Graph;

/// <summary>The CPU backend of a precision.</summary>
public static class CpuBackends
{
    public static Backend Create(Precision precision) => precision switch
    {
        Precision.Fp32 => new CpuBackend<float>(),
        Precision.Bf16 => new CpuBackend<float>(emulateBf16: true),
        Precision.Fp64 => new CpuBackend<double>(),
        _ => throw new PrecisionNotSupportedException($"{precision.Name()} is a GPU tensor-core mode; the CPU computes fp32, fp64, or emulates bf16"),
    };
}
