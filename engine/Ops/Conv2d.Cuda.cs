using Engine.Cuda;

namespace Engine.Ops;

/// <summary>cuDNN convolution: per-shape algorithm choice, the backend's shared workspace, beta = 0 for the first writer of dx, else 1.</summary>
public sealed partial class Conv2d
{
    private ConvDescriptors Descriptors(CudaNode n)
    {
        if (n.Saved is ConvDescriptors d) return d;
        var (x, y) = (n.InShape(0), n.OutShape(0));
        var shape = new ConvShape(x[0], x[1], x[2], x[3], OutChannels, Kernel, Stride, Padding, Dilation, Groups, y[2], y[3]);
        d = n.Own(new ConvDescriptors(shape, n.Backend.Options.Tf32, n.InSampleStride(0)));
        n.Saved = d;
        return d;
    }

    public override void ForwardCuda(CudaNode n)
    {
        var d = Descriptors(n);
        n.Backend.Dnn.ConvolutionForward(d, n.In(0), n.Param(0), n.Out(0));
        if (HasBias)
        {
            var y = n.OutShape(0);
            CudaMath.AddBias(n, n.Out(0), n.Param(1), OutChannels, (long)y[2] * y[3], y.Numel);
        }
    }

    public override bool CudaOverwritesInputGradient(int input) => true;

    public override void BackwardCuda(CudaNode n)
    {
        var d = Descriptors(n);
        var dnn = n.Backend.Dnn;
        if (HasBias)
        {
            var y = n.OutShape(0);
            CudaMath.AccumulateBiasGrad(n, n.ParamGrad(1), n.OutGrad(0), y[0], OutChannels, (long)y[2] * y[3]);
        }
        dnn.ConvolutionBackwardFilter(d, n.In(0), n.OutGrad(0), n.ParamGrad(0));
        if (n.HasInGrad(0)) dnn.ConvolutionBackwardData(d, n.Param(0), n.OutGrad(0), n.InGrad(0), beta: n.OverwriteInGrad(0) ? 0 : 1);
    }
}
