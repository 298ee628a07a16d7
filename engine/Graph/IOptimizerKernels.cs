namespace Engine.Graph;

/// <summary>
/// Fused optimizer-update kernels a backend may offer (CUDA: kernels/optimizer.cu). The maths,
/// its reference and the host path for backends without kernels are Training's
/// (engine/Training/Optimizers); these only run the same update where the parameters live,
/// in float32 with the arguments the kernels take. The parameter slices have the same length.
/// The scalars that change from step to step are read from the backend's memory (written before
/// the step), so that a captured step replays with the current learning rate.
/// </summary>
public interface IOptimizerKernels
{
    /// <summary>g' = g + wd*w; v = momentum*v + gain*g'; w -= lr*v, with lr the one float of <paramref name="lr"/>.</summary>
    void SgdMomentum(BufferSlice values, BufferSlice grads, BufferSlice velocity, BufferSlice lr, float momentum, float gain, float weightDecay);

    /// <summary>g' = g + wd*w; m = b1*m + (1-b1)*g'; v = b2*v + (1-b2)*g'^2; w -= stepSize * m / (sqrt(v) / sqrtBc2 + eps), with <paramref name="bias"/> = {stepSize, sqrtBc2}.</summary>
    void Adam(BufferSlice values, BufferSlice grads, BufferSlice m, BufferSlice v,
        float beta1, float beta2, float epsilon, float weightDecay, BufferSlice bias);
}
