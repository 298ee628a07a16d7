using Engine.Cuda.Native;
using Engine.Graph;
using Engine.Tensors;

namespace Engine.Cuda;

/// <summary>
/// Runs graphs on one GPU in float32. Buffers are device memory from a caching allocator; all
/// work of this backend goes onto one stream in order, and only Download and Synchronize wait
/// for it. Each op's GPU path lives beside its CPU reference (engine/Ops/Name.Cuda.cs): cuDNN
/// for convolution and batch norm, cuBLAS for dense layers, our kernels (kernels/ABI.md) for
/// the rest.
/// </summary>
public sealed partial class CudaBackend : Backend
{
    private readonly HostTransfer _transfer;
    private readonly List<DeferredCheck> _checks = [];
    private Blas? _blas;
    private Dnn? _dnn;
    private bool _disposed;

    private CudaBackend(CudaDevice device, CudaOptions options)
    {
        Device = device;
        Options = options;
        Stream = CudaStream.Create(device);
        Stream.SyncDebug = options.SyncDebug;
        Allocator = new DeviceAllocator(Stream);
        _transfer = new HostTransfer(Stream);
        Kernels = KernelCatalog.Default();
    }

    /// <summary>
    /// A backend on GPU <paramref name="ordinal"/> (the `--gpu N` of the command line). Throws
    /// <see cref="CudaUnavailableException"/> with one line saying why when there is no usable GPU.
    /// </summary>
    public static CudaBackend Create(int ordinal, CudaOptions? options = null)
    {
        CheckPrecision(options?.Precision);
        CheckLayout(options?.Layout);
        CudaDevice device;
        try
        {
            device = CudaDevice.Open(ordinal);
        }
        catch (CudaLibraryNotFoundException e)
        {
            throw new CudaUnavailableException($"GPU {ordinal} is not usable: {e.Message}", e);
        }
        catch (CudaException e)
        {
            throw new CudaUnavailableException($"GPU {ordinal} is not usable: {e.Call} returned {e.ErrorName}{(e.Detail is { } d ? $" ({d})" : "")}", e);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new CudaUnavailableException($"GPU {ordinal} is not usable: {e.Message.Split(" (Parameter")[0]}", e);
        }
        try
        {
            options ??= new CudaOptions();
            var precision = options.Precision ?? DefaultPrecision(device.Info);
            return new CudaBackend(device, options with { Precision = precision, Layout = options.Layout ?? DefaultLayout(precision) });
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>Whether this build has the GPU bf16 path (bf16 storage, tensor-core convolutions); until it does, bf16 runs on the CPU reference only.</summary>
    public const bool Bf16Built = false;

    /// <summary>
    /// The precision of a GPU when none is asked for: bf16 from compute capability 8.0 (Ampere's
    /// bf16 tensor cores) once <see cref="Bf16Built"/>, fp32 before it and until then.
    /// </summary>
    public static Precision DefaultPrecision(CudaDeviceInfo info) => info.ComputeMajor >= 8 && Bf16Built ? Precision.Bf16 : Precision.Fp32;

    /// <summary>Refuses what the GPU cannot run, before any device is touched.</summary>
    private static void CheckPrecision(Precision? precision)
    {
        if (precision == Precision.Bf16 && !Bf16Built)
            throw new PrecisionNotSupportedException("bf16 runs on the CPU reference only for now: the GPU's bf16 path is not built yet; on the GPU use fp32 or tf32");
        if (precision == Precision.Fp64)
            throw new PrecisionNotSupportedException("fp64 is the CPU backend's; the GPU computes fp32 or tf32");
    }

    /// <summary>Whether this build has the GPU NHWC path (every kernel in NHWC, cuDNN NHWC descriptors); until it does, NHWC runs on the CPU reference only.</summary>
    public const bool NhwcBuilt = false;

    /// <summary>The layout of a GPU when none is asked for: NHWC with bf16 once <see cref="NhwcBuilt"/> (issue 10), NCHW until then.</summary>
    public static Layout DefaultLayout(Precision precision) => precision == Precision.Bf16 && NhwcBuilt ? Layout.Nhwc : Layout.Nchw;

    /// <summary>Refuses a layout the GPU cannot store, before any device is touched.</summary>
    private static void CheckLayout(Layout? layout)
    {
        if (layout == Layout.Nhwc && !NhwcBuilt)
            throw new LayoutNotSupportedException("nhwc runs on the CPU reference only for now: the GPU's NHWC kernels are not wired yet; on the GPU use nchw");
    }

    public override Layout Layout => Options.Layout ?? Layout.Nchw;

    public CudaDevice Device { get; }
    /// <summary>The options, with <see cref="CudaOptions.Precision"/> resolved.</summary>
    public CudaOptions Options { get; }
    public override Precision Precision => Options.Precision!.Value;
    public CudaStream Stream { get; }
    public DeviceAllocator Allocator { get; }
    public KernelCatalog Kernels { get; }

    /// <summary>cuBLAS on this backend's stream, created on first use.</summary>
    public Blas Blas => _blas ??= new Blas(Stream, Allocator, Options.Tf32);
    /// <summary>cuDNN on this backend's stream, created on first use (loading cuDNN then).</summary>
    public Dnn Dnn => _dnn ??= new Dnn(Stream, Allocator, Options);

    /// <summary>How often each op pass ("batchnorm backward") or optimizer update ("sgd update") ran its CPU reference on host copies (slow) for want of a GPU path.</summary>
    public IReadOnlyDictionary<string, int> HostFallbacks => _hostFallbacks;
    private readonly SortedDictionary<string, int> _hostFallbacks = new(StringComparer.Ordinal);
    public override void NoteHostFallback(string what) => _hostFallbacks[what] = _hostFallbacks.GetValueOrDefault(what) + 1;

    public override string Name => $"cuda:{Device.Ordinal} ({Device.Info.Name})";
    public override DataType FloatType => DataType.F32;

    public override Graph.Buffer Allocate(long count, DataType type)
    {
        if (type is not (DataType.F32 or DataType.I32 or DataType.U8)) throw new ArgumentException($"the CUDA backend holds F32, I32 and U8 tensors, not {type}");
        Device.MakeCurrent();
        var b = new CudaBuffer(Allocator, count, type);
        if (b.Bytes > 0) Stream.Fill32(b.Ptr, 0, (b.Bytes + 3) / 4);
        return b;
    }

    public override void Zero(BufferSlice s)
    {
        if (s.Bytes % 4 != 0) throw new ArgumentException($"zeroing {s.Bytes} bytes: the CUDA backend zeroes whole 4-byte words");
        Device.MakeCurrent();
        Stream.Fill32(Ptr(s), 0, s.Bytes / 4);
    }

    public override void Upload(BufferSlice dst, ReadOnlySpan<double> src)
    {
        NoHostCopyWhileCapturing("upload");
        CheckLength(src.Length, dst);
        Device.MakeCurrent();
        if (dst.Type != DataType.F32) throw new ArgumentException($"cannot upload floating-point values into a {dst.Type} slice");
        _transfer.UploadAsFloat(Ptr(dst), src);
    }

    public override void Upload(BufferSlice dst, ReadOnlySpan<float> src)
    {
        NoHostCopyWhileCapturing("upload");
        CheckLength(src.Length, dst);
        Device.MakeCurrent();
        if (dst.Type != DataType.F32) throw new ArgumentException($"cannot upload floating-point values into a {dst.Type} slice");
        _transfer.Upload(Ptr(dst), src);
    }

    public override void Upload(BufferSlice dst, ReadOnlySpan<int> src)
    {
        NoHostCopyWhileCapturing("upload");
        CheckLength(src.Length, dst);
        Device.MakeCurrent();
        if (dst.Type != DataType.I32) throw new ArgumentException($"cannot upload integers into a {dst.Type} slice");
        _transfer.Upload(Ptr(dst), src);
    }

    public override void Download(BufferSlice src, Span<double> dst)
    {
        NoHostCopyWhileCapturing("download");
        CheckLength(dst.Length, src);
        if (src.Type != DataType.F32) throw new ArgumentException($"cannot download a {src.Type} slice as floating-point values");
        Device.MakeCurrent();
        _transfer.DownloadAsDouble(Ptr(src), dst);
        RunDeferredChecks();
    }

    public override void Download(BufferSlice src, Span<float> dst)
    {
        NoHostCopyWhileCapturing("download");
        CheckLength(dst.Length, src);
        if (src.Type != DataType.F32) throw new ArgumentException($"cannot download a {src.Type} slice as floating-point values");
        Device.MakeCurrent();
        _transfer.Download(Ptr(src), dst);
        RunDeferredChecks();
    }

    public override void Download(BufferSlice src, Span<int> dst)
    {
        NoHostCopyWhileCapturing("download");
        CheckLength(dst.Length, src);
        if (src.Type != DataType.I32) throw new ArgumentException($"cannot download a {src.Type} slice as integers");
        Device.MakeCurrent();
        _transfer.Download(Ptr(src), dst);
        RunDeferredChecks();
    }

    public override void Copy(BufferSlice dst, BufferSlice src)
    {
        if (dst.Bytes != src.Bytes) throw new ArgumentException($"copy of {src.Count} {src.Type} into {dst.Count} {dst.Type}");
        Device.MakeCurrent();
        Stream.CopyDeviceToDevice(Ptr(dst), Ptr(src), src.Bytes);
    }

    public override void Forward(NodeRun run)
    {
        Device.MakeCurrent();
        var node = Node(run);
        if (run.Node.Op is ICudaOp op) op.ForwardCuda(node); else node.RunOnHost(forward: true);
    }

    public override void Backward(NodeRun run)
    {
        Device.MakeCurrent();
        var node = Node(run);
        if (run.Node.Op is not ICudaOp op) { node.RunOnHost(forward: false); return; }
        for (int i = 0; i < run.InGrad.Length; i++)
            if (run.OverwritesInGrad(i) && !op.CudaOverwritesInputGradient(i)) Zero(run.InGrad[i]!.Value);
        op.BackwardCuda(node);
    }

    public override void Recompute(NodeRun run)
    {
        Device.MakeCurrent();
        if (run.Node.Op is not ICudaOp op) throw new NotSupportedException($"{run.Node.Name}: {run.Node.Op.Type} has no GPU path to recompute its output");
        op.RecomputeCuda(Node(run));
    }

    public override void Synchronize()
    {
        Device.MakeCurrent();
        Stream.Synchronize();
        RunDeferredChecks();
    }

    /// <summary>Launches an elementwise kernel over <paramref name="count"/> items with kernels/ABI.md's elementwise grid.</summary>
    internal void LaunchElementwise(string kernel, long count, scoped ref KernelArgs args)
    {
        var blocks = (uint)Math.Clamp((count + 1023) / 1024, 1, 32L * Device.Info.Multiprocessors);
        Stream.Launch(Kernels.Get(kernel), blocks, CudaNode.BlockSize, ref args);
    }

    /// <summary>The device address of a slice's first element.</summary>
    public static DevicePtr Ptr(BufferSlice s) =>
        s.Buffer is CudaBuffer b ? b.At(s.ByteOffset) : throw new ArgumentException($"a {s.Buffer.GetType().Name} is not CUDA device memory");

    private CudaNode Node(NodeRun run) => (CudaNode)(run.BackendState ??= new CudaNode(this, run));

    /// <summary>
    /// Registers a check of a device-side int (e.g. a kernel's "bad label" flag) to run at the next
    /// point where the host waits anyway (Download, Synchronize), so that it costs no extra sync.
    /// </summary>
    internal void DeferCheck(DeferredCheck check, DevicePtr flag)
    {
        if (_capturedChecks is { } captured)
        {
            check.Queue(flag, Stream);
            if (!captured.Contains(check)) captured.Add(check);
            return;
        }
        bool registered = check.Pending;
        check.Capture(flag, Stream);
        if (!registered) _checks.Add(check);
    }

    private void RunDeferredChecks()
    {
        if (_checks.Count == 0) return;
        Stream.Synchronize();
        var pending = _checks.ToArray();
        _checks.Clear();
        foreach (var c in pending) c.Verify();
    }

    private static void CheckLength(int hostLength, BufferSlice s)
    {
        if (hostLength != s.Count) throw new ArgumentException($"copy of {hostLength} elements into a slice of {s.Count}");
    }

    public override void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Device.MakeCurrent();
        try { Stream.Synchronize(); }
        catch (CudaException) { } // a failed kernel is reported where it happened; release what we can
        _dnn?.Dispose();
        _blas?.Dispose();
        Kernels.Dispose();
        _transfer.Dispose();
        Allocator.Dispose();
        Stream.Dispose();
        Device.Dispose();
        base.Dispose();
    }
}
