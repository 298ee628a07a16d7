namespace Engine.Graph.Memory;

/// <summary>
/// Places blocks with known lifetimes in one arena so that no two blocks live at the same step
/// overlap. Two strategies; the planner keeps whichever needs the smaller arena.
/// </summary>
public static class ArenaPacker
{
    /// <summary>Offsets and sizes are multiples of this (cuDNN and vector loads want aligned tensors).</summary>
    public const long Alignment = 256;

    public static long Align(long bytes) => (bytes + Alignment - 1) / Alignment * Alignment;

    /// <summary>
    /// XLA's global decreasing-size best-fit heap: the largest blocks first, each into the smallest
    /// gap left between the already placed blocks that live at the same time, else on top.
    /// Returns the arena size.
    /// </summary>
    public static long BestFitDecreasingSize(IReadOnlyList<ArenaBlock> blocks)
    {
        var order = blocks.Select((b, i) => (b, i)).OrderByDescending(x => x.b.Bytes).ThenBy(x => x.b.Start).ThenBy(x => x.i).Select(x => x.b);
        var placed = new List<ArenaBlock>();
        long top = 0;
        foreach (var block in order)
        {
            long size = Align(block.Bytes);
            var busy = placed.Where(p => p.OverlapsInTime(block)).OrderBy(p => p.Offset).ToList();
            long best = -1, bestGap = long.MaxValue, cursor = 0;
            foreach (var p in busy)
            {
                long gap = p.Offset - cursor;
                if (gap >= size && gap < bestGap) { best = cursor; bestGap = gap; }
                cursor = Math.Max(cursor, p.Offset + Align(p.Bytes));
            }
            block.Offset = best >= 0 ? best : cursor;
            top = Math.Max(top, block.Offset + size);
            placed.Add(block);
        }
        return top;
    }

    /// <summary>
    /// MXNet's counter simulation: walk the steps in order; a block taking storage reuses the
    /// free chunk closest in size (within a factor of <paramref name="matchRange"/>, growing it if
    /// needed) or opens a new chunk; a block whose life ended frees its chunk. Returns the arena size.
    /// </summary>
    public static long FreeListReuse(IReadOnlyList<ArenaBlock> blocks, double matchRange = 16)
    {
        var chunks = new List<long>();                // chunk sizes
        var owner = new Dictionary<ArenaBlock, int>();
        var free = new SortedSet<(long Size, int Chunk)>();
        int steps = blocks.Count == 0 ? 0 : blocks.Max(b => b.End) + 1;
        var starting = blocks.Select((b, i) => (b, i)).OrderBy(x => x.b.Start).ThenByDescending(x => x.b.Bytes).ThenBy(x => x.i).ToList();
        var ending = blocks.GroupBy(b => b.End).ToDictionary(g => g.Key, g => g.ToList());
        int next = 0;
        for (int step = 0; step < steps; step++)
        {
            for (; next < starting.Count && starting[next].b.Start == step; next++)
            {
                var block = starting[next].b;
                long size = Align(block.Bytes);
                var candidates = free.Where(f => f.Size * matchRange >= size && f.Size <= size * matchRange).ToList();
                if (candidates.Count > 0)
                {
                    var pick = candidates.MinBy(f => Math.Abs(f.Size - size));
                    free.Remove(pick);
                    chunks[pick.Chunk] = Math.Max(chunks[pick.Chunk], size);
                    owner[block] = pick.Chunk;
                }
                else
                {
                    chunks.Add(size);
                    owner[block] = chunks.Count - 1;
                }
            }
            if (ending.TryGetValue(step, out var done))
                foreach (var block in done) free.Add((chunks[owner[block]], owner[block]));
        }
        long offset = 0;
        var chunkOffsets = new long[chunks.Count];
        for (int c = 0; c < chunks.Count; c++) { chunkOffsets[c] = offset; offset += chunks[c]; }
        foreach (var (block, chunk) in owner) block.Offset = chunkOffsets[chunk];
        return offset;
    }
}
