using Engine.Cuda;

namespace Engine.Ops;

/// <summary>
/// The GPU side of an op (float32, on a <see cref="CudaBackend"/>). Each op overrides these in
/// its own Name.Cuda.cs file, launching kernels (kernels/ABI.md) or calling cuDNN / cuBLAS.
/// Backward ACCUMULATES, as on the CPU. An op without a GPU path runs its CPU reference on host
/// copies instead (slow, but the net still runs; <see cref="CudaBackend.HostFallbacks"/> lists it).
/// </summary>
public abstract partial class Op : ICudaOp
{
    public virtual void ForwardCuda(CudaNode n) => n.RunOnHost(forward: true);
    public virtual void BackwardCuda(CudaNode n) => n.RunOnHost(forward: false);
    public virtual bool CudaOverwritesInputGradient(int input) => false;
    public virtual void RecomputeCuda(CudaNode n) => throw new NotSupportedException($"{n.Node.Name}: {Type} cannot recompute its output");
}
