using Engine.Graph;

namespace Engine.Cuda;

/// <summary>Optimizer updates in place on the device (optimizer kernels), hyper-parameters passed per launch.</summary>
public sealed partial class CudaBackend
{
    public override void SgdStep(BufferSlice values, BufferSlice grads, BufferSlice velocity, SgdUpdate u)
    {
        SameLength(values, grads, velocity);
        Device.MakeCurrent();
        var a = new KernelArgs();
        a.Add(Ptr(values)); a.Add(Ptr(velocity)); a.Add(Ptr(grads));
        a.Add((float)u.LearningRate); a.Add((float)u.Momentum); a.Add((float)(u.UnitGain ? 1 - u.Momentum : 1)); a.Add((float)u.WeightDecay);
        a.Add(values.Count);
        LaunchElementwise("sgd_momentum_f32", values.Count, ref a);
    }

    public override void AdamStep(BufferSlice values, BufferSlice grads, BufferSlice m, BufferSlice v, AdamUpdate u)
    {
        SameLength(values, grads, m, v);
        Device.MakeCurrent();
        // Bias corrections in double on the host, as the CPU update computes them.
        double stepSize = u.LearningRate / (1 - Math.Pow(u.Beta1, u.Step));
        double sqrtBc2 = Math.Sqrt(1 - Math.Pow(u.Beta2, u.Step));
        var a = new KernelArgs();
        a.Add(Ptr(values)); a.Add(Ptr(m)); a.Add(Ptr(v)); a.Add(Ptr(grads));
        a.Add((float)u.Beta1); a.Add((float)u.Beta2); a.Add((float)u.Epsilon); a.Add((float)u.WeightDecay);
        a.Add((float)stepSize); a.Add((float)sqrtBc2);
        a.Add(values.Count);
        LaunchElementwise("adam_f32", values.Count, ref a);
    }

    /// <summary>The base class's host update (for an optimizer without a kernel) is a host fallback.</summary>
    protected override void NoteHostUpdate(string what) => NoteHostFallback(what);

    private static void SameLength(BufferSlice first, params BufferSlice[] others)
    {
        foreach (var o in others)
            if (o.Count != first.Count) throw new ArgumentException($"optimizer slices differ in length: {first.Count} and {o.Count}");
    }
}
