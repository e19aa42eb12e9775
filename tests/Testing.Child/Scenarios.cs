using Evergreen.Testing;

internal static class Scenarios
{
    public static int Fail(string why)
    {
        Console.WriteLine("FAIL " + why);
        return 1;
    }

    /// <summary>
    /// Four threads that only talk to each other: each takes a shared lock 100 times, appends its number and yields. The
    /// order of the appends is the interleaving; printed as a checksum (EVERGREEN_SEED / EVERGREEN_TRACE come from the test).
    /// </summary>
    public static int SeededSchedule()
    {
        var gate = new object();
        var order = new List<int>();
        var threads = new List<Thread>();
        for (int t = 0; t < 4; t++)
        {
            int id = t;
            threads.Add(new Thread(() =>
            {
                for (int i = 0; i < 100; i++)
                {
                    lock (gate) order.Add(id);
                    Thread.Yield();
                }
            }));
        }
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        if (order.Count != 400) return Fail($"{order.Count} appends, expected 400");
        ulong h = 14695981039346656037UL;
        foreach (int id in order) h = (h ^ (ulong)id) * 1099511628211UL;
        Console.WriteLine($"order {h:x16}");
        return 0;
    }

    /// <summary>1,000 threads each sleep 10 s five times and count under a lock (EVERGREEN_VIRTUAL_TIME=1 from the test).</summary>
    public static int VirtualTime()
    {
        var gate = new object();
        int wakes = 0;
        var threads = new Thread[1000];
        for (int t = 0; t < threads.Length; t++)
        {
            threads[t] = new Thread(() =>
            {
                for (int i = 0; i < 5; i++)
                {
                    Thread.Sleep(TimeSpan.FromSeconds(10));
                    lock (gate) wakes++;
                }
            });
            threads[t].Start();
        }
        foreach (var t in threads) t.Join();
        if (wakes != 5000) return Fail($"{wakes} wakes, expected 5000");
        Console.WriteLine($"wakes {wakes}");
        return 0;
    }

    // x = x + 1 by two threads without holding the lock across the read and the write: the lock in between is only a
    // preemption point (the kind of code where a lock guards something else and the counter was "obviously" safe).
    private static int s_x;
    private static readonly object s_other = new();

    private static void LostUpdateBody(bool assertion)
    {
        s_x = 0;
        ThreadStart inc = () =>
        {
            int read = s_x;
            lock (s_other) { }
            s_x = read + 1;
        };
        var a = new Thread(inc);
        var b = new Thread(inc);
        a.Start();
        b.Start();
        a.Join();
        b.Join();
        if (assertion) System.Diagnostics.Trace.Assert(s_x == 2, $"lost update: x = {s_x}");
        else if (s_x != 2) throw new InvalidOperationException($"lost update: x = {s_x}");
    }

    private static int CheckReplays(ExplorationReport report, Action body)
    {
        Console.WriteLine(report);
        if (report.Seed is not { } seed) return Fail("no seed");
        var first = ScheduleExplorer.Replay(body, seed);
        var second = ScheduleExplorer.Replay(body, seed);
        if (!first.BugFound || first.Kind != report.Kind) return Fail("the replay did not fail the same way:\n" + first);
        if (!first.Interleaving.SequenceEqual(report.Interleaving)) return Fail("the replay's steps differ from the exploration's:\n" + first);
        if (!second.Interleaving.SequenceEqual(first.Interleaving)) return Fail("two replays' steps differ:\n" + second);
        if (report.Interleaving.Count == 0) return Fail("no steps recorded");
        Console.WriteLine($"replayed seed {seed} twice: {first.Interleaving.Count} steps, the same");
        return 0;
    }

    public static int ExploreLostUpdate()
    {
        Action body = () => LostUpdateBody(assertion: false);
        var report = ScheduleExplorer.Explore(body, new ExploreOptions { MaxSchedules = 1000, TimeBudget = TimeSpan.FromSeconds(60) });
        if (!report.BugFound || report.Kind != "exception") return Fail("lost update not found as an exception:\n" + report);
        if (report.Failure is not InvalidOperationException { Message: var m } || !m.StartsWith("lost update", StringComparison.Ordinal))
            return Fail("wrong failure:\n" + report);
        return CheckReplays(report, body);
    }

    public static int ExploreAssertion()
    {
        Action body = () => LostUpdateBody(assertion: true);
        var report = ScheduleExplorer.Explore(body, new ExploreOptions { MaxSchedules = 1000, TimeBudget = TimeSpan.FromSeconds(60) });
        if (!report.BugFound || report.Kind != "assertion") return Fail("lost update not found as an assertion:\n" + report);
        return CheckReplays(report, body);
    }

    /// <summary>AB/BA: two threads take two locks in opposite orders.</summary>
    public static int ExploreDeadlock()
    {
        var a = new object();
        var b = new object();
        Action body = () =>
        {
            var t1 = new Thread(() => { lock (a) { lock (b) { } } });
            var t2 = new Thread(() => { lock (b) { lock (a) { } } });
            t1.Start();
            t2.Start();
            t1.Join();
            t2.Join();
        };
        var report = ScheduleExplorer.Explore(body, new ExploreOptions { MaxSchedules = 1000, TimeBudget = TimeSpan.FromSeconds(60) });
        Console.WriteLine(report);
        if (!report.BugFound || report.Kind != "deadlock") return Fail("AB/BA not found as a deadlock");
        return 0;
    }

    /// <summary>The same increment with the read and the write under one lock: no schedule fails.</summary>
    public static int ExploreCorrect()
    {
        var gate = new object();
        int x = 0;
        Action body = () =>
        {
            x = 0;
            ThreadStart inc = () => { lock (gate) { int read = x; Thread.Yield(); x = read + 1; } };
            var t1 = new Thread(inc);
            var t2 = new Thread(inc);
            t1.Start();
            t2.Start();
            t1.Join();
            t2.Join();
            if (x != 2) throw new InvalidOperationException($"x = {x}");
        };
        var report = ScheduleExplorer.Explore(body, new ExploreOptions { MaxSchedules = 200, TimeBudget = TimeSpan.FromSeconds(60) });
        Console.WriteLine(report);
        if (report.BugFound) return Fail("a correct body failed");
        if (report.SchedulesRun != 200) return Fail($"{report.SchedulesRun} schedules run, expected 200");
        return 0;
    }

    /// <summary>A one-slot buffer with Monitor.Wait/PulseAll; <paramref name="ifNotWhile"/> re-checks nothing after a wake.</summary>
    private static Action SlotBody(bool ifNotWhile) => () =>
    {
        var gate = new object();
        int? slot = null;
        int taken = 0;
        void Put(int v)
        {
            lock (gate)
            {
                if (ifNotWhile) { if (slot != null) Monitor.Wait(gate); }
                else while (slot != null) Monitor.Wait(gate);
                if (slot != null) throw new InvalidOperationException("put into a full slot");
                slot = v;
                Monitor.PulseAll(gate);
            }
        }
        void Take()
        {
            lock (gate)
            {
                while (slot == null) Monitor.Wait(gate);
                slot = null;
                taken++;
                Monitor.PulseAll(gate);
            }
        }
        var producers = new[] { new Thread(() => Put(1)), new Thread(() => Put(2)), new Thread(() => Put(3)) };
        var consumer = new Thread(() => { Take(); Take(); Take(); });
        foreach (var t in producers) t.Start();
        consumer.Start();
        foreach (var t in producers) t.Join();
        consumer.Join();
        if (taken != 3) throw new InvalidOperationException($"taken {taken}");
    };

    public static int ExploreWaitPulse()
    {
        var correct = ScheduleExplorer.Explore(SlotBody(ifNotWhile: false), new ExploreOptions { MaxSchedules = 300, TimeBudget = TimeSpan.FromSeconds(60) });
        Console.WriteLine(correct);
        if (correct.BugFound) return Fail("the correct one-slot buffer failed");
        var buggy = ScheduleExplorer.Explore(SlotBody(ifNotWhile: true), new ExploreOptions { MaxSchedules = 3000, TimeBudget = TimeSpan.FromSeconds(60) });
        Console.WriteLine(buggy);
        if (!buggy.BugFound || buggy.Kind != "exception" || buggy.Failure?.Message != "put into a full slot") return Fail("'if' around Monitor.Wait not found");
        var replay = ScheduleExplorer.Replay(SlotBody(ifNotWhile: true), buggy.Seed!.Value);
        if (!replay.Interleaving.SequenceEqual(buggy.Interleaving)) return Fail("the replay's steps differ:\n" + replay);
        return 0;
    }

    /// <summary>A thread that spins on a flag nobody sets (yielding): not a deadlock (it runs), a hang.</summary>
    public static int ExploreHang()
    {
        var report = ScheduleExplorer.Explore(() =>
        {
            bool set = false;
            var spinner = new Thread(() => { while (!Volatile.Read(ref set)) Thread.Yield(); });
            spinner.Start();
            spinner.Join();
        }, new ExploreOptions { MaxSchedules = 5, HangTimeout = TimeSpan.FromSeconds(1) });
        Console.WriteLine(report.ToString().Split('\n')[0]);
        if (!report.BugFound || report.Kind != "hang" || report.Failure is not TimeoutException) return Fail("no hang reported:\n" + report);
        return 0;
    }
}
