using Engine.Cuda;

namespace Engine.Ops;

/// <summary>cuBLAS GEMMs on row-major data: y = x·Wᵀ, dx += dy·W, dW += dyᵀ·x.</summary>
public sealed partial class Dense
{
    public override void ForwardCuda(CudaNode n)
    {
        int batch = n.Batch, inFeatures = (int)InFeatures(n.InShape(0));
        n.Backend.Blas.Gemm(false, true, batch, OutFeatures, inFeatures, 1f, n.In(0), n.Param(0), 0f, n.Out(0));
        if (HasBias) CudaMath.AddBias(n, n.Out(0), n.Param(1), OutFeatures, 1, (long)batch * OutFeatures);
    }

    public override bool CudaOverwritesInputGradient(int input) => true;

    public override void BackwardCuda(CudaNode n)
    {
        int batch = n.Batch, inFeatures = (int)InFeatures(n.InShape(0));
        var blas = n.Backend.Blas;
        if (n.HasInGrad(0)) blas.Gemm(false, false, batch, inFeatures, OutFeatures, 1f, n.OutGrad(0), n.Param(0), n.OverwriteInGrad(0) ? 0f : 1f, n.InGrad(0));
        blas.Gemm(true, false, OutFeatures, inFeatures, batch, 1f, n.OutGrad(0), n.In(0), 1f, n.ParamGrad(0));
        if (HasBias) CudaMath.AccumulateBiasGrad(n, n.ParamGrad(1), n.OutGrad(0), batch, OutFeatures, 1);
    }
}
