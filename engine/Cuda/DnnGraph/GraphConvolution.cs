using Engine.Cuda.Native;

namespace Engine.Cuda.DnnGraph;

/// <summary>A 2-d cross-correlation's geometry, computed in float: the backend's convolution descriptor.</summary>
public sealed record GraphConvolution(int PadH, int PadW, int StrideH, int StrideW, int DilationH, int DilationW)
{
    public static GraphConvolution Square(int padding, int stride, int dilation) => new(padding, padding, stride, stride, dilation, dilation);

    public BackendDescriptor Build(IBackendApi api)
    {
        var d = new BackendDescriptor(api, BackendDescriptorType.Convolution);
        try
        {
            return d.Set(BackendAttribute.ConvolutionSpatialDims, 2L)
                .SetEnum(BackendAttribute.ConvolutionCompType, BackendAttributeType.DataType, Cudnn.DataFloat)
                .SetEnum(BackendAttribute.ConvolutionConvMode, BackendAttributeType.ConvolutionMode, Cudnn.CrossCorrelation)
                .Set(BackendAttribute.ConvolutionPrePaddings, [PadH, PadW])
                .Set(BackendAttribute.ConvolutionPostPaddings, [PadH, PadW])
                .Set(BackendAttribute.ConvolutionFilterStrides, [StrideH, StrideW])
                .Set(BackendAttribute.ConvolutionDilations, [DilationH, DilationW])
                .Finalize();
        }
        catch
        {
            d.Dispose();
            throw;
        }
    }
}
