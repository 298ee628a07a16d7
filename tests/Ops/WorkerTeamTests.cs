using System.Collections.Concurrent;
using Engine.Ops.Cpu;

namespace Engine.Tests.Ops;

/// <summary>
/// The CPU backend's fork-join team: every item exactly once, whatever the count; loops inside loops;
/// an item's exception reaching the caller as thrown and leaving the team usable; two threads starting loops at
/// once; and the workers really taking items, also after they have gone to sleep.
/// </summary>
public class WorkerTeamTests
{
    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(17)]
    [TestCase(1000)]
    [TestCase(100_003)]
    public void Every_item_runs_exactly_once(int count)
    {
        var runs = new int[count];
        WorkerTeam.Shared.For(count, i => Interlocked.Increment(ref runs[i]));
        Assert.That(runs, Is.All.EqualTo(1));
    }

    [Test]
    public void A_loop_inside_a_loop_runs_all_its_items()
    {
        var runs = new int[37, 11];
        WorkerTeam.Shared.For(37, i => WorkerTeam.Shared.For(11, j => Interlocked.Increment(ref runs[i, j])));
        Assert.That(runs.Cast<int>(), Is.All.EqualTo(1));
    }

    [Test]
    public void An_items_exception_reaches_the_caller_and_the_team_still_works()
    {
        var e = Assert.Throws<InvalidOperationException>(() => WorkerTeam.Shared.For(64, i =>
        {
            if (i == 40) throw new InvalidOperationException("item 40");
        }))!;
        Assert.That(e.Message, Is.EqualTo("item 40"));

        var runs = new int[64];
        WorkerTeam.Shared.For(64, i => Interlocked.Increment(ref runs[i]));
        Assert.That(runs, Is.All.EqualTo(1));
    }

    [Test]
    public void Loops_started_by_two_threads_at_once_both_complete()
    {
        var runs = new int[2, 5000];
        Parallel.For(0, 2, t =>
        {
            for (int rep = 0; rep < 20; rep++)
                WorkerTeam.Shared.For(250, i => Interlocked.Increment(ref runs[t, rep * 250 + i]));
        });
        Assert.That(runs.Cast<int>(), Is.All.EqualTo(1));
    }

    [Test]
    public void Workers_take_items_also_after_sleeping()
    {
        if (Environment.ProcessorCount < 2) Assert.Ignore("one core: the team has no workers to test");
        foreach (int idleMs in new[] { 0, 20 })
        {
            Thread.Sleep(idleMs);
            // Each item waits until a second thread has entered, so the loop can only finish quickly if a worker takes an item.
            var threads = new ConcurrentDictionary<int, bool>();
            int entered = 0;
            WorkerTeam.Shared.For(2, _ =>
            {
                threads[Environment.CurrentManagedThreadId] = true;
                Interlocked.Increment(ref entered);
                SpinWait.SpinUntil(() => Volatile.Read(ref entered) >= 2, TimeSpan.FromSeconds(10));
            });
            Assert.That(threads.Count, Is.EqualTo(2), $"after {idleMs} ms idle");
        }
    }
}
