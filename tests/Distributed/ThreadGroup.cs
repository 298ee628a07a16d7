using Engine.Distributed;

namespace Engine.Tests.Distributed;

/// <summary>
/// Ranks simulated in one process, one thread each: every collective meets at a barrier, and each
/// rank sums the contributions in rank order (so all ranks get the same bits, as MPI's do).
/// </summary>
internal sealed class ThreadGroup
{
    private readonly Barrier _barrier;
    private readonly object?[] _slots;

    private ThreadGroup(int size)
    {
        _barrier = new Barrier(size);
        _slots = new object?[size];
    }

    public static ICollectives[] Create(int size)
    {
        var shared = new ThreadGroup(size);
        return [.. Enumerable.Range(0, size).Select(r => (ICollectives)new Member(shared, r))];
    }

    /// <summary>Runs <paramref name="body"/> as every rank at once, each on its own thread.</summary>
    public static void Run(ICollectives[] ranks, Action<ICollectives> body)
    {
        var errors = new Exception?[ranks.Length];
        var threads = ranks.Select((r, i) => new Thread(() => { try { body(r); } catch (Exception e) { errors[i] = e; } })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        if (errors.FirstOrDefault(e => e is not null) is { } first) throw new AggregateException(first);
    }

    private T[] Exchange<T>(int rank, T[] mine) where T : System.Numerics.INumber<T>
    {
        _slots[rank] = mine;
        _barrier.SignalAndWait();
        var all = _slots.Select(s => (T[])s!).ToArray();
        var result = new T[mine.Length];
        for (int i = 0; i < result.Length; i++)
        {
            T sum = all[0][i];
            for (int r = 1; r < all.Length; r++) sum += all[r][i];
            result[i] = sum;
        }
        _barrier.SignalAndWait();
        return result;
    }

    private sealed class Member(ThreadGroup group, int rank) : ICollectives
    {
        public int Rank => rank;
        public int Size => group._slots.Length;
        public int LocalRank => rank;
        public void AllReduceSum(Span<double> values, string what) => group.Exchange(rank, values.ToArray()).CopyTo(values);
        public void AllReduceSum(Span<float> values, string what) => group.Exchange(rank, values.ToArray()).CopyTo(values);

        public void Broadcast(Span<byte> data, int root, string what)
        {
            group._slots[rank] = data.ToArray();
            group._barrier.SignalAndWait();
            var source = (byte[])group._slots[root]!;
            group._barrier.SignalAndWait();
            source.CopyTo(data);
        }

        public long[] AllGather(long value, string what)
        {
            group._slots[rank] = new[] { value };
            group._barrier.SignalAndWait();
            var all = group._slots.Select(s => ((long[])s!)[0]).ToArray();
            group._barrier.SignalAndWait();
            return all;
        }

        public void Barrier(string what) => group._barrier.SignalAndWait();
    }
}
