using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using static Engine.Distributed.MpiNative;

namespace Engine.Distributed;

/// <summary>
/// The collectives over MPI_COMM_WORLD. Every call first exchanges an arrival token with every
/// other rank (sequence number, kind, element count, a hash of <c>what</c>), so a rank that never
/// arrives is named when <see cref="Timeout"/> runs out and a rank at another call is refused before
/// any data moves; then the nonblocking collective runs, polled against the same deadline. Open
/// MPI's collectives give every rank the same bits (each element is reduced once and sent out).
/// </summary>
public sealed unsafe class MpiCollectives : ICollectives, IDisposable
{
    /// <summary>Set by Open MPI's mpirun in every rank's environment.</summary>
    public const string SizeVariable = "OMPI_COMM_WORLD_SIZE";
    private const string LocalRankVariable = "OMPI_COMM_WORLD_LOCAL_RANK";
    private const int TokenTag = 7701, TokenLongs = 4, MaxChunk = 1 << 30;

    private readonly MpiLibrary _lib;
    private readonly long* _sendToken;
    private readonly long* _recvTokens;
    private long _sequence;
    private bool _finalized;

    private MpiCollectives(MpiLibrary lib, TimeSpan timeout)
    {
        _lib = lib;
        Timeout = timeout;
        Check(MPI_Comm_rank(lib.CommWorld, out int rank), "MPI_Comm_rank");
        Check(MPI_Comm_size(lib.CommWorld, out int size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
        LocalRank = LocalRankOf(lib);
        _sendToken = (long*)NativeMemory.Alloc(TokenLongs, sizeof(long));
        _recvTokens = (long*)NativeMemory.Alloc((nuint)(TokenLongs * size), sizeof(long));
    }

    public int Rank { get; }
    public int Size { get; }
    public int LocalRank { get; }
    /// <summary>How long a rank waits for the others at one collective before it stops every rank.</summary>
    public TimeSpan Timeout { get; }
    /// <summary>"Open MPI v4.1.4", as the library names itself.</summary>
    public string LibraryVersion
    {
        get
        {
            var text = stackalloc byte[512];
            return MPI_Get_library_version(text, out int n) == Success ? Encoding.ASCII.GetString(text, n).Split('\n', ',')[0].TrimEnd('\0') : _lib.File;
        }
    }

    /// <summary>Whether this process was started by Open MPI's mpirun (then it takes part in a group).</summary>
    public static bool Launched(Func<string, string?> environment) => environment(SizeVariable) is { Length: > 0 };

    /// <summary>Loads libmpi, initialises MPI and joins MPI_COMM_WORLD.</summary>
    public static MpiCollectives Start(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "the collective timeout must be positive");
        var lib = MpiLibrary.Load();
        Check(MPI_Initialized(out int initialized), "MPI_Initialized");
        if (initialized == 0) Check(MPI_Init(0, 0), "MPI_Init");
        return new MpiCollectives(lib, timeout);
    }

    public void AllReduceSum(Span<double> values, string what)
    {
        fixed (double* p = values) Chunked((nint)p, values.Length, sizeof(double), Kind.SumDoubles, what,
            (ptr, n) => { Check(MPI_Iallreduce(InPlace, ptr, n, _lib.Double, _lib.Sum, _lib.CommWorld, out var r), "MPI_Iallreduce"); return r; });
    }

    public void AllReduceSum(Span<float> values, string what)
    {
        fixed (float* p = values) Chunked((nint)p, values.Length, sizeof(float), Kind.SumFloats, what,
            (ptr, n) => { Check(MPI_Iallreduce(InPlace, ptr, n, _lib.Float, _lib.Sum, _lib.CommWorld, out var r), "MPI_Iallreduce"); return r; });
    }

    public void Broadcast(Span<byte> data, int root, string what)
    {
        fixed (byte* p = data) Chunked((nint)p, data.Length, 1, Kind.Broadcast, what,
            (ptr, n) => { Check(MPI_Ibcast(ptr, n, _lib.Byte, root, _lib.CommWorld, out var r), "MPI_Ibcast"); return r; });
    }

    public long[] AllGather(long value, string what)
    {
        var all = new long[Size];
        long[] mine = [value];
        fixed (long* src = mine, dst = all)
        {
            nint srcPtr = (nint)src, dstPtr = (nint)dst;
            Collective(Kind.Gather, 1, what, () =>
            {
                Check(MPI_Iallgather(srcPtr, 1, _lib.Int64, dstPtr, 1, _lib.Int64, _lib.CommWorld, out var r), "MPI_Iallgather");
                return r;
            });
        }
        return all;
    }

    public void Barrier(string what) => Collective(Kind.Barrier, 0, what, null);

    /// <summary>Stops every rank of the job (mpirun ends them all) with <paramref name="exitCode"/>.</summary>
    public void Abort(int exitCode)
    {
        MPI_Abort(_lib.CommWorld, exitCode);
    }

    public void Dispose()
    {
        if (_finalized) return;
        _finalized = true;
        MPI_Finalize();
        NativeMemory.Free(_sendToken);
        NativeMemory.Free(_recvTokens);
    }

    private enum Kind { SumDoubles = 1, SumFloats, Broadcast, Gather, Barrier, Probe }

    private static string Describe(Kind kind, long count) => kind switch
    {
        Kind.SumDoubles => $"all-reduce of {count} doubles",
        Kind.SumFloats => $"all-reduce of {count} floats",
        Kind.Broadcast => $"broadcast of {count} bytes",
        Kind.Gather => "all-gather",
        Kind.Probe => "a check of which ranks still answer",
        _ => "barrier",
    };

    /// <summary>MPI counts are ints: buffers of more than 2^30 elements go in pieces, each a checked collective.</summary>
    private void Chunked(nint start, int count, int elementSize, Kind kind, string what, Func<nint, int, nint> begin)
    {
        if (count == 0) { Collective(kind, 0, what, null); return; }
        for (int offset = 0; offset < count; offset += MaxChunk)
        {
            int n = Math.Min(MaxChunk, count - offset);
            nint ptr = start + (nint)offset * elementSize;
            Collective(kind, n, what, () => begin(ptr, n));
        }
    }

    /// <summary>
    /// One checked collective: the arrival exchange and the operation must finish within the
    /// timeout. When the operation itself stalls (a rank stopped inside it), the last fifth of the
    /// timeout is a second exchange that names the ranks no longer answering.
    /// </summary>
    private void Collective(Kind kind, long count, string what, Func<nint>? begin)
    {
        long sequence = ++_sequence;
        long start = Stopwatch.GetTimestamp(), timeout = (long)(Timeout.TotalSeconds * Stopwatch.Frequency);
        ExchangeArrivals(sequence, kind, count, what, start + timeout);
        if (begin is null) return;
        var request = begin();
        if (Poll([request], start + timeout * 4 / 5, out _)) return;
        ExchangeArrivals(sequence, Kind.Probe, count, $"{what}, stalled", Stopwatch.GetTimestamp() + timeout / 5);
        throw new CollectiveException($"rank {Rank}: collective #{sequence} ({what}: {Describe(kind, count)}) did not complete within {Seconds(Timeout)} " +
            "although every rank reached it and still answers: the network stalled");
    }

    /// <summary>Tells every other rank that this one reached call #sequence and waits (until the deadline) for theirs; names the ranks that are missing or elsewhere.</summary>
    private void ExchangeArrivals(long sequence, Kind kind, long count, string what, long deadline)
    {
        if (Size == 1) return;
        _sendToken[0] = sequence;
        _sendToken[1] = (long)kind;
        _sendToken[2] = count;
        _sendToken[3] = (long)Fingerprint.Of(what);
        var requests = new nint[2 * (Size - 1)];
        var peers = new int[requests.Length];
        int k = 0;
        for (int peer = 0; peer < Size; peer++)
        {
            if (peer == Rank) continue;
            Check(MPI_Irecv((nint)(_recvTokens + TokenLongs * peer), TokenLongs, _lib.Int64, peer, TokenTag, _lib.CommWorld, out requests[k]), "MPI_Irecv");
            peers[k++] = peer;
            Check(MPI_Isend((nint)_sendToken, TokenLongs, _lib.Int64, peer, TokenTag, _lib.CommWorld, out requests[k]), "MPI_Isend");
            peers[k++] = -1;
        }
        if (!Poll(requests, deadline, out var done))
        {
            var missing = Enumerable.Range(0, requests.Length).Where(i => peers[i] >= 0 && !done[i]).Select(i => peers[i]).ToArray();
            string who = missing.Length == 1 ? $"rank {missing[0]}" : $"ranks {string.Join(", ", missing)}";
            throw new CollectiveException($"{who} did not reach collective #{sequence} ({what}) within {Seconds(Timeout)} " +
                $"(rank {Rank} waited there): {(missing.Length == 1 ? "it" : "they")} hung, died or took another path; every rank stops");
        }
        for (int peer = 0; peer < Size; peer++)
        {
            if (peer == Rank) continue;
            var t = _recvTokens + TokenLongs * peer;
            if (t[0] != sequence || t[1] != (long)kind || t[2] != count || t[3] != _sendToken[3])
                throw new CollectiveException($"rank {peer} disagrees with rank {Rank} at collective #{sequence}: it is at call #{t[0]} " +
                    $"({Describe((Kind)t[1], t[2])}), this rank at {what} ({Describe(kind, count)}); the ranks run different code or data");
        }
    }

    /// <summary>Tests the requests until all complete (true) or the deadline passes (false); yields the core while waiting.</summary>
    private static bool Poll(nint[] requests, long deadline, out bool[] done)
    {
        done = new bool[requests.Length];
        int left = requests.Length;
        long spinUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 500;  // 2 ms of yielding, then 1 ms sleeps
        while (true)
        {
            for (int i = 0; i < requests.Length; i++)
            {
                if (done[i]) continue;
                Check(MPI_Test(ref requests[i], out int flag, 0), "MPI_Test");
                if (flag != 0) { done[i] = true; left--; }
            }
            if (left == 0) return true;
            long now = Stopwatch.GetTimestamp();
            if (now > deadline) return false;
            if (now < spinUntil) Thread.Yield();
            else Thread.Sleep(1);
        }
    }

    private static int LocalRankOf(MpiLibrary lib)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable(LocalRankVariable), NumberStyles.None, CultureInfo.InvariantCulture, out int local)) return local;
        Check(MPI_Comm_split_type(lib.CommWorld, CommTypeShared, 0, lib.InfoNull, out var node), "MPI_Comm_split_type");
        Check(MPI_Comm_rank(node, out local), "MPI_Comm_rank");
        MPI_Comm_free(ref node);
        return local;
    }

    private static string Seconds(TimeSpan t) => $"{t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";

    private static void Check(int code, string call)
    {
        if (code == Success) return;
        var text = stackalloc byte[512];
        string message = MPI_Error_string(code, text, out int n) == Success ? Encoding.ASCII.GetString(text, n) : $"error {code}";
        throw new CollectiveException($"{call} failed: {message}");
    }
}
