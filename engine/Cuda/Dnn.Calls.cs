using Engine.Cuda.DnnGraph;
using Engine.Cuda.Native;

namespace Engine.Cuda;

/// <summary>The cuDNN operations the ops call: convolution passes and batch normalisation (float32, NCHW).</summary>
public sealed unsafe partial class Dnn
{
    /// <summary>y = conv(x, w) (beta 0) or y += conv(x, w) (beta 1).</summary>
    public void ConvolutionForward(ConvDescriptors d, DevicePtr x, DevicePtr w, DevicePtr y, float beta = 0)
    {
        if (GraphConvolution(ConvPass.Forward, d, x, w, y, beta)) return;
        var algo = Algorithms.Get(d, ConvAlgorithmCache.Pass.Forward, () => new ConvAlgorithmFind(x, w, y, FindWorkspaceBytes()));
        var (ws, wsBytes) = Workspace(algo.WorkspaceBytes);
        float alpha = 1;
        Cudnn.Check(Cudnn.cudnnConvolutionForward(_handle, &alpha, d.X.Handle, x.Address, d.Filter, w.Address, d.Conv, algo.Algo,
            ws.Address, (nuint)wsBytes, &beta, d.Y.Handle, y.Address), $"cudnnConvolutionForward({d.Shape}, algo {algo.Algo})");
    }

    /// <summary>dx = convᵀ(dy, w) + beta * dx: beta 1 accumulates, 0 overwrites (dx is not read).</summary>
    public void ConvolutionBackwardData(ConvDescriptors d, DevicePtr w, DevicePtr dy, DevicePtr dx, float beta = 1)
    {
        if (GraphConvolution(ConvPass.BackwardData, d, dx, w, dy, beta)) return;
        var algo = Algorithms.Get(d, ConvAlgorithmCache.Pass.BackwardData, () => WithScratch(d.XSpan,
            scratch => new ConvAlgorithmFind(scratch, w, dy, FindWorkspaceBytes())));
        var (ws, wsBytes) = Workspace(algo.WorkspaceBytes);
        float alpha = 1;
        Cudnn.Check(Cudnn.cudnnConvolutionBackwardData(_handle, &alpha, d.Filter, w.Address, d.Y.Handle, dy.Address, d.Conv, algo.Algo,
            ws.Address, (nuint)wsBytes, &beta, d.X.Handle, dx.Address), $"cudnnConvolutionBackwardData({d.Shape}, algo {algo.Algo})");
    }

    /// <summary>dw += the filter gradient of (x, dy), beta = 1.</summary>
    public void ConvolutionBackwardFilter(ConvDescriptors d, DevicePtr x, DevicePtr dy, DevicePtr dw, float beta = 1)
    {
        if (GraphConvolution(ConvPass.BackwardFilter, d, x, dw, dy, beta)) return;
        var s = d.Shape;
        var algo = Algorithms.Get(d, ConvAlgorithmCache.Pass.BackwardFilter, () => WithScratch((long)s.K * (s.C / s.Groups) * s.Kernel * s.Kernel,
            scratch => new ConvAlgorithmFind(x, scratch, dy, FindWorkspaceBytes())));
        var (ws, wsBytes) = Workspace(algo.WorkspaceBytes);
        float alpha = 1;
        Cudnn.Check(Cudnn.cudnnConvolutionBackwardFilter(_handle, &alpha, d.X.Handle, x.Address, d.Y.Handle, dy.Address, d.Conv, algo.Algo,
            ws.Address, (nuint)wsBytes, &beta, d.Filter, dw.Address), $"cudnnConvolutionBackwardFilter({d.Shape}, algo {algo.Algo})");
    }

    /// <summary>
    /// Training forward (spatial mode): normalise by the batch statistics, move the running
    /// statistics by <paramref name="momentum"/> (cuDNN, like PyTorch, feeds the unbiased variance
    /// into the running one) and save mean and 1/std for backward.
    /// </summary>
    public void BatchNormTraining(TensorDescriptor xDesc, TensorDescriptor bnDesc, DevicePtr x, DevicePtr y, DevicePtr scale, DevicePtr bias,
        double momentum, DevicePtr runningMean, DevicePtr runningVar, double eps, DevicePtr saveMean, DevicePtr saveInvStd)
    {
        float one = 1, zero = 0;
        Cudnn.Check(Cudnn.cudnnBatchNormalizationForwardTraining(_handle, Cudnn.BatchNormSpatial, &one, &zero, xDesc.Handle, x.Address,
            xDesc.Handle, y.Address, bnDesc.Handle, scale.Address, bias.Address, momentum, runningMean.Address, runningVar.Address, eps,
            saveMean.Address, saveInvStd.Address), "cudnnBatchNormalizationForwardTraining");
    }

    /// <summary>Evaluation forward: normalise by the running statistics.</summary>
    public void BatchNormInference(TensorDescriptor xDesc, TensorDescriptor bnDesc, DevicePtr x, DevicePtr y, DevicePtr scale, DevicePtr bias,
        DevicePtr runningMean, DevicePtr runningVar, double eps)
    {
        float one = 1, zero = 0;
        Cudnn.Check(Cudnn.cudnnBatchNormalizationForwardInference(_handle, Cudnn.BatchNormSpatial, &one, &zero, xDesc.Handle, x.Address,
            xDesc.Handle, y.Address, bnDesc.Handle, scale.Address, bias.Address, runningMean.Address, runningVar.Address, eps),
            "cudnnBatchNormalizationForwardInference");
    }

    /// <summary>
    /// Backward through a training-mode forward: dx (+)= ..., dScale += ..., dBias += ...
    /// (<paramref name="dataBeta"/> 1 accumulates into dx; 0 overwrites a scratch dx).
    /// </summary>
    public void BatchNormBackward(TensorDescriptor xDesc, TensorDescriptor bnDesc, DevicePtr x, DevicePtr dy, DevicePtr dx, float dataBeta,
        DevicePtr scale, DevicePtr dScale, DevicePtr dBias, double eps, DevicePtr savedMean, DevicePtr savedInvStd)
    {
        float one = 1, paramBeta = 1;
        Cudnn.Check(Cudnn.cudnnBatchNormalizationBackward(_handle, Cudnn.BatchNormSpatial, &one, &dataBeta, &one, &paramBeta,
            xDesc.Handle, x.Address, xDesc.Handle, dy.Address, xDesc.Handle, dx.Address, bnDesc.Handle, scale.Address,
            dScale.Address, dBias.Address, eps, savedMean.Address, savedInvStd.Address), "cudnnBatchNormalizationBackward");
    }

    /// <summary>The workspace a benchmark may use: the configured limit, at most half the free memory.</summary>
    private long FindWorkspaceBytes()
    {
        var (free, _) = _stream.Device.MemoryInfo();
        return Math.Max(0, Math.Min(Options.WorkspaceLimitBytes, free / 2));
    }

    /// <summary>Runs a benchmark with a temporary output buffer of <paramref name="floats"/> floats, freed after.</summary>
    private ConvAlgorithmFind WithScratch(long floats, Func<DevicePtr, ConvAlgorithmFind> make)
    {
        var p = _allocator.Allocate(floats * sizeof(float), out var block);
        _pendingScratch.Add((p, block));
        return make(p);
    }

    private readonly List<(DevicePtr Ptr, long Block)> _pendingScratch = [];

    /// <summary>Returns benchmark scratch to the allocator (stream order keeps later reuse safe).</summary>
    internal void ReleaseFindScratch()
    {
        foreach (var (p, b) in _pendingScratch) _allocator.Free(p, b);
        _pendingScratch.Clear();
    }
}
