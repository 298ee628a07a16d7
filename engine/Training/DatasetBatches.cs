using Engine.Data;
using Engine.Tensors;

namespace Engine.Training;

/// <summary>
/// A simple deterministic loader over an <see cref="IDataset"/>: each epoch's order is a
/// shuffle seeded by (seed, epoch); each example is decoded with a generator seeded by
/// (seed, epoch, index), in parallel across the batch. An unreadable example is reported to
/// <see cref="BadSample"/> and replaced by the next example of the order, so batches stay full
/// and the run stays reproducible.
/// </summary>
public sealed class DatasetBatches : IBatchSource
{
    private readonly IDataset _data;
    private readonly bool _train;
    private readonly ulong _seed;
    private readonly int _parallelism;

    /// <param name="train">Shuffle, augment and drop the last partial batch; otherwise keep the dataset's order, no augmentation.</param>
    public DatasetBatches(IDataset data, int batchSize, bool train, ulong seed, int parallelism = 0)
    {
        if (data.Count < 1) throw new InvalidDataException($"dataset '{data.Name}' is empty");
        _data = data;
        _train = train;
        _seed = seed;
        _parallelism = parallelism > 0 ? parallelism : Environment.ProcessorCount;
        BatchSize = Math.Max(1, Math.Min(batchSize, data.Count));
        BatchesPerEpoch = train ? data.Count / BatchSize : (data.Count + BatchSize - 1) / BatchSize;
    }

    public int BatchSize { get; }
    public int BatchesPerEpoch { get; }
    public int Examples => _train ? BatchesPerEpoch * BatchSize : _data.Count;
    /// <summary>Told (from worker threads) about each example that could not be read.</summary>
    public Action<string>? Log { get; set; }

    public IEnumerable<Batch> Epoch(int epoch, int fromBatch = 0)
    {
        var order = Order(epoch);
        for (int b = fromBatch; b < BatchesPerEpoch; b++)
        {
            int start = b * BatchSize, count = Math.Min(BatchSize, order.Length - start);
            yield return Load(order, start, count, epoch);
        }
    }

    private int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, _data.Count).ToArray();
        if (_train) new Rng(Rng.Mix(_seed ^ Rng.Mix(0x5EED0000UL + (ulong)epoch))).Shuffle<int>(order);
        return order;
    }

    private Batch Load(int[] order, int start, int count, int epoch)
    {
        long imageSize = _data.SampleShape.Numel;
        int labelSize = -1;
        var images = new float[count * imageSize];
        var samples = new Sample[count];
        var indices = new int[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = _parallelism }, i =>
        {
            for (int attempt = 0; ; attempt++)
            {
                if (attempt >= _data.Count) throw new InvalidDataException($"dataset '{_data.Name}': no example could be read");
                int index = order[(start + i + attempt) % order.Length];
                var rng = new Rng(Rng.Mix(_seed ^ Rng.Mix((ulong)epoch * 0x9E3779B97F4A7C15UL + (ulong)index)));
                try
                {
                    samples[i] = _data.Load(index, rng, augment: _train);
                    indices[i] = index;
                    break;
                }
                catch (BadSampleException e) { Log?.Invoke($"skipped bad file {e.File}: {e.Reason}"); }
            }
            if (samples[i].Image.Length != imageSize)
                throw new InvalidDataException($"{_data.Describe(indices[i])}: image has {samples[i].Image.Length} values, the dataset's shape {_data.SampleShape} needs {imageSize}");
            samples[i].Image.CopyTo(images, i * imageSize);
        });
        labelSize = _data.Task == TaskKind.Classification ? 1 : samples[0].Mask?.Length ?? 0;
        var labels = new int[count * labelSize];
        for (int i = 0; i < count; i++)
        {
            if (_data.Task == TaskKind.Classification) labels[i] = samples[i].Label;
            else
            {
                var mask = samples[i].Mask ?? throw new InvalidDataException($"{_data.Describe(indices[i])}: segmentation example without a mask");
                if (mask.Length != labelSize) throw new InvalidDataException($"{_data.Describe(indices[i])}: mask of {mask.Length} pixels, expected {labelSize}");
                mask.CopyTo(labels, i * labelSize);
            }
        }
        return new Batch(images, labels, count, indices);
    }
}
