using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Engine.Data.Datasets;
using Engine.Tensors;

namespace Engine.Data.Loader;

/// <summary>
/// Decodes and augments batches on worker threads, a bounded number of batches ahead of the
/// consumer. Everything a batch contains follows from (seed, epoch, position): the epoch's order
/// is a shuffle seeded by (seed, epoch) and each example's augmentation generator is seeded by
/// (seed, epoch, dataset index), so the batches are the same whatever the thread count or timing,
/// and a run resumed at a saved <see cref="Position"/> continues with the same batches.
/// An unreadable example (<see cref="BadSampleException"/>) is logged once and replaced by the next
/// readable dataset index; only a dataset with no readable example at all stops the run.
/// </summary>
public sealed class DataLoader : IDisposable
{
    private readonly IDataset _data;
    private readonly LoaderOptions _options;
    private readonly int _imageSize;
    private readonly int _maskSize;   // H*W for segmentation, 0 for classification
    private readonly Slot[] _ring;
    private readonly Thread[] _workers;
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<int, string> _bad = new();
    private readonly Dictionary<int, int[]> _orders = [];

    private long _consume;      // linear number (epoch * BatchesPerEpoch + batch) of the next batch Next() returns
    private long _fillBatch;    // batch whose next example a worker takes
    private int _fillSlot;
    private bool _stopping;
    private bool _disposed;
    private ExceptionDispatchInfo? _error;

    public DataLoader(IDataset dataset, LoaderOptions options, LoaderPosition start = default)
    {
        _data = dataset;
        _options = options;
        if (options.BatchSize < 1) throw new ArgumentException($"batch size {options.BatchSize} must be at least 1");
        if (options.Threads < 1) throw new ArgumentException($"loader threads {options.Threads} must be at least 1");
        if (options.Prefetch < 1) throw new ArgumentException($"prefetch {options.Prefetch} must be at least 1 batch");
        if (options.Ranks < 1 || options.Rank < 0 || options.Rank >= options.Ranks) throw new ArgumentException($"rank {options.Rank} of {options.Ranks} ranks");
        if (options.Ranks > 1 && !options.DropLast) throw new ArgumentException("a loader sharded over ranks drops the last partial batch (DropLast)");
        if (dataset.Count < 1) throw new DatasetException($"{dataset.Name} has no examples");
        int global = options.BatchSize * options.Ranks;
        BatchesPerEpoch = options.DropLast ? dataset.Count / global : (dataset.Count + global - 1) / global;
        if (BatchesPerEpoch == 0)
            throw new DatasetException($"{dataset.Name} has {dataset.Count} examples, fewer than one batch of {global}{(options.Ranks > 1 ? $" ({options.Ranks} ranks x {options.BatchSize})" : "")} (drop-last is on)");
        if (start.Epoch < 0 || start.Batch < 0 || start.Batch >= BatchesPerEpoch)
            throw new ArgumentException($"start position {start} is outside an epoch of {BatchesPerEpoch} batches");

        var shape = dataset.SampleShape;
        _imageSize = checked((int)shape.Numel);
        _maskSize = dataset.Task == TaskKind.Segmentation ? shape[1] * shape[2] : 0;
        int targetsPerSample = dataset.Task == TaskKind.Segmentation ? _maskSize : 1;
        _ring = new Slot[options.Prefetch + 1];
        for (int i = 0; i < _ring.Length; i++)
            _ring[i] = new Slot(
                Allocate(options.AllocateImages, options.BatchSize * _imageSize, "image"),
                Allocate(options.AllocateTargets, options.BatchSize * targetsPerSample, "target"),
                new int[options.BatchSize]);

        _consume = _fillBatch = (long)start.Epoch * BatchesPerEpoch + start.Batch;
        _workers = new Thread[options.Threads];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(Work) { IsBackground = true, Name = $"data-loader-{i}" };
            _workers[i].Start();
        }
    }

    public IDataset Dataset => _data;
    public LoaderOptions Options => _options;
    public int BatchesPerEpoch { get; }

    /// <summary>The batch the next call to <see cref="Next"/> returns.</summary>
    public LoaderPosition Position
    {
        get { lock (_gate) return ToPosition(_consume); }
    }

    /// <summary>Distinct unreadable examples met so far.</summary>
    public int SkippedCount => _bad.Count;

    /// <summary>The unreadable examples met so far, as "file: reason".</summary>
    public IReadOnlyList<string> Skipped => _bad.OrderBy(kv => kv.Key).Select(kv => kv.Value).ToArray();

    /// <summary>Seed of the generator that augments <paramref name="index"/> in <paramref name="epoch"/>.</summary>
    public static ulong SampleSeed(ulong seed, int epoch, int index)
        => Rng.Mix(Rng.Mix(seed ^ 0xA0761D6478BD642FUL) ^ (((ulong)(uint)epoch << 32) | (uint)index));

    /// <summary>The example order of an epoch: a permutation seeded by (seed, epoch), or dataset order without shuffling.</summary>
    public static int[] EpochOrder(ulong seed, int epoch, int count, bool shuffle)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        if (shuffle) new Rng(Rng.Mix(seed ^ 0xE7037ED1A0B428DBUL) + (ulong)(uint)epoch).Shuffle(order.AsSpan());
        return order;
    }

    /// <summary>
    /// Waits for the next batch. Its buffers are reused: read (or upload) them before calling
    /// Next again. Rethrows a fatal error of the workers (a missing image library, a dataset with
    /// no readable example).
    /// </summary>
    public Batch Next()
    {
        long number;
        Slot slot;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            slot = _ring[_consume % _ring.Length];
            while (_error is null && !_disposed && !(slot.Batch == _consume && slot.Pending == 0)) Monitor.Wait(_gate);
            _error?.Throw();
            ObjectDisposedException.ThrowIf(_disposed, this);
            number = _consume++;
            Monitor.PulseAll(_gate);
        }
        var position = ToPosition(number);
        int count = SizeOf(number);
        int targets = _maskSize > 0 ? count * _maskSize : count;
        return new Batch(slot.Images[..(count * _imageSize)], slot.Targets[..targets], count, slot.Indices.AsMemory(0, count),
            position.Epoch, position.Batch, position.Batch == BatchesPerEpoch - 1, _options.Layout);
    }

    /// <summary>The batches from the current position to the end of its epoch.</summary>
    public IEnumerable<Batch> RestOfEpoch()
    {
        while (true)
        {
            var batch = Next();
            yield return batch;
            if (batch.LastInEpoch) yield break;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = _stopping = true;
            Monitor.PulseAll(_gate);
        }
        foreach (var w in _workers) w.Join();
    }

    private void Work()
    {
        try
        {
            while (true)
            {
                long number;
                int j;
                Slot slot;
                lock (_gate)
                {
                    while (!_stopping && _fillBatch >= _consume + _options.Prefetch) Monitor.Wait(_gate);
                    if (_stopping) return;
                    number = _fillBatch;
                    j = _fillSlot;
                    slot = _ring[number % _ring.Length];
                    int size = SizeOf(number);
                    if (j == 0) { slot.Batch = number; slot.Pending = size; }
                    if (++_fillSlot == size) { _fillBatch++; _fillSlot = 0; }
                }
                FillExample(slot, number, j);
                lock (_gate)
                {
                    if (--slot.Pending == 0) Monitor.PulseAll(_gate);
                }
            }
        }
        catch (Exception e)
        {
            lock (_gate)
            {
                _error ??= ExceptionDispatchInfo.Capture(e);
                _stopping = true;
                Monitor.PulseAll(_gate);
            }
        }
    }

    private void FillExample(Slot slot, long number, int j)
    {
        var position = ToPosition(number);
        int first = Order(position.Epoch)[(position.Batch * _options.Ranks + _options.Rank) * _options.BatchSize + j];
        var image = slot.Images.Span.Slice(j * _imageSize, _imageSize);
        var mask = _maskSize > 0 ? slot.Targets.Span.Slice(j * _maskSize, _maskSize) : default;
        int count = _data.Count;
        for (int attempt = 0; attempt < count; attempt++)
        {
            int index = (int)((first + (long)attempt) % count);
            if (_bad.ContainsKey(index)) continue;
            try
            {
                var rng = new Rng(SampleSeed(_options.Seed, position.Epoch, index));
                int label = _data.LoadInto(index, rng, _options.Augment, image, mask);
                if (_options.Layout == Layout.Nhwc) InterleaveChannels(image);
                if (_maskSize == 0)
                {
                    if ((uint)label >= (uint)_data.Classes)
                        throw new InvalidOperationException($"{_data.Name}: example {_data.Describe(index)} has label {label}, outside 0..{_data.Classes - 1}");
                    slot.Targets.Span[j] = label;
                }
                slot.Indices[j] = index;
                return;
            }
            catch (BadSampleException e)
            {
                if (_bad.TryAdd(index, $"{e.File}: {e.Reason}"))
                    _options.Log?.Invoke($"skipping unreadable example {e.File}: {e.Reason}");
            }
        }
        var firstBad = _bad.OrderBy(kv => kv.Key).First().Value;
        throw new DatasetException($"{_data.Name}: none of its {count} examples is readable (for example {firstBad})");
    }

    [ThreadStatic] private static float[]? t_planes;

    /// <summary>
    /// An NHWC batch: the decoding thread interleaves its image's channel planes (CxHxW, as the
    /// transforms produce them) into pixels (HxWxC) in its slot, so the executor takes the batch as it is.
    /// </summary>
    private void InterleaveChannels(Span<float> image)
    {
        var shape = _data.SampleShape;
        var planes = t_planes is { } t && t.Length >= image.Length ? t : t_planes = new float[image.Length];
        image.CopyTo(planes);
        LayoutTranspose.ToNhwc<float>(planes.AsSpan(0, image.Length), image, new Shape(1, shape[0], shape[1], shape[2]));
    }

    private int[] Order(int epoch)
    {
        lock (_orders)
        {
            if (_orders.TryGetValue(epoch, out var order)) return order;
            if (!_options.Shuffle && _orders.Count > 0) return _orders.Values.First();
            order = EpochOrder(_options.Seed, epoch, _data.Count, _options.Shuffle);
            foreach (var old in _orders.Keys.Where(e => e < epoch - 1).ToArray()) _orders.Remove(old);
            _orders[epoch] = order;
            return order;
        }
    }

    private int SizeOf(long number)
    {
        int b = (int)(number % BatchesPerEpoch);
        return Math.Min(_options.BatchSize, _data.Count - b * _options.BatchSize);
    }

    private LoaderPosition ToPosition(long number) => new((int)(number / BatchesPerEpoch), (int)(number % BatchesPerEpoch));

    private static Memory<T> Allocate<T>(Func<int, Memory<T>>? allocate, int length, string what)
    {
        if (allocate is null) return new T[length];
        var memory = allocate(length);
        if (memory.Length < length) throw new ArgumentException($"the {what} buffer allocator returned {memory.Length} elements, expected {length}");
        return memory[..length];
    }

    private sealed class Slot(Memory<float> images, Memory<int> targets, int[] indices)
    {
        public long Batch = -1;
        public int Pending;
        public readonly Memory<float> Images = images;
        public readonly Memory<int> Targets = targets;
        public readonly int[] Indices = indices;
    }
}
