namespace Engine.Data.Loader;

public sealed record LoaderOptions
{
    /// <summary>Examples per batch of this loader (one rank's share when <see cref="Ranks"/> &gt; 1).</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>
    /// Data-parallel sharding: each epoch's order is cut into global batches of BatchSize * Ranks and
    /// this loader hands out its rank's consecutive share of each, so the ranks together see exactly
    /// what one loader at the global batch sees (augmentation is seeded by the example, not the rank).
    /// Needs <see cref="DropLast"/>.
    /// </summary>
    public int Rank { get; init; }
    public int Ranks { get; init; } = 1;
    /// <summary>A new order every epoch, from (Seed, epoch); false keeps dataset order.</summary>
    public bool Shuffle { get; init; } = true;
    /// <summary>Drop the last, incomplete batch of each epoch.</summary>
    public bool DropLast { get; init; }
    /// <summary>Training augmentation; false renders the deterministic evaluation view.</summary>
    public bool Augment { get; init; } = true;
    public ulong Seed { get; init; }
    /// <summary>Decoding threads; the batches do not depend on it.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>Batches decoded ahead of the one being used.</summary>
    public int Prefetch { get; init; } = 2;
    /// <summary>Told once about each unreadable example (called from loader threads).</summary>
    public Action<string>? Log { get; init; }
    /// <summary>
    /// Supplies the image buffers (called Prefetch + 1 times with the floats of one full batch),
    /// e.g. pinned host memory for fast device uploads; the default allocates plain arrays.
    /// </summary>
    public Func<int, Memory<float>>? AllocateImages { get; init; }
    /// <summary>
    /// How the batch's images are laid out: NCHW (each image CxHxW), or NHWC (each image HxWxC, channels
    /// contiguous per pixel) for an executor that stores activations NHWC, which then copies them as they are.
    /// </summary>
    public Engine.Tensors.Layout Layout { get; init; }
    /// <summary>Supplies the label/mask buffers, like <see cref="AllocateImages"/>.</summary>
    public Func<int, Memory<int>>? AllocateTargets { get; init; }
}

/// <summary>Where a loader stands: the next batch it will hand out. Save it in a checkpoint to resume the same order.</summary>
public readonly record struct LoaderPosition(int Epoch, int Batch)
{
    public override string ToString() => $"epoch {Epoch}, batch {Batch}";
}
