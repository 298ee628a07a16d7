namespace Engine.Cuda.DnnGraph;

/// <summary>
/// Everything a convolution execution plan depends on: the pass, the shape, the memory layout and
/// element type, beta (baked into the operation node), the pointers' alignments and the engine
/// filters. The key of the plan cache.
/// </summary>
public readonly record struct ConvGraphProblem(ConvPass Pass, ConvShape Shape, long XSampleStride, GraphLayout Layout, GraphDataType DataType,
    float Beta, long XAlignment, long WAlignment, long YAlignment, bool Tf32, bool Deterministic)
{
    public const long XUid = 1, WUid = 2, YUid = 3;

    public GraphTensor X => GraphTensor.Activation(XUid, Layout, Shape.N, Shape.C, Shape.H, Shape.W, XSampleStride == (long)Shape.C * Shape.H * Shape.W ? 0 : XSampleStride,
        DataType, XAlignment);
    public GraphTensor W => GraphTensor.Filter(WUid, Layout, Shape.K, Shape.C / Shape.Groups, Shape.Kernel, Shape.Kernel, DataType, WAlignment);
    public GraphTensor Y => GraphTensor.Activation(YUid, Layout, Shape.N, Shape.K, Shape.OutH, Shape.OutW, 0, DataType, YAlignment);
    public GraphConvolution Convolution => GraphConvolution.Square(Shape.Padding, Shape.Stride, Shape.Dilation);

    public override string ToString() =>
        $"{Pass} {Shape.N}x{Shape.C}x{Shape.H}x{Shape.W} k{Shape.K} {Shape.Kernel}x{Shape.Kernel} s{Shape.Stride} p{Shape.Padding} d{Shape.Dilation} g{Shape.Groups} {Layout} {DataType} beta {Beta}";
}
