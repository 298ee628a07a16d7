using Engine.Tensors;

namespace Engine.Ops.Cpu;

/// <summary>Loop helpers shared by the per-channel / per-group CPU references.</summary>
internal static class ParallelWork
{
    /// <summary>Below this many elements of work a parallel loop costs more than it saves.</summary>
    private const long MinimumParallelWork = 1 << 15;

    /// <summary>Runs body(i) for i in [0, count), in parallel when there is enough work to pay for it.</summary>
    public static void For(int count, long perItem, Action<int> body)
    {
        if (count * perItem < MinimumParallelWork) for (int i = 0; i < count; i++) body(i);
        else WorkerTeam.Shared.For(count, body);
    }

    /// <summary>Elements per chunk of <see cref="ForChunks"/>: large enough to amortise a task, small enough to balance.</summary>
    public const int ChunkLength = 1 << 16;

    /// <summary>Runs body(start, count) over [0, length) in chunks of <see cref="ChunkLength"/>, in parallel when there are several.</summary>
    public static void ForChunks(int length, Action<int, int> body)
    {
        int chunks = (length + ChunkLength - 1) / ChunkLength;
        if (chunks <= 1) { if (length > 0) body(0, length); return; }
        WorkerTeam.Shared.For(chunks, k =>
        {
            int start = k * ChunkLength;
            body(start, Math.Min(ChunkLength, length - start));
        });
    }

    /// <summary>Batch, channels, and elements per (sample, channel) plane of an [N,C] or [N,C,H,W] shape.</summary>
    public static (int Batch, int Channels, int Plane) NchwLayout(Shape s) =>
        (s[0], s[1], s.Rank == 4 ? s[2] * s[3] : 1);
}
