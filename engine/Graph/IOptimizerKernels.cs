namespace Engine.Graph;

/// <summary>
/// Fused optimizer-update kernels a backend may offer (CUDA: kernels/optimizer.cu). The maths,
/// its reference and the host path for backends without kernels are Training's
/// (engine/Training/Optimizers); these only run the same update where the parameters live,
/// in float32 with the arguments the kernels take. All slices have the same length.
/// </summary>
public interface IOptimizerKernels
{
    /// <summary>g' = g + wd*w; v = momentum*v + gain*g'; w -= lr*v.</summary>
    void SgdMomentum(BufferSlice values, BufferSlice grads, BufferSlice velocity, float lr, float momentum, float gain, float weightDecay);

    /// <summary>g' = g + wd*w; m = b1*m + (1-b1)*g'; v = b2*v + (1-b2)*g'^2; w -= stepSize * m / (sqrt(v) / sqrtBc2 + eps).</summary>
    void Adam(BufferSlice values, BufferSlice grads, BufferSlice m, BufferSlice v,
        float beta1, float beta2, float epsilon, float weightDecay, float stepSize, float sqrtBc2);
}
