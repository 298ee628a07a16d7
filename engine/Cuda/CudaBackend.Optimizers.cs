using Engine.Graph;

namespace Engine.Cuda;

/// <summary>The optimizer kernels (kernels/optimizer.cu), updating in place on the device; the maths is Training's. The per-step scalars are device floats.</summary>
public sealed partial class CudaBackend : IOptimizerKernels
{
    public void SgdMomentum(BufferSlice values, BufferSlice grads, BufferSlice velocity, BufferSlice lr, float momentum, float gain, float weightDecay)
    {
        SameLength(values, grads, velocity);
        Scalars(lr, 1);
        Device.MakeCurrent();
        var a = new KernelArgs();
        a.Add(Ptr(values)); a.Add(Ptr(velocity)); a.Add(Ptr(grads));
        a.Add(Ptr(lr)); a.Add(momentum); a.Add(gain); a.Add(weightDecay);
        a.Add(values.Count);
        LaunchElementwise("sgd_momentum_f32", values.Count, ref a);
    }

    public void Adam(BufferSlice values, BufferSlice grads, BufferSlice m, BufferSlice v,
        float beta1, float beta2, float epsilon, float weightDecay, BufferSlice bias)
    {
        SameLength(values, grads, m, v);
        Scalars(bias, 2);
        Device.MakeCurrent();
        var a = new KernelArgs();
        a.Add(Ptr(values)); a.Add(Ptr(m)); a.Add(Ptr(v)); a.Add(Ptr(grads));
        a.Add(beta1); a.Add(beta2); a.Add(epsilon); a.Add(weightDecay);
        a.Add(Ptr(bias));
        a.Add(values.Count);
        LaunchElementwise("adam_f32", values.Count, ref a);
    }

    private static void Scalars(BufferSlice s, int count)
    {
        if (s.Type != Tensors.DataType.F32 || s.Count < count) throw new ArgumentException($"optimizer scalars: expected {count} F32, got {s.Count} {s.Type}");
    }

    private static void SameLength(BufferSlice first, params BufferSlice[] others)
    {
        foreach (var o in others)
            if (o.Count != first.Count) throw new ArgumentException($"optimizer slices differ in length: {first.Count} and {o.Count}");
    }
}
