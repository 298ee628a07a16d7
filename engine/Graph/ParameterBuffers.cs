using Engine.Tensors;

namespace Engine.Graph;

/// <summary>
/// A graph's parameters, their gradients and its states, each one contiguous buffer on a
/// backend. Executors of different batch sizes over the same graph may share one. With the
/// backbone frozen, its parameters (a prefix of the layout) have no gradients: the gradient
/// buffer holds the trainable parameters only, from <see cref="FrozenCount"/> on.
/// </summary>
public sealed class ParameterBuffers : IDisposable
{
    /// <param name="gradients">False for inference only: no gradient buffer (a placeholder of one element), so the weights take their size once.</param>
    /// <param name="initialize">False when every value will be loaded anyway (a strict import): the buffers start undefined.</param>
    /// <param name="freezeBackbone">Hold the graph's backbone fixed (<see cref="Graph.HasBackbone"/>): no gradients for its parameters.</param>
    public ParameterBuffers(Graph graph, Backend backend, bool gradients = true, bool initialize = true, bool freezeBackbone = false)
    {
        Graph = graph;
        Backend = backend;
        FreezeBackbone = freezeBackbone;
        FrozenCount = graph.FrozenParameterCount(freezeBackbone);
        Values = backend.AllocateFloats(Math.Max(1, graph.Parameters.Count));
        Grads = backend.AllocateFloats(gradients ? Math.Max(1, TrainableCount) : 1);
        States = backend.AllocateFloats(Math.Max(1, graph.States.Count));
        backend.Zero(BufferSlice.Whole(Grads));
        if (initialize) Initialize(0);
    }

    public Graph Graph { get; }
    public Backend Backend { get; }
    public Buffer Values { get; }
    public Buffer Grads { get; }
    public Buffer States { get; }

    public long Count => Graph.Parameters.Count;
    public bool FreezeBackbone { get; }
    /// <summary>Parameters without gradients: the first this many of the layout.</summary>
    public long FrozenCount { get; }
    public long TrainableCount => Count - FrozenCount;
    public bool IsFrozen(ParamView v) => v.Offset < FrozenCount;
    /// <summary>The parameters that take gradients and updates, in layout order.</summary>
    public IEnumerable<ParamView> Trainable => Graph.Parameters.Views.Where(v => !IsFrozen(v));

    /// <summary>Parameters by their initialisers (He, Glorot, ...); states to BN's start (mean 0, var 1).</summary>
    public void Initialize(ulong seed)
    {
        InitializeLayout(Graph.Parameters, Values, seed);
        InitializeLayout(Graph.States, States, seed);
    }

    /// <summary>One view at a time in the backend's float type (the values do not depend on it: each is drawn in double and rounded once).</summary>
    private void InitializeLayout(ParameterLayout layout, Buffer buffer, ulong seed)
    {
        if (Backend.FloatType == DataType.F64)
            layout.Initialize<double>(seed, (v, offset, a) => Backend.Upload(new BufferSlice(buffer, v.Offset + offset, a.Length), a));
        else layout.Initialize<float>(seed, (v, offset, a) => Backend.Upload(new BufferSlice(buffer, v.Offset + offset, a.Length), a));
    }

    public void ZeroGrads() => Backend.Zero(BufferSlice.Whole(Grads));

    public BufferSlice Slice(Buffer b, ParamView v) => new(b, v.Offset, v.Count);

    /// <summary>Where <paramref name="v"/>'s gradient lives, or null for a frozen parameter.</summary>
    public BufferSlice? GradSlice(ParamView v) => IsFrozen(v) ? null : new(Grads, v.Offset - FrozenCount, v.Count);

    public double[] GetValues() => Read(Values, Graph.Parameters.Count);

    /// <summary>Every parameter's gradient in layout order; a frozen parameter's reads 0.</summary>
    public double[] GetGrads()
    {
        var all = new double[Count];
        if (TrainableCount > 0) Backend.Download(new BufferSlice(Grads, 0, TrainableCount), all.AsSpan((int)FrozenCount));
        return all;
    }
    public double[] GetStates() => Read(States, Graph.States.Count);
    public void SetValues(ReadOnlySpan<double> v) => Write(Values, v, Graph.Parameters.Count);
    public void SetStates(ReadOnlySpan<double> v) => Write(States, v, Graph.States.Count);

    private double[] Read(Buffer b, long count)
    {
        var r = new double[count];
        if (count > 0) Backend.Download(new BufferSlice(b, 0, count), r);
        return r;
    }

    private void Write(Buffer b, ReadOnlySpan<double> v, long count)
    {
        if (v.Length != count) throw new ArgumentException($"{Graph.Name}: expected {count} values, got {v.Length}");
        if (count > 0) Backend.Upload(new BufferSlice(b, 0, count), v);
    }

    public void Dispose()
    {
        Values.Dispose(); Grads.Dispose(); States.Dispose();
    }
}
