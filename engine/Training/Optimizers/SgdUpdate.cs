using System.Numerics;
using Engine.Graph;

namespace Engine.Training.Optimizers;

/// <summary>Hyper-parameters of one momentum-SGD update of a contiguous range of parameters.</summary>
/// <param name="UnitGain">CNTK's form v = m*v + (1-m)*g; otherwise the classic (PyTorch) v = m*v + g.</param>
/// <param name="WeightDecay">L2 coefficient added to the gradient (g + wd*w) before the momentum update.</param>
public readonly record struct SgdUpdate(double LearningRate, double Momentum, double WeightDecay, bool UnitGain) : IUpdateRule
{
    public double Gain => UnitGain ? 1 - Momentum : 1;

    /// <summary>What the kernel reads from the backend's memory: the learning rate.</summary>
    public float[] DeviceScalars => [(float)LearningRate];

    /// <summary>
    /// g' = g + wd*w; v = m*v + g' (classic) or v = m*v + (1-m)*g' (unit gain); w -= lr*v, on the
    /// backend's optimizer kernels if it has them (reading <paramref name="scalars"/>, which must
    /// hold <see cref="DeviceScalars"/> by then; null: uploaded here), else through <see cref="Apply{T}"/>.
    /// </summary>
    public void Run(Backend backend, BufferSlice values, BufferSlice grads, BufferSlice velocity, BufferSlice? scalars = null)
    {
        if (backend is IOptimizerKernels k)
        {
            using var s = OptimizerScalars.For(backend, scalars, DeviceScalars);
            k.SgdMomentum(values, grads, velocity, s.Slice, (float)Momentum, (float)Gain, (float)WeightDecay);
        }
        else UpdateRule.Run(this, "sgd update", backend, values, grads, velocity);
    }

    /// <summary>The reference, in <typeparamref name="T"/> arithmetic.</summary>
    public void Apply<T>(Span<T> w, Span<T> g, Span<T> v, Span<T> unused) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T lr = T.CreateTruncating(LearningRate), mom = T.CreateTruncating(Momentum);
        T wd = T.CreateTruncating(WeightDecay), gain = T.CreateTruncating(Gain);
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            // The scalar loop's operations in the same order (no fused multiply-add): the same bits.
            var (vlr, vmom, vwd, vgain) = (new Vector<T>(lr), new Vector<T>(mom), new Vector<T>(wd), new Vector<T>(gain));
            for (; i <= w.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var wi = new Vector<T>(w[i..]);
                var gi = new Vector<T>(g[i..]) + vwd * wi;
                var vi = vmom * new Vector<T>(v[i..]) + vgain * gi;
                vi.CopyTo(v[i..]);
                (wi - vlr * vi).CopyTo(w[i..]);
            }
        }
        for (; i < w.Length; i++)
        {
            T gi = g[i] + wd * w[i];
            v[i] = mom * v[i] + gain * gi;
            w[i] -= lr * v[i];
        }
    }
}
