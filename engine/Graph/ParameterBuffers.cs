namespace Engine.Graph;

/// <summary>
/// A graph's parameters, their gradients and its states, each one contiguous buffer on a
/// backend. Executors of different batch sizes over the same graph may share one.
/// </summary>
public sealed class ParameterBuffers : IDisposable
{
    public ParameterBuffers(Graph graph, Backend backend)
    {
        Graph = graph;
        Backend = backend;
        Values = backend.AllocateFloats(Math.Max(1, graph.Parameters.Count));
        Grads = backend.AllocateFloats(Math.Max(1, graph.Parameters.Count));
        States = backend.AllocateFloats(Math.Max(1, graph.States.Count));
        backend.Zero(BufferSlice.Whole(Grads));
        Initialize(0);
    }

    public Graph Graph { get; }
    public Backend Backend { get; }
    public Buffer Values { get; }
    public Buffer Grads { get; }
    public Buffer States { get; }

    public long Count => Graph.Parameters.Count;

    /// <summary>Parameters by their initialisers (He, Glorot, ...); states to BN's start (mean 0, var 1).</summary>
    public void Initialize(ulong seed)
    {
        Graph.Parameters.Initialize(seed, InitChunk, (offset, v) => Backend.Upload(new BufferSlice(Values, offset, v.Length), v));
        Graph.States.Initialize(seed, InitChunk, (offset, v) => Backend.Upload(new BufferSlice(States, offset, v.Length), v));
    }

    // Values generated and uploaded at a time: a few MiB, not the whole net widened to double.
    private const int InitChunk = 1 << 20;

    public void ZeroGrads() => Backend.Zero(BufferSlice.Whole(Grads));

    public BufferSlice Slice(Buffer b, ParamView v) => new(b, v.Offset, v.Count);

    public double[] GetValues() => Read(Values, Graph.Parameters.Count);
    public double[] GetGrads() => Read(Grads, Graph.Parameters.Count);
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
