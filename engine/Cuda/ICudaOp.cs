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
}
