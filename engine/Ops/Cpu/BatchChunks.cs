namespace Engine.Ops.Cpu;

/// <summary>
/// Splits a batch into a fixed number of contiguous chunks (one per core, at most one per image)
/// run in parallel. The split depends only on the batch size and the core count, so per-chunk
/// partial sums reduced in chunk order give bitwise identical results run to run.
/// </summary>
public readonly record struct BatchChunks(int Batch, int Count)
{
    public static BatchChunks For(int batch) => new(batch, Math.Max(1, Math.Min(batch, Environment.ProcessorCount)));

    /// <summary>The images [Start, End) of chunk <paramref name="chunk"/>.</summary>
    public (int Start, int End) Range(int chunk) => ((int)((long)chunk * Batch / Count), (int)((long)(chunk + 1) * Batch / Count));

    /// <summary>Runs <paramref name="body"/>(chunk) for every chunk, in parallel when there are several.</summary>
    public void Run(Action<int> body)
    {
        if (Count == 1) body(0);
        else Parallel.For(0, Count, body);
    }
}
