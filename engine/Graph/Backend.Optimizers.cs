namespace Engine.Graph;

/// <summary>Hyper-parameters of one momentum-SGD update of a contiguous range of parameters.</summary>
/// <param name="UnitGain">CNTK's form v = m*v + (1-m)*g; otherwise the classic (PyTorch) v = m*v + g.</param>
/// <param name="WeightDecay">L2 coefficient added to the gradient (g + wd*w) before the momentum update.</param>
public readonly record struct SgdUpdate(double LearningRate, double Momentum, double WeightDecay, bool UnitGain);

/// <summary>Hyper-parameters of one Adam update; <paramref name="Step"/> counts from 1 and drives the bias correction.</summary>
/// <param name="WeightDecay">L2 coefficient added to the gradient (PyTorch Adam's weight_decay).</param>
public readonly record struct AdamUpdate(double LearningRate, double Beta1, double Beta2, double Epsilon, double WeightDecay, long Step);

/// <summary>
/// Optimizer updates, run where the parameters live. The defaults here copy chunks to the host,
/// update them in double arithmetic and copy them back, so every backend works from the start;
/// backends override them with in-place loops (CPU) or kernels (CUDA).
/// </summary>
public abstract partial class Backend
{
    private const int HostChunk = 1 << 20;

    /// <summary>
    /// g' = g + wd*w; v = m*v + g' (classic) or v = m*v + (1-m)*g' (unit gain); w -= lr*v.
    /// All slices have the same length.
    /// </summary>
    public virtual void SgdStep(BufferSlice values, BufferSlice grads, BufferSlice velocity, SgdUpdate u)
    {
        double gain = u.UnitGain ? 1 - u.Momentum : 1;
        OnHost("sgd update", [values, grads, velocity], [true, false, true], a =>
        {
            var (w, g, v) = (a[0], a[1], a[2]);
            for (int i = 0; i < w.Length; i++)
            {
                double gi = g[i] + u.WeightDecay * w[i];
                v[i] = u.Momentum * v[i] + gain * gi;
                w[i] -= u.LearningRate * v[i];
            }
        });
    }

    /// <summary>
    /// Bias-corrected Adam in PyTorch's arithmetic: g' = g + wd*w; m = b1*m + (1-b1)*g';
    /// v = b2*v + (1-b2)*g'^2; w -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps).
    /// </summary>
    public virtual void AdamStep(BufferSlice values, BufferSlice grads, BufferSlice m, BufferSlice v, AdamUpdate u)
    {
        double stepSize = u.LearningRate / (1 - Math.Pow(u.Beta1, u.Step));
        double sqrtBc2 = Math.Sqrt(1 - Math.Pow(u.Beta2, u.Step));
        OnHost("adam update", [values, grads, m, v], [true, false, true, true], a =>
        {
            var (w, g, m1, m2) = (a[0], a[1], a[2], a[3]);
            for (int i = 0; i < w.Length; i++)
            {
                double gi = g[i] + u.WeightDecay * w[i];
                m1[i] = u.Beta1 * m1[i] + (1 - u.Beta1) * gi;
                m2[i] = u.Beta2 * m2[i] + (1 - u.Beta2) * gi * gi;
                w[i] -= stepSize * m1[i] / (Math.Sqrt(m2[i]) / sqrtBc2 + u.Epsilon);
            }
        });
    }

    /// <summary>Called once per update that runs on host copies; a device backend counts it as a host fallback.</summary>
    protected virtual void NoteHostUpdate(string what) { }

    /// <summary>Runs <paramref name="update"/> over host copies of equal-length slices, a chunk at a time, writing back the ones marked.</summary>
    private void OnHost(string what, BufferSlice[] slices, bool[] writeBack, Action<double[][]> update)
    {
        NoteHostUpdate(what);
        long count = slices[0].Count;
        for (long start = 0; start < count; start += HostChunk)
        {
            int n = (int)Math.Min(HostChunk, count - start);
            var parts = slices.Select(s => s.Sub(start, n)).ToArray();
            var host = parts.Select(p => { var a = new double[n]; Download(p, a); return a; }).ToArray();
            update(host);
            for (int i = 0; i < parts.Length; i++) if (writeBack[i]) Upload(parts[i], host[i]);
        }
    }
}
