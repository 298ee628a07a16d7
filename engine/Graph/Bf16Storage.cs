using Engine.Tensors;

namespace Engine.Graph;

/// <summary>
/// The rule of emulated bf16 (engine/Graph/PRECISION.md), applied by the CPU backend around each
/// node so that no op knows of it: every float value is stored in bf16 except the outputs an op
/// keeps in fp32 (<see cref="OpBase.KeepsOutputInFp32"/>: the loss), and every activation
/// gradient is stored like its value. Parameters, their gradients, states and what an op keeps
/// for itself (batch-norm statistics) are fp32; product operands get bf16 copies (<see cref="CpuNode{T}.Param"/>).
/// </summary>
internal static class Bf16Storage
{
    /// <summary>Whether <paramref name="v"/> (and so its gradient) is stored in bf16.</summary>
    public static bool IsBf16(Value v) => v.IsFloat && (v.Producer is not { } p || !p.Op.KeepsOutputInFp32(v.Index));

    /// <summary>Graph inputs (the images) are stored in bf16 from the start: rounded before their first reader (rounding is idempotent).</summary>
    public static void RoundGraphInputs(NodeRun run)
    {
        for (int i = 0; i < run.In.Length; i++)
            if (run.Node.Inputs[i] is { Producer: null } v && IsBf16(v)) Round(run.In[i], run.InShapes[i], run.InSampleStride(i));
    }

    public static void RoundOutputs(NodeRun run)
    {
        for (int o = 0; o < run.Out.Length; o++)
            if (IsBf16(run.Node.Outputs[o])) Round(run.Out[o], run.OutShapes[o], run.OutSampleStride(o));
    }

    /// <summary>After a backward pass: each input gradient it wrote (written or accumulated in fp32 within the op, stored in bf16).</summary>
    public static void RoundInputGradients(NodeRun run)
    {
        for (int i = 0; i < run.InGrad.Length; i++)
            if (run.InGrad[i] is { } g && IsBf16(run.Node.Inputs[i])) Round(g, run.InShapes[i], run.InSampleStride(i));
    }

    private static void Round(BufferSlice s, Shape shape, long sampleStride)
    {
        var values = CpuBackend<float>.F(s);
        int samples = shape.Rank == 0 ? 1 : shape[0];
        Bf16.Round(values, samples, shape.Numel / Math.Max(samples, 1), sampleStride);
    }
}
