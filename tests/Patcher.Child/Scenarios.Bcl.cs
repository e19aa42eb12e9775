using System.Collections.Concurrent;
using Evergreen;
using Evergreen.Patching;

// Ordinary BCL concurrency types, unchanged, under the monkey patch (gevent's "run the stdlib's own tests patched").
internal static partial class Scenarios
{
    /// <summary>
    /// Bounded BlockingCollection: 3 green producers, 2 green consumers and 1 native consumer. Producers find the
    /// collection full and block (greenly) while consumers drain it; every item arrives exactly once.
    /// </summary>
    private static void BclBlockingCollection()
    {
        const int Producers = 3, PerProducer = 300, Capacity = 4;
        using var bc = new BlockingCollection<int>(Capacity);
        int foundFull = 0, maxFill = 0;
        long sum = 0, count = 0;
        var producers = new List<Thread>();
        for (int p = 0; p < Producers; p++)
        {
            int baseValue = p * PerProducer;
            var t = new Thread(() =>
            {
                for (int i = 1; i <= PerProducer; i++)
                {
                    if (!bc.TryAdd(baseValue + i)) { foundFull++; bc.Add(baseValue + i); }
                    maxFill = Math.Max(maxFill, bc.Count);
                }
            });
            producers.Add(t); t.Start();
        }
        void Consume()
        {
            foreach (var v in bc.GetConsumingEnumerable()) { Interlocked.Add(ref sum, v); Interlocked.Increment(ref count); }
        }
        var consumers = new List<Thread> { new(Consume), new(Consume) };
        foreach (var t in consumers) t.Start();
        var native = Patcher.Original<OriginalThread>().Start(Consume, "native-consumer");
        foreach (var t in producers) t.Join();
        bc.CompleteAdding();
        foreach (var t in consumers) t.Join();
        native.Join();
        long n = Producers * PerProducer;
        Check(Interlocked.Read(ref count) == n, $"items consumed {count} (expected {n})");
        Check(Interlocked.Read(ref sum) == n * (n + 1) / 2, $"sum {sum} (expected {n * (n + 1) / 2})");
        Check(foundFull > 0 && maxFill == Capacity, $"producers found the collection full and waited (full {foundFull}, max fill {maxFill})");
    }

    /// <summary>
    /// SemaphoreSlim(2) across 10 green threads holding it across a green switch: waiters spin then Monitor.Wait
    /// (patched, green), so the hub keeps running; exactly 2 are ever inside, and 2 are inside at once.
    /// </summary>
    private static void BclSemaphoreSlim()
    {
        using var sem = new SemaphoreSlim(2);
        int inside = 0, maxInside = 0, done = 0, timedOutWaits = 0;
        var threads = new List<Thread>();
        for (int i = 0; i < 10; i++)
        {
            var t = new Thread(() =>
            {
                for (int k = 0; k < 20; k++)
                {
                    sem.Wait();
                    inside++; maxInside = Math.Max(maxInside, inside);
                    Thread.Sleep(1); // a green switch while holding a permit: the others contend
                    inside--;
                    sem.Release();
                }
                done++;
            });
            threads.Add(t); t.Start();
        }
        // A timed wait that must fail: both permits held by green threads parked across an Event.
        var hold = new Evergreen.Event();
        var holding = new Evergreen.Event();
        int holders = 0;
        foreach (var t in threads) t.Join();
        var h1 = new Thread(() => { sem.Wait(); if (++holders == 2) holding.Send(); hold.Wait(); sem.Release(); });
        var h2 = new Thread(() => { sem.Wait(); if (++holders == 2) holding.Send(); hold.Wait(); sem.Release(); });
        h1.Start(); h2.Start();
        holding.Wait();
        if (!sem.Wait(50)) timedOutWaits++;
        hold.Send();
        h1.Join(); h2.Join();
        Check(done == 10, $"all threads finished ({done})");
        Check(maxInside == 2, $"at most and at least 2 inside at once (max {maxInside})");
        Check(timedOutWaits == 1 && sem.CurrentCount == 2, $"timed Wait on an exhausted semaphore returned false (count {sem.CurrentCount})");
    }

    /// <summary>ConcurrentDictionary.AddOrUpdate from 4 green and 2 native threads on 64 hot keys: totals exact.</summary>
    private static void BclConcurrentDictionary()
    {
        const int Keys = 64, PerThread = 64 * 800;
        var d = new ConcurrentDictionary<int, long>();
        void Work(bool green)
        {
            for (int i = 0; i < PerThread; i++)
            {
                d.AddOrUpdate(i % Keys, 1, static (_, v) => v + 1);
                if (green && i % 500 == 0) Thread.Sleep(0);
            }
        }
        var threads = new List<Thread>();
        for (int g = 0; g < 4; g++) { var t = new Thread(() => Work(true)); threads.Add(t); t.Start(); }
        var natives = new List<Thread>();
        for (int n = 0; n < 2; n++) natives.Add(Patcher.Original<OriginalThread>().Start(() => Work(false), "native-" + n));
        foreach (var t in threads) t.Join();
        foreach (var t in natives) t.Join();
        long total = d.Values.Sum();
        Check(d.Count == Keys, $"keys {d.Count}");
        Check(total == 6L * PerThread, $"total {total} (expected {6L * PerThread})");
        Check(d.Values.All(v => v == 6L * PerThread / Keys), "every key counted exactly");
    }

    /// <summary>
    /// Task.Run(...).Result from a green thread, where the pool (native) thread's work needs ANOTHER green thread to
    /// run first. Task.Result waits via SpinWait (Thread.Sleep, patched) and ManualResetEventSlim (Monitor.Wait,
    /// patched), so the green caller waits greenly and the other green thread runs. The pool thread's own wait is
    /// bounded (10 s) so a frozen hub would fail the check instead of hanging.
    /// </summary>
    private static void BclTaskResult()
    {
        using var gate = new ManualResetEventSlim(false);
        bool otherRan = false;
        var other = new Thread(() => { otherRan = true; gate.Set(); });
        other.Start(); // runnable; runs only when main blocks greenly
        var task = Task.Run(() => gate.Wait(TimeSpan.FromSeconds(10)) ? 42 : -1);
        int r = task.Result;
        Check(r == 42 && otherRan, $"Task.Result waited greenly: the other green thread ran and released the pool thread (r={r})");
        other.Join();

        // Task.Wait with a timeout and await-style GetAwaiter().GetResult() on a Task.Delay: completes via the pool.
        Check(Task.Delay(20).Wait(TimeSpan.FromSeconds(30)), "Task.Delay(20).Wait(30 s) completed");
        Task.Run(async () => { await Task.Yield(); return 1; }).GetAwaiter().GetResult();
    }
}

internal static partial class Scenarios
{
    /// <summary>
    /// Thread.Sleep(TimeSpan) and Thread.Sleep(int) on a native thread (Original Thread) and through
    /// Original&lt;OriginalTime&gt;, after MonkeyPatch: the replacement must call the original, which must sleep.
    /// </summary>
    private static void NativeSleepTimeSpan()
    {
        string? error = null;
        var native = Patcher.Original<OriginalThread>().Start(() =>
        {
            try
            {
                for (int i = 0; i < 50; i++) { Thread.Sleep(TimeSpan.FromMilliseconds(1)); Thread.Sleep(1); }
                Patcher.Original<OriginalTime>().Sleep(TimeSpan.FromMilliseconds(1));
            }
            catch (Exception ex) { error = ex.GetType().Name + ": " + ex.Message; }
        }, "native-sleeper");
        native.Join();
        Check(error == null, "native Thread.Sleep after MonkeyPatch threw " + error);
        try { Patcher.Original<OriginalTime>().Sleep(TimeSpan.FromMilliseconds(1)); }
        catch (Exception ex) { error = ex.GetType().Name + ": " + ex.Message; }
        Check(error == null, "Original<OriginalTime>().Sleep(TimeSpan) on the green main thread threw " + error);
    }
}
