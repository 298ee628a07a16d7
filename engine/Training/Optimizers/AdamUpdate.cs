using System.Numerics;
using Engine.Graph;

namespace Engine.Training.Optimizers;

/// <summary>Hyper-parameters of one Adam update; <paramref name="Step"/> counts from 1 and drives the bias correction.</summary>
/// <param name="WeightDecay">L2 coefficient added to the gradient (PyTorch Adam's weight_decay).</param>
public readonly record struct AdamUpdate(double LearningRate, double Beta1, double Beta2, double Epsilon, double WeightDecay, long Step) : IUpdateRule
{
    /// <summary>lr / (1 - b1^t), in double on the host whatever the backend.</summary>
    public double StepSize => LearningRate / (1 - Math.Pow(Beta1, Step));
    /// <summary>sqrt(1 - b2^t).</summary>
    public double SqrtBiasCorrection2 => Math.Sqrt(1 - Math.Pow(Beta2, Step));

    /// <summary>
    /// Bias-corrected Adam in PyTorch's arithmetic: g' = g + wd*w; m = b1*m + (1-b1)*g';
    /// v = b2*v + (1-b2)*g'^2; w -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps), on the
    /// backend's optimizer kernels if it has them, else through <see cref="Apply{T}"/>.
    /// </summary>
    /// <param name="scalars">Holds <see cref="DeviceScalars"/> already (the optimizer writes them before the step); null: uploaded here.</param>
    public void Run(Backend backend, BufferSlice values, BufferSlice grads, BufferSlice m, BufferSlice v, BufferSlice? scalars = null)
    {
        if (backend is IOptimizerKernels k)
        {
            using var s = OptimizerScalars.For(backend, scalars, DeviceScalars);
            k.Adam(values, grads, m, v, (float)Beta1, (float)Beta2, (float)Epsilon, (float)WeightDecay, s.Slice);
        }
        else UpdateRule.Run(this, "adam update", backend, values, grads, m, v);
    }

    /// <summary>What the kernel reads from the backend's memory: {lr / (1 - b1^t), sqrt(1 - b2^t)} as floats.</summary>
    public float[] DeviceScalars => [(float)StepSize, (float)SqrtBiasCorrection2];

    /// <summary>The reference, in <typeparamref name="T"/> arithmetic.</summary>
    public void Apply<T>(Span<T> w, Span<T> g, Span<T> m1, Span<T> m2) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T b1 = T.CreateTruncating(Beta1), b2 = T.CreateTruncating(Beta2), wd = T.CreateTruncating(WeightDecay);
        T c1 = T.One - b1, c2 = T.One - b2, eps = T.CreateTruncating(Epsilon);
        T stepSize = T.CreateTruncating(StepSize), sqrtBc2 = T.CreateTruncating(SqrtBiasCorrection2);
        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            // The scalar loop's operations in the same order (no fused multiply-add; sqrt and / are exact): the same bits.
            var (vb1, vb2, vwd, vc1, vc2) = (new Vector<T>(b1), new Vector<T>(b2), new Vector<T>(wd), new Vector<T>(c1), new Vector<T>(c2));
            var (veps, vstep, vbc2) = (new Vector<T>(eps), new Vector<T>(stepSize), new Vector<T>(sqrtBc2));
            for (; i <= w.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var wi = new Vector<T>(w[i..]);
                var gi = new Vector<T>(g[i..]) + vwd * wi;
                var mi = vb1 * new Vector<T>(m1[i..]) + vc1 * gi;
                var vi = vb2 * new Vector<T>(m2[i..]) + vc2 * gi * gi;
                mi.CopyTo(m1[i..]);
                vi.CopyTo(m2[i..]);
                (wi - vstep * mi / (Vector.SquareRoot(vi) / vbc2 + veps)).CopyTo(w[i..]);
            }
        }
        for (; i < w.Length; i++)
        {
            T gi = g[i] + wd * w[i];
            m1[i] = b1 * m1[i] + c1 * gi;
            m2[i] = b2 * m2[i] + c2 * gi * gi;
            w[i] -= stepSize * m1[i] / (T.Sqrt(m2[i]) / sqrtBc2 + eps);
        }
    }
}
