using Engine.Cuda.Native;

namespace Engine.Cuda.DnnGraph;

/// <summary>The three convolution passes as graph operations.</summary>
public enum ConvPass
{
    /// <summary>Y = alpha * conv(X, W) + beta * Y.</summary>
    Forward,
    /// <summary>dX = alpha * convᵀ(dY, W) + beta * dX.</summary>
    BackwardData,
    /// <summary>dW = alpha * (the filter gradient of X, dY) + beta * dW.</summary>
    BackwardFilter,
}

/// <summary>
/// One convolution operation node. Whatever the pass, its tensors are named by their role in the
/// forward convolution: X (x or dx), W (w or dw), Y (y or dy).
/// </summary>
public static class ConvOperation
{
    private readonly record struct Names(BackendDescriptorType Type, BackendAttribute X, BackendAttribute W, BackendAttribute Y,
        BackendAttribute Conv, BackendAttribute Alpha, BackendAttribute Beta);

    private static Names For(ConvPass pass) => pass switch
    {
        ConvPass.Forward => new(BackendDescriptorType.OperationConvolutionForward, BackendAttribute.OperationConvolutionForwardX,
            BackendAttribute.OperationConvolutionForwardW, BackendAttribute.OperationConvolutionForwardY, BackendAttribute.OperationConvolutionForwardConvDesc,
            BackendAttribute.OperationConvolutionForwardAlpha, BackendAttribute.OperationConvolutionForwardBeta),
        ConvPass.BackwardData => new(BackendDescriptorType.OperationConvolutionBackwardData, BackendAttribute.OperationConvolutionBwdDataDx,
            BackendAttribute.OperationConvolutionBwdDataW, BackendAttribute.OperationConvolutionBwdDataDy, BackendAttribute.OperationConvolutionBwdDataConvDesc,
            BackendAttribute.OperationConvolutionBwdDataAlpha, BackendAttribute.OperationConvolutionBwdDataBeta),
        _ => new(BackendDescriptorType.OperationConvolutionBackwardFilter, BackendAttribute.OperationConvolutionBwdFilterX,
            BackendAttribute.OperationConvolutionBwdFilterDw, BackendAttribute.OperationConvolutionBwdFilterDy, BackendAttribute.OperationConvolutionBwdFilterConvDesc,
            BackendAttribute.OperationConvolutionBwdFilterAlpha, BackendAttribute.OperationConvolutionBwdFilterBeta),
    };

    public static BackendDescriptor Build(IBackendApi api, ConvPass pass, BackendDescriptor x, BackendDescriptor w, BackendDescriptor y,
        BackendDescriptor conv, float alpha, float beta)
    {
        var n = For(pass);
        var d = new BackendDescriptor(api, n.Type);
        try
        {
            return d.Set(n.X, x).Set(n.W, w).Set(n.Y, y).Set(n.Conv, conv).Set(n.Alpha, alpha).Set(n.Beta, beta).Finalize();
        }
        catch
        {
            d.Dispose();
            throw;
        }
    }
}
