using Engine.Data;

namespace Engine.Training;

/// <summary>
/// Batches of one data split in a deterministic order: the same (seed, epoch, batch) always
/// gives the same batch, so a run can stop after any batch and continue from there.
/// </summary>
public interface IBatchSource
{
    /// <summary>Examples per batch in this process (a rank's share of the global batch).</summary>
    int BatchSize { get; }
    /// <summary>Data-parallel ranks that each take <see cref="BatchSize"/> of every global batch; <see cref="Examples"/> counts them all.</summary>
    int Ranks => 1;
    /// <summary>Batches per epoch (training drops the last partial batch; evaluation keeps it).</summary>
    int BatchesPerEpoch { get; }
    /// <summary>Examples per epoch.</summary>
    int Examples { get; }
    /// <summary>Examples in the split, including those a dropped last partial batch leaves out of each epoch.</summary>
    int SplitCount => Examples;
    /// <summary>Told about each example that could not be read (file and reason); set by the trainer.</summary>
    Action<string>? Log { get; set; }
    /// <summary>The batches of <paramref name="epoch"/> from batch <paramref name="fromBatch"/> on.</summary>
    IEnumerable<Batch> Epoch(int epoch, int fromBatch = 0);
}
