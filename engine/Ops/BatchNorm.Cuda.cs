using Engine.Cuda;
using Engine.Cuda.Native;

namespace Engine.Ops;

/// <summary>
/// cuDNN batch normalisation (spatial mode; [N, C] is viewed as [N, C, 1, 1]). cuDNN rejects
/// eps below 1e-5, and its backward assumes batch statistics: those cases run the CPU reference.
/// </summary>
public sealed partial class BatchNorm
{
    private sealed class CudaPlan(TensorDescriptor x, TensorDescriptor bn) : IDisposable
    {
        public TensorDescriptor X { get; } = x;
        public TensorDescriptor Bn { get; } = bn;
        /// <summary>Whether the last forward ran in training mode (on the GPU), so saved statistics exist.</summary>
        public bool SavedBatchStatistics { get; set; }
        public void Dispose() { X.Dispose(); Bn.Dispose(); }
    }

    private bool OnHost => Eps < Cudnn.BatchNormMinEpsilon;

    private CudaPlan Plan(CudaNode n)
    {
        if (n.Saved is CudaPlan p) return p;
        var s = n.InShape(0);
        var x = new TensorDescriptor(s[0], s[1], s.Rank == 4 ? s[2] : 1, s.Rank == 4 ? s[3] : 1);
        p = n.Own(new CudaPlan(x, TensorDescriptor.DerivedBatchNorm(x, Cudnn.BatchNormSpatial)));
        n.Saved = p;
        return p;
    }

    public override void ForwardCuda(CudaNode n)
    {
        if (OnHost) { n.RunOnHost(forward: true); return; }
        var plan = Plan(n);
        var s = n.InShape(0);
        int channels = s[1];
        var dnn = n.Backend.Dnn;
        if (!n.Training)
        {
            dnn.BatchNormInference(plan.X, plan.Bn, n.In(0), n.Out(0), n.Param(0), n.Param(1), n.State(0), n.State(1), Eps);
            plan.SavedBatchStatistics = false;
            return;
        }
        if (s.Numel / channels < 2)
            throw Bad($"{n.Node.Name}: training needs more than one value per channel, got input {s}");
        var saved = n.Scratch(0, 2L * channels * sizeof(float));
        dnn.BatchNormTraining(plan.X, plan.Bn, n.In(0), n.Out(0), n.Param(0), n.Param(1), Momentum, n.State(0), n.State(1), Eps,
            saved, saved.Offset(channels * sizeof(float)));
        plan.SavedBatchStatistics = true;
    }

    public override bool CudaOverwritesInputGradient(int input) => true;

    public override void BackwardCuda(CudaNode n)
    {
        var plan = OnHost ? null : Plan(n);
        if (plan is null || !n.Training || !plan.SavedBatchStatistics) { n.RunOnHost(forward: false); return; }
        var s = n.InShape(0);
        int channels = s[1];
        var saved = n.Scratch(0, 2L * channels * sizeof(float));
        // cuDNN always writes dx: without an input gradient it goes to scratch.
        var dx = n.HasInGrad(0) ? n.InGrad(0) : n.Scratch(1, s.Numel * sizeof(float));
        n.Backend.Dnn.BatchNormBackward(plan.X, plan.Bn, n.In(0), n.OutGrad(0), dx, n.HasInGrad(0) && !n.OverwriteInGrad(0) ? 1f : 0f,
            n.Param(0), n.ParamGrad(0), n.ParamGrad(1), Eps, saved, saved.Offset(channels * sizeof(float)));
    }
}
