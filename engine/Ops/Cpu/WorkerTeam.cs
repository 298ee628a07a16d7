using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Engine.Ops.Cpu;

/// <summary>
/// The CPU backend's fork-join loops: one thread per further core, kept for the process, that spin for a
/// moment after each loop so the next one starts without a wake-up. A training step runs hundreds of
/// short parallel loops (GEMM strips, per-channel passes); through the thread pool each one paid a
/// worker's wake-up, 15-30 µs on a VM. The caller takes items as well, so a loop over one item, or one
/// started while the workers sleep, is never slower than running it alone plus a wake-up.
/// Loops started inside a loop run serially on their thread (the outer loop already has every core);
/// a loop started while another thread's loop runs goes to the thread pool, as before.
/// </summary>
internal sealed class WorkerTeam
{
    public static readonly WorkerTeam Shared = new(Environment.ProcessorCount - 1);

    /// <summary>How long an idle worker spins before it blocks: about the gap between two loops of a step.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 2000;

    [ThreadStatic] private static bool _insideLoop;

    private readonly Worker[] _workers;
    private Loop? _current;
    private int _owned;

    private WorkerTeam(int workers)
    {
        _workers = new Worker[Math.Max(0, workers)];
        for (int w = 0; w < _workers.Length; w++)
        {
            var worker = _workers[w] = new Worker();
            new Thread(() => Serve(worker)) { IsBackground = true, Name = $"cpu worker {w + 1}" }.Start();
        }
    }

    /// <summary>Runs body(i) for every i in [0, count), spread over the caller and the workers; returns when all are done.</summary>
    /// <remarks>The first exception an item throws is rethrown here, as it was (not wrapped); the remaining items are skipped.</remarks>
    public void For(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (count == 1 || _insideLoop || _workers.Length == 0)
        {
            RunSerially(count, body);
            return;
        }
        if (Interlocked.CompareExchange(ref _owned, 1, 0) != 0)
        {
            try { Parallel.For(0, count, body); }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1) { ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw(); }
            return;
        }
        try
        {
            var loop = new Loop(count, body, Math.Max(1, count / (8 * (_workers.Length + 1))));
            Volatile.Write(ref _current, loop);
            foreach (var worker in _workers)
                if (Interlocked.Exchange(ref worker.Sleeping, 0) == 1) worker.Wake.Release();
            _insideLoop = true;
            try { loop.Work(); }
            finally { _insideLoop = false; }
            loop.WaitUntilDone();
            if (loop.Failure is { } failure) ExceptionDispatchInfo.Capture(failure).Throw();
        }
        finally
        {
            Volatile.Write(ref _owned, 0);
        }
    }

    private static void RunSerially(int count, Action<int> body)
    {
        bool outer = !_insideLoop;
        _insideLoop = true;
        try { for (int i = 0; i < count; i++) body(i); }
        finally { if (outer) _insideLoop = false; }
    }

    private void Serve(Worker worker)
    {
        _insideLoop = true;
        Loop? last = null;
        while (true)
        {
            var loop = WaitForLoop(worker, last);
            last = loop;
            loop.Work();
        }
    }

    private Loop WaitForLoop(Worker worker, Loop? last)
    {
        long since = Stopwatch.GetTimestamp();
        int spins = 0;
        while (true)
        {
            var loop = Volatile.Read(ref _current);
            if (loop != last) return loop!;
            if (Stopwatch.GetTimestamp() - since < SpinTicks)
            {
                // Yield now and then: under a real-time policy a pure spin would keep same-priority threads off this core.
                if (++spins % 64 == 0) Thread.Yield();
                else Thread.SpinWait(16);
                continue;
            }
            // Sleep unless a loop arrived meanwhile. Whoever turns Sleeping from 1 to 0 decides: the caller
            // then releases the semaphore (and the worker must take that release); the worker then just goes on.
            Interlocked.Exchange(ref worker.Sleeping, 1);
            if (Volatile.Read(ref _current) != last && Interlocked.CompareExchange(ref worker.Sleeping, 0, 1) == 1)
                continue;
            worker.Wake.Wait();
            since = Stopwatch.GetTimestamp();
        }
    }

    private sealed class Worker
    {
        public int Sleeping;
        public readonly SemaphoreSlim Wake = new(0);
    }

    /// <summary>One loop's items, claimed a chunk at a time; a worker that arrives late finds nothing left and leaves.</summary>
    private sealed class Loop(int count, Action<int> body, int chunk)
    {
        private int _next;
        private int _done;
        public Exception? Failure;

        public void Work()
        {
            while (true)
            {
                int start = Interlocked.Add(ref _next, chunk) - chunk;
                if (start >= count) return;
                int end = Math.Min(count, start + chunk);
                for (int i = start; i < end; i++)
                {
                    if (Volatile.Read(ref Failure) is not null) continue;
                    try { body(i); }
                    catch (Exception e) { Interlocked.CompareExchange(ref Failure, e, null); }
                }
                Interlocked.Add(ref _done, end - start);
            }
        }

        public void WaitUntilDone()
        {
            var spinner = new SpinWait();
            while (Volatile.Read(ref _done) < count) spinner.SpinOnce(sleep1Threshold: -1);
        }
    }
}
