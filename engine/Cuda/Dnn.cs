using Engine.Cuda.Native;

namespace Engine.Cuda;

/// <summary>
/// A cuDNN handle bound to one stream, the one workspace all its calls share (safe: they run
/// in stream order), and the convolution algorithm choices per shape.
/// </summary>
public sealed partial class Dnn : IDisposable
{
    private nint _handle;
    private readonly DeviceAllocator _allocator;
    private readonly CudaStream _stream;
    private DevicePtr _workspace;
    private long _workspaceBlock;

    public Dnn(CudaStream stream, DeviceAllocator allocator, CudaOptions options)
    {
        NativeLibraries.LoadCudnn();
        stream.Device.MakeCurrent();
        Cudnn.Check(Cudnn.cudnnCreate(out _handle), "cudnnCreate");
        Cudnn.Check(Cudnn.cudnnSetStream(_handle, stream.Handle), "cudnnSetStream");
        _allocator = allocator;
        _stream = stream;
        Options = options;
        Algorithms = new ConvAlgorithmCache(this);
    }

    internal nint Handle => _handle;
    public CudaOptions Options { get; }
    public ConvAlgorithmCache Algorithms { get; }

    /// <summary>The shared workspace, grown to at least <paramref name="bytes"/>.</summary>
    public (DevicePtr Ptr, long Bytes) Workspace(long bytes)
    {
        if (bytes > _workspaceBlock)
        {
            _allocator.Free(_workspace, _workspaceBlock);
            _workspace = _allocator.Allocate(bytes, out _workspaceBlock);
        }
        return (_workspace, _workspaceBlock);
    }

    public void Dispose()
    {
        if (_handle == 0) return;
        DisposeGraphPlans();
        _allocator.Free(_workspace, _workspaceBlock);
        _workspace = DevicePtr.Null;
        _workspaceBlock = 0;
        Cudnn.cudnnDestroy(_handle);
        _handle = 0;
    }
}

/// <summary>A cuDNN NCHW float tensor descriptor.</summary>
public sealed class TensorDescriptor : IDisposable
{
    private nint _handle;

    /// <param name="sampleStride">Elements from one sample to the next when larger than c*h*w (a channel slice of a concatenation); 0: packed.</param>
    public TensorDescriptor(int n, int c, int h, int w, long sampleStride = 0)
    {
        Cudnn.Check(Cudnn.cudnnCreateTensorDescriptor(out _handle), "cudnnCreateTensorDescriptor");
        if (sampleStride == 0 || sampleStride == (long)c * h * w)
            Cudnn.Check(Cudnn.cudnnSetTensor4dDescriptor(_handle, Cudnn.TensorNchw, Cudnn.DataFloat, n, c, h, w),
                $"cudnnSetTensor4dDescriptor({n}x{c}x{h}x{w})");
        else
            Cudnn.Check(Cudnn.cudnnSetTensor4dDescriptorEx(_handle, Cudnn.DataFloat, n, c, h, w, checked((int)sampleStride), h * w, w, 1),
                $"cudnnSetTensor4dDescriptorEx({n}x{c}x{h}x{w}, sample stride {sampleStride})");
    }

    private TensorDescriptor(nint handle) { _handle = handle; }

    internal nint Handle => _handle;

    /// <summary>The per-channel descriptor batch normalisation wants for scale, bias, mean and variance.</summary>
    public static TensorDescriptor DerivedBatchNorm(TensorDescriptor x, int mode)
    {
        Cudnn.Check(Cudnn.cudnnCreateTensorDescriptor(out var h), "cudnnCreateTensorDescriptor");
        var d = new TensorDescriptor(h);
        Cudnn.Check(Cudnn.cudnnDeriveBNTensorDescriptor(h, x.Handle, mode), "cudnnDeriveBNTensorDescriptor");
        return d;
    }

    public void Dispose()
    {
        if (_handle != 0) Cudnn.cudnnDestroyTensorDescriptor(_handle);
        _handle = 0;
    }
}

/// <summary>Convolution descriptors of one layer at one input shape.</summary>
public sealed class ConvDescriptors : IDisposable
{
    private nint _filter;
    private nint _conv;

    /// <param name="xSampleStride">Elements between x's samples (and dx's) when x is a channel slice of a concatenation; 0: packed.</param>
    public ConvDescriptors(ConvShape s, bool tf32, long xSampleStride = 0)
    {
        Shape = s;
        XSampleStride = xSampleStride == 0 ? (long)s.C * s.H * s.W : xSampleStride;
        X = new TensorDescriptor(s.N, s.C, s.H, s.W, xSampleStride);
        Y = new TensorDescriptor(s.N, s.K, s.OutH, s.OutW);
        Cudnn.Check(Cudnn.cudnnCreateFilterDescriptor(out _filter), "cudnnCreateFilterDescriptor");
        Cudnn.Check(Cudnn.cudnnSetFilter4dDescriptor(_filter, Cudnn.DataFloat, Cudnn.TensorNchw, s.K, s.C / s.Groups, s.Kernel, s.Kernel),
            $"cudnnSetFilter4dDescriptor({s.K}x{s.C / s.Groups}x{s.Kernel}x{s.Kernel})");
        Cudnn.Check(Cudnn.cudnnCreateConvolutionDescriptor(out _conv), "cudnnCreateConvolutionDescriptor");
        Cudnn.Check(Cudnn.cudnnSetConvolution2dDescriptor(_conv, s.Padding, s.Padding, s.Stride, s.Stride, s.Dilation, s.Dilation,
            Cudnn.CrossCorrelation, Cudnn.DataFloat), "cudnnSetConvolution2dDescriptor");
        // FMA keeps float32 exact; TENSOR_OP allows TF32 tensor cores (PyTorch's allow_tf32 switch does the same).
        Cudnn.Check(Cudnn.cudnnSetConvolutionMathType(_conv, tf32 ? Cudnn.MathTensorOp : Cudnn.MathFma), "cudnnSetConvolutionMathType");
        if (s.Groups > 1) Cudnn.Check(Cudnn.cudnnSetConvolutionGroupCount(_conv, s.Groups), "cudnnSetConvolutionGroupCount");
    }

    public ConvShape Shape { get; }
    public long XSampleStride { get; }
    /// <summary>Elements x (or dx) spans in memory, from its first sample's start to its last sample's end.</summary>
    public long XSpan => (Shape.N - 1) * XSampleStride + (long)Shape.C * Shape.H * Shape.W;
    public TensorDescriptor X { get; }
    public TensorDescriptor Y { get; }
    internal nint Filter => _filter;
    internal nint Conv => _conv;

    public void Dispose()
    {
        X.Dispose();
        Y.Dispose();
        if (_filter != 0) Cudnn.cudnnDestroyFilterDescriptor(_filter);
        if (_conv != 0) Cudnn.cudnnDestroyConvolutionDescriptor(_conv);
        _filter = _conv = 0;
    }
}

/// <summary>Everything that determines a convolution's algorithms: the key of the algorithm cache.</summary>
public readonly record struct ConvShape(int N, int C, int H, int W, int K, int Kernel, int Stride, int Padding, int Dilation, int Groups,
    int OutH, int OutW);
