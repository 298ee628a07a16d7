using Engine.Tensors;

namespace Engine.Graph;

/// <summary>Storage a backend owns, in bytes: host memory on the CPU, device memory on a GPU.</summary>
public abstract class Buffer : IDisposable
{
    public long Bytes { get; protected init; }
    /// <summary>The element type it was allocated for (<see cref="DataType.U8"/> for an arena of mixed tensors).</summary>
    public DataType Type { get; protected init; }
    /// <summary>Elements of <see cref="Type"/> it holds.</summary>
    public long Count => Bytes / Type.Size();
    public virtual void Dispose() { GC.SuppressFinalize(this); }
}

/// <summary>A contiguous range of <paramref name="Count"/> elements of type <paramref name="Type"/> starting <paramref name="ByteOffset"/> bytes into a buffer.</summary>
public readonly record struct BufferSlice(Buffer Buffer, long ByteOffset, long Count, DataType Type)
{
    /// <summary>A range of a buffer in its own element type, by element offset.</summary>
    public BufferSlice(Buffer buffer, long offset, long count) : this(buffer, offset * buffer.Type.Size(), count, buffer.Type) { }

    public static BufferSlice Whole(Buffer b) => new(b, 0, b.Count, b.Type);
    public long Bytes => Count * Type.Size();
    public bool IsFloat => Type.IsFloat();

    /// <summary>Elements [start, start + count) of this slice.</summary>
    public BufferSlice Sub(long start, long count)
    {
        if (start < 0 || count < 0 || start + count > Count) throw new ArgumentOutOfRangeException(nameof(start), $"elements [{start}, {start + count}) of a slice of {Count}");
        return this with { ByteOffset = ByteOffset + start * Type.Size(), Count = count };
    }
}

/// <summary>
/// Everything a backend needs to run one node: its shapes at the executor's batch size and
/// the slices of its inputs, outputs, gradients, parameters and states.
/// </summary>
public sealed class NodeRun
{
    internal NodeRun(Node node) { Node = node; }

    public Node Node { get; }
    public Shape[] InShapes { get; internal set; } = [];
    public Shape[] OutShapes { get; internal set; } = [];
    /// <summary>Each input's and output's descriptor: shape, element type as stored, layout.</summary>
    public TensorDesc[] InDescs { get; internal set; } = [];
    public TensorDesc[] OutDescs { get; internal set; } = [];
    public BufferSlice[] In { get; internal set; } = [];
    public BufferSlice[] Out { get; internal set; } = [];
    /// <summary>Null where the input takes no gradient (integer inputs, graph inputs unless requested).</summary>
    public BufferSlice?[] InGrad { get; internal set; } = [];
    public BufferSlice?[] OutGrad { get; internal set; } = [];
    /// <summary>
    /// Per input, set by the executor before each backward: true where this backward is the first
    /// writer of the input's gradient in this pass and the op writes it with `=`
    /// (<see cref="OpBase.OverwritesInputGradient"/>); the executor then does not zero it first.
    /// </summary>
    public bool[]? InGradOverwrite { get; internal set; }
    /// <summary>The arena storage of <see cref="OpBase.SavedScratch"/>, or null.</summary>
    public BufferSlice? SavedScratch { get; internal set; }
    public bool OverwritesInGrad(int i) => InGradOverwrite?[i] ?? false;
    /// <summary>Elements between consecutive samples of each input and output; null: contiguous (per-sample size).</summary>
    public long[]? InStrides { get; internal set; }
    public long[]? OutStrides { get; internal set; }
    /// <summary>For a concatenation: which inputs are views into its output (written there by their producers), so nothing is copied.</summary>
    public bool[]? InAliasesOutput { get; internal set; }
    public long InSampleStride(int i) => InStrides?[i] ?? InShapes[i].Numel / InShapes[i][0];
    public long OutSampleStride(int i) => OutStrides?[i] ?? OutShapes[i].Numel / OutShapes[i][0];
    public BufferSlice[] Params { get; internal set; } = [];
    public BufferSlice[] ParamGrads { get; internal set; } = [];
    public BufferSlice[] States { get; internal set; } = [];
    public bool Training { get; internal set; }
    public int Batch { get; internal set; }
    /// <summary>Seed and step for stochastic ops (dropout): the mask is a hash of (seed, node, step, element).</summary>
    public ulong Seed { get; internal set; }
    public long Step { get; internal set; }
    /// <summary>The same step in the backend's memory (one 64-bit integer as two I32), for kernels that read it there so that a captured step replays with the current value.</summary>
    public BufferSlice StepScalar { get; internal set; }
    /// <summary>The global index of this batch's first example (data-parallel ranks: rank * local batch), so masks follow the example, not the rank.</summary>
    public long ExampleOffset { get; internal set; }
    /// <summary>Whatever the backend keeps per node between forward and backward.</summary>
    public object? BackendState { get; set; }
}

/// <summary>Where a graph runs. Chosen per executor, never globally.</summary>
public abstract partial class Backend : IDisposable
{
    public abstract string Name { get; }
    /// <summary>The element type of float tensors: F64 for the CPU's gradient checks, else F32.</summary>
    public abstract DataType FloatType { get; }
    /// <summary>The arithmetic this backend runs (<see cref="Graph.Precision"/>).</summary>
    public virtual Precision Precision => FloatType == DataType.F64 ? Precision.Fp64 : Precision.Fp32;
    /// <summary>How this backend stores 4-D activations and their gradients (engine/Graph/LAYOUT.md); weights keep their own layout.</summary>
    public virtual Layout Layout => Layout.Nchw;

    /// <summary>A buffer of <paramref name="count"/> elements of <paramref name="type"/>, zeroed.</summary>
    public abstract Buffer Allocate(long count, DataType type);
    /// <summary>A buffer of <paramref name="count"/> floats in the backend's precision, zeroed.</summary>
    public Buffer AllocateFloats(long count) => Allocate(count, FloatType);
    public abstract void Zero(BufferSlice s);
    /// <summary>Sets every element of a float slice to <paramref name="value"/> without a host copy (the CUDA backend: a memset a captured step can replay).</summary>
    public virtual void Fill(BufferSlice s, double value)
    {
        var values = new double[s.Count];
        Array.Fill(values, value);
        Upload(s, values);
    }
    public abstract void Upload(BufferSlice dst, ReadOnlySpan<double> src);
    public abstract void Upload(BufferSlice dst, ReadOnlySpan<float> src);
    public abstract void Upload(BufferSlice dst, ReadOnlySpan<int> src);
    public abstract void Download(BufferSlice src, Span<double> dst);
    public abstract void Download(BufferSlice src, Span<float> dst);
    public abstract void Download(BufferSlice src, Span<int> dst);
    /// <summary>dst = src, same backend.</summary>
    public abstract void Copy(BufferSlice dst, BufferSlice src);

    public abstract void Forward(NodeRun run);
    public abstract void Backward(NodeRun run);
    /// <summary>Writes the node's outputs again, as its last forward did, without side effects (<see cref="OpBase.CanRecomputeOutput"/>).</summary>
    public abstract void Recompute(NodeRun run);

    /// <summary>Records that work meant to run on this backend ran on host copies instead (counted by <c>CudaBackend.HostFallbacks</c>).</summary>
    public virtual void NoteHostFallback(string what) { }

    /// <summary>Waits for queued work (a no-op on the CPU).</summary>
    public virtual void Synchronize() { }
    public virtual void Dispose() { GC.SuppressFinalize(this); }
}
