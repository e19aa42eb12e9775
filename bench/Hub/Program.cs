// Evergreen hub benchmarks, in the format of /work/shared/anchors (bench<TAB>system<TAB>param<TAB>metric<TAB>value).
// Usage: Evergreen.Bench.Hub switch N | spawn N | spawn-limit N | sleep N | alive N
//   system = "green" + $BENCH_TAG (bench/run sets BENCH_TAG=-gen0big for the DOTNET_GCgen0size run).
// Results on stdout only; progress and diagnostics on stderr.
using System.Diagnostics;
using Evergreen;

internal static class Program
{
    private static readonly string Tag = Environment.GetEnvironmentVariable("BENCH_TAG") ?? "";

    private static void Out(string bench, string sys, string param, string metric, double v) =>
        Console.WriteLine($"{bench}\t{sys}{Tag}\t{param}\t{metric}\t{v:F3}");

    private static void Log(string s) => Console.Error.WriteLine($"[bench-hub {DateTime.Now:HH:mm:ss.fff}] {s}");

    private static int Main(string[] a)
    {
        if (a.Length < 1)
        {
            Console.Error.WriteLine("usage: Evergreen.Bench.Hub switch N | spawn N | spawn-limit N | sleep N | alive N | ring N ROUNDS");
            return 2;
        }
        string mode = a[0];
        int n = a.Length > 1 ? int.Parse(a[1]) : 0;
        Log($"mode={mode} n={n} tag='{Tag}' EVERGREEN_CPU={Environment.GetEnvironmentVariable("EVERGREEN_CPU") ?? "(default)"} " +
            $"DOTNET_GCgen0size={Environment.GetEnvironmentVariable("DOTNET_GCgen0size") ?? "(default)"} server_gc={System.Runtime.GCSettings.IsServerGC}");
        int rc = 0;
        Hub.Run(() =>
        {
            switch (mode)
            {
                case "switch": Switch(n == 0 ? 200_000 : n); break;
                case "spawn":
                    n = n == 0 ? 10_000 : n;
                    // Past the default thread ceiling only when asked for (BIG=1); otherwise show the typed limit.
                    if (n > 12_000 && Environment.GetEnvironmentVariable("BIG") != "1") rc = SpawnLimit(n);
                    else Spawn(n);
                    break;
                case "spawn-limit": rc = SpawnLimit(n == 0 ? 100_000 : n); break;
                case "sleep": SleepBench(n == 0 ? 10_000 : n); break;
                case "alive": Alive(n == 0 ? 10_000 : n); break;
                case "ring": Ring(n == 0 ? 1000 : n, a.Length > 2 ? int.Parse(a[2]) : 300); break;
                default: Console.Error.WriteLine($"unknown mode {mode}"); rc = 2; break;
            }
        });
        return rc;
    }

    // ---------------------------------------------------------------------------------------------
    // GC bookkeeping: every figure below is reported with the gen0 GCs and GC pause it included, because
    // with thousands of OS threads alive each GC scans every thread's stack (~100 ms at 10k threads).
    // ---------------------------------------------------------------------------------------------
    private readonly record struct GcMark(int Gen0, int Gen2, TimeSpan Pause)
    {
        public static GcMark Now() => new(GC.CollectionCount(0), GC.CollectionCount(2), GC.GetTotalPauseDuration());
    }

    private static void OutGc(string bench, string param, GcMark before)
    {
        var now = GcMark.Now();
        Out(bench, "green", param, "gcs", now.Gen0 - before.Gen0);
        Out(bench, "green", param, "gc_pause_ms", (now.Pause - before.Pause).TotalMilliseconds);
    }

    private static double RssMB(string field = "VmRSS")
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(field.Length + 1).Trim().TrimEnd("kB").Trim()) / 1024.0;
        return double.NaN;
    }

    // ---------------------------------------------------------------------------------------------
    // A. switch: two green threads ping-pong N times; ns per one-way switch (2N switches).
    // ---------------------------------------------------------------------------------------------
    /// <summary>
    /// N green threads pass a token round a ring (each: Acquire its GreenSemaphore, touch 8 KB of stack, Release the
    /// next one's), ROUNDS times: one baton handoff per pass, each to a different OS thread — the hub's side of
    /// bench/floor/handoff_ring.c (the same ring in C on raw futexes), and what an echo message costs in switching.
    /// </summary>
    private static void Ring(int n, int rounds)
    {
        double Run(int rounds)
        {
            var sems = Enumerable.Range(0, n).Select(_ => new GreenSemaphore(0)).ToArray();
            var threads = Enumerable.Range(0, n).Select(i => Green.Spawn(() =>
            {
                Span<byte> stack = stackalloc byte[8192];
                for (int r = 0; r < rounds; r++)
                {
                    sems[i].Acquire();
                    for (int k = 0; k < stack.Length; k += 64) stack[k] = (byte)k;
                    sems[(i + 1) % n].Release();
                }
            })).ToList();
            Green.Sleep(0); // every ring thread runs and parks in its Acquire before the clock starts
            var sw = Stopwatch.StartNew();
            sems[0].Release();
            foreach (var t in threads) t.Wait();
            sw.Stop();
            return sw.Elapsed.TotalMilliseconds * 1e6 / ((double)n * rounds);
        }

        string p = $"N={n}";
        Run(Math.Max(1, rounds / 10)); // warm-up: creates the OS threads, tiers the code
        var gc = GcMark.Now();
        double ns = Run(rounds);
        Out("handoff", "green", p, "ns_per_handoff", ns);
        OutGc("handoff", p, gc);
        Log($"ring: {ns:F0} ns per handoff with {n} green threads");
    }

    private static void Switch(int n)
    {
        double Sem(int n)
        {
            var s1 = new GreenSemaphore(0);
            var s2 = new GreenSemaphore(0);
            var pong = Green.Spawn(() => { for (int i = 0; i < n; i++) { s1.Acquire(); s2.Release(); } });
            Green.Sleep(0); // pong is running and parked in s1.Acquire before the clock starts
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < n; i++) { s1.Release(); s2.Acquire(); }
            sw.Stop();
            pong.Wait();
            return sw.Elapsed.TotalMilliseconds * 1e6 / (2.0 * n);
        }

        double Ev(int n)
        {
            var e1 = new Event();
            var e2 = new Event();
            var pong = Green.Spawn(() => { for (int i = 0; i < n; i++) { e1.Wait(); e1.Reset(); e2.Send(); } });
            Green.Sleep(0);
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < n; i++) { e1.Send(); e2.Wait(); e2.Reset(); }
            sw.Stop();
            pong.Wait();
            return sw.Elapsed.TotalMilliseconds * 1e6 / (2.0 * n);
        }

        string p = $"N={n}";
        Sem(Math.Max(1000, n / 10)); // warm-up / tiering, as the anchors do
        Ev(Math.Max(1000, n / 10));
        var gc = GcMark.Now();
        double sem = Sem(n);
        Out("switch", "green", p, "ns_per_switch", sem);
        double ev = Ev(n);
        Out("switch", "green-event", p, "ns_per_switch", ev);
        OutGc("switch", p, gc);
        Out("switch", "green", p, "os_threads", Hub.Instance.OsThreads);
        Log($"switch: semaphore {sem:F0} ns, event {ev:F0} ns per one-way switch");
    }

    // ---------------------------------------------------------------------------------------------
    // B. spawn: spawn N green threads that each yield once, join all; µs per spawn+join.
    //    Round 1 (cold) creates the OS threads; round 2 (warm) reuses the parked ones.
    // ---------------------------------------------------------------------------------------------
    private static void Spawn(int n)
    {
        var ts = new GreenThread[n];
        Action body = static () => Green.Sleep(0);
        foreach (var round in new[] { "cold", "warm" })
        {
            string p = $"N={n},{round}";
            int os0 = Hub.Instance.OsThreads;
            var gc = GcMark.Now();
            var sw = Stopwatch.StartNew();
            int spawned = 0;
            try
            {
                for (; spawned < n; spawned++) ts[spawned] = Green.Spawn(body);
            }
            catch (GreenThreadLimitException ex)
            {
                // BIG=1 but the ceiling could not be raised (or not far enough): say where it stopped.
                Out("spawn", "green", $"N={n}", "limit_exception_at", spawned);
                Log($"spawn {p}: GreenThreadLimitException after {spawned} spawns: {ex.Message}");
                for (int i = 0; i < spawned; i++) ts[i].Wait();
                return;
            }
            for (int i = 0; i < n; i++) ts[i].Wait();
            sw.Stop();
            Out("spawn", "green", p, "us_per_spawn_join", sw.Elapsed.TotalMilliseconds * 1e3 / n);
            Out("spawn", "green", p, "os_threads_created", Hub.Instance.OsThreads - os0);
            OutGc("spawn", p, gc);
            Out("spawn", "green", p, "rss_MB_after", RssMB());
            Log($"spawn {p}: {sw.Elapsed.TotalMilliseconds:F0} ms, {Hub.Instance.OsThreads - os0} OS threads created");
            Array.Clear(ts);
        }
    }

    /// <summary>Spawns until the hub refuses with <see cref="GreenThreadLimitException"/> (or N is reached).</summary>
    private static int SpawnLimit(int n)
    {
        string p = $"N={n}";
        var ts = new List<GreenThread>(n);
        Action body = static () => Green.Sleep(0);
        var sw = Stopwatch.StartNew();
        GreenThreadLimitException? limit = null;
        try
        {
            for (int i = 0; i < n; i++)
            {
                ts.Add(Green.Spawn(body));
                if (ts.Count % 2000 == 0) Log($"spawn-limit: {ts.Count} spawned, {Hub.Instance.OsThreads} OS threads, RSS {RssMB():F0} MB");
            }
        }
        catch (GreenThreadLimitException ex)
        {
            limit = ex;
        }
        double ms = sw.Elapsed.TotalMilliseconds;
        if (limit != null)
        {
            Out("spawn", "green", p, "limit_exception_at", ts.Count);
            Out("spawn", "green", p, "us_per_spawn_until_limit", ms * 1e3 / Math.Max(1, ts.Count));
            Log($"spawn-limit: GreenThreadLimitException after {ts.Count} spawns (Alive={limit.Alive}, {ms:F0} ms): {limit.Message}");
        }
        else
        {
            Out("spawn", "green", p, "no_limit_exception_spawned", ts.Count);
            Log($"spawn-limit: all {n} spawned without a GreenThreadLimitException");
        }
        Out("spawn", "green", p, "rss_MB_at_limit", RssMB());
        foreach (var t in ts) t.Wait(); // the ones that did start still run to the end
        Log($"spawn-limit: joined {ts.Count}");
        return 0;
    }

    // ---------------------------------------------------------------------------------------------
    // C. sleep: N green threads each sleep 10 ms five times; wall ms (ideal 50). Cold, then warm.
    // ---------------------------------------------------------------------------------------------
    private static void SleepBench(int n)
    {
        var ts = new GreenThread[n];
        Action body = static () => { for (int k = 0; k < 5; k++) Green.Sleep(10); };
        foreach (var round in new[] { "cold", "warm" })
        {
            string p = $"N={n}x5x10ms,{round}";
            int os0 = Hub.Instance.OsThreads;
            var gc = GcMark.Now();
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < n; i++) ts[i] = Green.Spawn(body);
            for (int i = 0; i < n; i++) ts[i].Wait();
            sw.Stop();
            Out("sleep", "green", p, "wall_ms", sw.Elapsed.TotalMilliseconds);
            Out("sleep", "green", p, "os_threads_created", Hub.Instance.OsThreads - os0);
            OutGc("sleep", p, gc);
            Log($"sleep {p}: {sw.Elapsed.TotalMilliseconds:F0} ms");
            Array.Clear(ts);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // alive: N green threads alive at once, each blocked on one Event; RSS with all alive, and what one
    // forced gen0 GC costs then (every OS thread's stack is scanned).
    // ---------------------------------------------------------------------------------------------
    private static void Alive(int n)
    {
        string p = $"N={n}";
        GC.Collect();
        double rss0 = RssMB();
        var ev = new Event();
        var ts = new GreenThread[n];
        Action body = () => ev.Wait();
        var gc = GcMark.Now();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < n; i++) ts[i] = Green.Spawn(body);
        Green.Sleep(0); // every spawned thread runs once and parks in ev.Wait()
        sw.Stop();
        if (ev.Waiting != n) Log($"alive: expected {n} waiters, found {ev.Waiting}");
        double rss = RssMB();
        Out("alive", "green", p, "rss_MB_all_alive", rss);
        Out("alive", "green", p, "rss_MB_before", rss0);
        Out("alive", "green", p, "KB_per_green_thread", (rss - rss0) * 1024 / n);
        Out("alive", "green", p, "us_per_start", sw.Elapsed.TotalMilliseconds * 1e3 / n);
        Out("alive", "green", p, "waiting", ev.Waiting);
        Out("alive", "green", p, "os_threads", Hub.Instance.OsThreads);
        OutGc("alive", p + ",start", gc);
        var g = Stopwatch.StartNew();
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        g.Stop();
        Out("alive", "green", p, "forced_gen0_gc_ms_all_alive", g.Elapsed.TotalMilliseconds);
        sw.Restart();
        ev.Send();
        for (int i = 0; i < n; i++) ts[i].Wait();
        sw.Stop();
        Out("alive", "green", p, "us_per_release_join", sw.Elapsed.TotalMilliseconds * 1e3 / n);
        Log($"alive {p}: RSS {rss0:F0} -> {rss:F0} MB, forced gen0 GC {g.Elapsed.TotalMilliseconds:F0} ms");
    }
}
