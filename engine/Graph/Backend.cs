using Engine.Tensors;

namespace Engine.Graph;

/// <summary>Storage a backend owns: host arrays on the CPU, device memory on a GPU.</summary>
public abstract class Buffer : IDisposable
{
    public long Count { get; protected init; }
    public bool IsInt { get; protected init; }
    public virtual void Dispose() { GC.SuppressFinalize(this); }
}

/// <summary>A contiguous range of a buffer.</summary>
public readonly record struct BufferSlice(Buffer Buffer, long Offset, long Count)
{
    public static BufferSlice Whole(Buffer b) => new(b, 0, b.Count);
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
    public BufferSlice[] In { get; internal set; } = [];
    public BufferSlice[] Out { get; internal set; } = [];
    /// <summary>Null where the input takes no gradient (integer inputs, graph inputs unless requested).</summary>
    public BufferSlice?[] InGrad { get; internal set; } = [];
    public BufferSlice?[] OutGrad { get; internal set; } = [];
    /// <summary>Elements between consecutive samples of each input and output; null: contiguous (per-sample size).</summary>
    public long[]? InStrides { get; internal set; }
    public long[]? OutStrides { get; internal set; }
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
    /// <summary>Whatever the backend keeps per node between forward and backward.</summary>
    public object? BackendState { get; set; }
}

/// <summary>Where a graph runs. Chosen per executor, never globally.</summary>
public abstract partial class Backend : IDisposable
{
    public abstract string Name { get; }
    /// <summary>True when float values are float64 (CPU gradient checks), else float32.</summary>
    public abstract bool IsDouble { get; }

    public abstract Buffer Allocate(long count, bool isInt);
    public abstract void Zero(BufferSlice s);
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

    /// <summary>Waits for queued work (a no-op on the CPU).</summary>
    public virtual void Synchronize() { }
    public virtual void Dispose() { GC.SuppressFinalize(this); }
}
