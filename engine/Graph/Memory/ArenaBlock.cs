namespace Engine.Graph.Memory;

/// <summary>
/// One allocation the planner places in the arena: a value's or a gradient's storage, live from
/// step <see cref="Start"/> to step <see cref="End"/> inclusive (forward steps, then backward steps).
/// </summary>
public sealed class ArenaBlock(string name, long bytes, int start, int end)
{
    public string Name { get; } = name;
    public long Bytes { get; } = bytes;
    public int Start { get; internal set; } = start;
    public int End { get; internal set; } = end;
    /// <summary>Byte offset in the arena, set by <see cref="ArenaPacker"/>.</summary>
    public long Offset { get; internal set; } = -1;

    public bool OverlapsInTime(ArenaBlock o) => Start <= o.End && o.Start <= End;
    public bool OverlapsInMemory(ArenaBlock o) => Offset < o.Offset + o.Bytes && o.Offset < Offset + Bytes;
    public override string ToString() => $"{Name}: {Bytes} B, steps {Start}..{End}, at {Offset}";
}
