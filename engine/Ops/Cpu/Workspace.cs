using System.Numerics;

namespace Engine.Ops.Cpu;

/// <summary>
/// Per-thread scratch arrays for the CPU ops (padded images, column gradients), shared by all
/// nodes so that memory grows with the largest layer, not with the depth of the net.
/// Contents are not preserved between calls.
/// </summary>
internal static class Workspace<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [ThreadStatic] private static T[]? _columnGrads;
    [ThreadStatic] private static T[]? _padded;

    public static Span<T> ColumnGrads(long count) => Grow(ref _columnGrads, count);
    public static Span<T> Padded(long count) => Grow(ref _padded, count);

    private static Span<T> Grow(ref T[]? array, long count)
    {
        if (count > Array.MaxLength) throw new OutOfMemoryException($"a work buffer of {count} elements is larger than an array can be");
        if (array is null || array.Length < count) array = new T[count];
        return array.AsSpan(0, (int)count);
    }
}
