using Engine.Tensors;

namespace Engine.Graph;

/// <summary>The CPU backend of a precision and an activation layout.</summary>
public static class CpuBackends
{
    public static Backend Create(Precision precision, Layout layout = Layout.Nchw) => precision switch
    {
        Precision.Fp32 => new CpuBackend<float>(layout),
        Precision.Bf16 => new CpuBackend<float>(emulateBf16: true, layout),
        Precision.Fp64 => new CpuBackend<double>(layout),
        _ => throw new PrecisionNotSupportedException($"{precision.Name()} is a GPU tensor-core mode; the CPU computes fp32, fp64, or emulates bf16"),
    };
}
