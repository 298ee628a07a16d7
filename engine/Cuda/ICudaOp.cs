using Engine.Graph;

namespace Engine.Cuda;

/// <summary>
/// An op's GPU path, called by <see cref="CudaBackend"/> for a node whose <see cref="OpBase"/>
/// implements it (Engine.Ops' ops do, in their Name.Cuda.cs files); other ops run their CPU
/// reference on host copies.
/// </summary>
public interface ICudaOp
{
    void ForwardCuda(CudaNode n);
    void BackwardCuda(CudaNode n);
    /// <summary>Whether the GPU backward honours <see cref="CudaNode.OverwriteInGrad"/> for this input (cuDNN's beta = 0); otherwise the backend zeroes the gradient before calling it.</summary>
    bool CudaOverwritesInputGradient(int input);
    /// <summary>The GPU form of <see cref="OpBase.Recompute{T}"/>.</summary>
    void RecomputeCuda(CudaNode n);
}
