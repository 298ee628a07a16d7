using System.Runtime.InteropServices;

namespace Engine.Distributed;

/// <summary>
/// The collective operations data-parallel training needs, over a group of ranks that all call
/// them in the same order with the same sizes. <c>what</c> names the call in error messages
/// ("gradients", "syncbn statistics of conv3_norm"). A rank that does not arrive within the
/// group's timeout, or arrives at a different call, ends the call on every rank with a
/// <see cref="CollectiveException"/> naming the rank and the cause.
/// </summary>
public interface ICollectives
{
    int Rank { get; }
    int Size { get; }
    /// <summary>This rank's number among the ranks on its machine (the GPU it takes).</summary>
    int LocalRank { get; }

    /// <summary>Every rank ends with the element-wise sum over ranks, bitwise the same on every rank.</summary>
    void AllReduceSum(Span<double> values, string what);
    void AllReduceSum(Span<float> values, string what);
    /// <summary>Every rank ends with <paramref name="root"/>'s bytes.</summary>
    void Broadcast(Span<byte> data, int root, string what);
    /// <summary>Each rank's <paramref name="value"/>, by rank.</summary>
    long[] AllGather(long value, string what);
    void Barrier(string what);
}

public static class CollectivesExtensions
{
    public static void Broadcast(this ICollectives c, Span<double> values, int root, string what) => c.Broadcast(MemoryMarshal.AsBytes(values), root, what);
    public static void Broadcast(this ICollectives c, Span<float> values, int root, string what) => c.Broadcast(MemoryMarshal.AsBytes(values), root, what);
    public static bool IsRoot(this ICollectives c) => c.Rank == 0;
}

/// <summary>A rank failed, hung, or disagreed with the others: one line naming the rank and the cause.</summary>
public sealed class CollectiveException(string message) : Exception(message);

/// <summary>One process on its own: every collective is the identity, and no MPI library is loaded.</summary>
public sealed class SingleProcess : ICollectives
{
    public static readonly SingleProcess Instance = new();
    public int Rank => 0;
    public int Size => 1;
    public int LocalRank => 0;
    public void AllReduceSum(Span<double> values, string what) { }
    public void AllReduceSum(Span<float> values, string what) { }
    public void Broadcast(Span<byte> data, int root, string what) { }
    public long[] AllGather(long value, string what) => [value];
    public void Barrier(string what) { }
}

/// <summary>An op whose running statistics every rank computes identically (SyncBN), so they need no broadcast from rank 0 after a step.</summary>
public interface ISynchronizedStatistics;
