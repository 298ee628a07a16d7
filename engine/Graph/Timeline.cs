using System.Diagnostics;

namespace Engine.Graph;

/// <summary>
/// Numbered points in a backend's stream of work, timed where the work runs: the host clock for
/// a synchronous backend, events on the stream for a GPU. Marking costs no synchronisation;
/// <see cref="Wait"/> once, then read the intervals.
/// </summary>
public abstract class Timeline : IDisposable
{
    /// <summary>Records point <paramref name="slot"/> at the current position of the backend's work (re-recording a slot overwrites it).</summary>
    public abstract void Mark(int slot);

    /// <summary>Waits until every marked point has been reached.</summary>
    public abstract void Wait();

    /// <summary>Milliseconds from point <paramref name="from"/> to point <paramref name="to"/>; call after <see cref="Wait"/>.</summary>
    public abstract double ElapsedMs(int from, int to);

    public virtual void Dispose() { GC.SuppressFinalize(this); }
}

/// <summary>The timeline of a backend whose work is done when its call returns (the CPU): a host timestamp per point.</summary>
public sealed class HostTimeline : Timeline
{
    private long[] _stamps = new long[64];

    public override void Mark(int slot)
    {
        if (slot >= _stamps.Length) Array.Resize(ref _stamps, Math.Max(slot + 1, 2 * _stamps.Length));
        _stamps[slot] = Stopwatch.GetTimestamp();
    }

    public override void Wait() { }

    public override double ElapsedMs(int from, int to) => Stopwatch.GetElapsedTime(_stamps[from], _stamps[to]).TotalMilliseconds;
}
