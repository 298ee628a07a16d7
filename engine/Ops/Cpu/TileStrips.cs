namespace Engine.Ops.Cpu;

/// <summary>How the parallel GEMMs cut one side of C into strips of whole tiles, so no strip gains a ragged edge.</summary>
internal static class TileStrips
{
    /// <summary>The elements [Lo, Hi) of strip <paramref name="strip"/> of <paramref name="strips"/>, over <paramref name="tiles"/> tiles of <paramref name="tile"/> elements covering <paramref name="size"/>.</summary>
    public static (int Lo, int Hi) Bounds(int strip, int strips, int tiles, int tile, int size) =>
        ((int)((long)strip * tiles / strips) * tile, Math.Min(size, (int)((long)(strip + 1) * tiles / strips) * tile));
}
