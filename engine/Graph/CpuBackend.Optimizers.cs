namespace Engine.Graph;

/// <summary>Optimizer updates in place, in the backend's precision (float32 arithmetic for CpuBackend&lt;float&gt;).</summary>
public sealed partial class CpuBackend<T>
{
    public override void SgdStep(BufferSlice values, BufferSlice grads, BufferSlice velocity, SgdUpdate u)
    {
        Span<T> w = F(values), g = F(grads), v = F(velocity);
        T lr = T.CreateTruncating(u.LearningRate), mom = T.CreateTruncating(u.Momentum);
        T wd = T.CreateTruncating(u.WeightDecay), gain = T.CreateTruncating(u.UnitGain ? 1 - u.Momentum : 1);
        for (int i = 0; i < w.Length; i++)
        {
            T gi = g[i] + wd * w[i];
            v[i] = mom * v[i] + gain * gi;
            w[i] -= lr * v[i];
        }
    }

    public override void AdamStep(BufferSlice values, BufferSlice grads, BufferSlice m, BufferSlice v, AdamUpdate u)
    {
        Span<T> w = F(values), g = F(grads), m1 = F(m), m2 = F(v);
        T b1 = T.CreateTruncating(u.Beta1), b2 = T.CreateTruncating(u.Beta2), wd = T.CreateTruncating(u.WeightDecay);
        T c1 = T.One - b1, c2 = T.One - b2, eps = T.CreateTruncating(u.Epsilon);
        T stepSize = T.CreateTruncating(u.LearningRate / (1 - Math.Pow(u.Beta1, u.Step)));
        T sqrtBc2 = T.CreateTruncating(Math.Sqrt(1 - Math.Pow(u.Beta2, u.Step)));
        for (int i = 0; i < w.Length; i++)
        {
            T gi = g[i] + wd * w[i];
            m1[i] = b1 * m1[i] + c1 * gi;
            m2[i] = b2 * m2[i] + c2 * gi * gi;
            w[i] -= stepSize * m1[i] / (T.Sqrt(m2[i]) / sqrtBc2 + eps);
        }
    }
}
