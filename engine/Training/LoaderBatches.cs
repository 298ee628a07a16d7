using Engine.Data;
using Engine.Data.Loader;

namespace Engine.Training;

/// <summary>
/// The data pipeline's parallel, prefetching <see cref="DataLoader"/> as a batch source. One
/// loader runs on while epochs are requested in order; a request for another position (a resumed
/// run) starts a loader there. Training shuffles, augments and drops the last partial batch;
/// evaluation keeps the dataset's order and every example.
/// </summary>
public sealed class LoaderBatches : IBatchSource, IDisposable
{
    private readonly IDataset _data;
    private readonly LoaderOptions _options;
    private DataLoader? _loader;

    /// <param name="rank">Data-parallel training: this rank's share of each global batch of <paramref name="batchSize"/> * <paramref name="ranks"/>.</param>
    /// <param name="layout">The layout the loader writes the images in: the executor's (<see cref="Engine.Graph.Backend.Layout"/>), so they need no transposing.</param>
    public LoaderBatches(IDataset data, int batchSize, bool train, ulong seed, int threads = 0, int rank = 0, int ranks = 1,
        Engine.Tensors.Layout layout = Engine.Tensors.Layout.Nchw)
    {
        if (data.Count < 1) throw new InvalidDataException($"dataset '{data.Name}' is empty");
        _data = data;
        BatchSize = Math.Max(1, Math.Min(batchSize, data.Count));
        _options = new LoaderOptions
        {
            BatchSize = BatchSize, Shuffle = train, DropLast = train, Augment = train, Seed = seed, Rank = rank, Ranks = ranks,
            Threads = threads > 0 ? threads : Environment.ProcessorCount, Log = m => Log?.Invoke(m), Layout = layout,
        };
        if (ranks > 1 && !train) throw new ArgumentException("evaluation is not sharded: every rank evaluates the whole split");
        Ranks = ranks;
        BatchesPerEpoch = train ? data.Count / (BatchSize * ranks) : (data.Count + BatchSize - 1) / BatchSize;
        Examples = train ? BatchesPerEpoch * BatchSize * ranks : data.Count;
    }

    public int BatchSize { get; }
    public int Ranks { get; }
    public int BatchesPerEpoch { get; }
    public int Examples { get; }
    public int SplitCount => _data.Count;
    public Action<string>? Log { get; set; }
    public IDataset Dataset => _data;

    public IEnumerable<Batch> Epoch(int epoch, int fromBatch = 0)
    {
        if (fromBatch >= BatchesPerEpoch) yield break;
        var here = _loader?.Position;
        // Without shuffling every epoch holds the same batches, so evaluation reuses the running loader.
        bool reuse = here is { } p && p.Batch == fromBatch && (p.Epoch == epoch || !_options.Shuffle);
        if (!reuse)
        {
            _loader?.Dispose();
            _loader = new DataLoader(_data, _options, new LoaderPosition(epoch, fromBatch));
        }
        foreach (var b in _loader!.RestOfEpoch()) yield return b;
    }

    public void Dispose()
    {
        _loader?.Dispose();
        _loader = null;
    }
}
