using System.Diagnostics;
using System.Reflection;
using Evergreen.Detours;
using Evergreen.Detours.Linux;
using Evergreen.Detours.Runtime;
using static Evergreen.Detours.Child.Probe;

namespace Evergreen.Detours.Child;

/// <summary>
/// Runs one detour scenario per process (patching is one-way for a process) and prints <c>pass</c>, or the failure and
/// exits 1. Usage: <c>Evergreen.Detours.Child &lt;case&gt;:&lt;basic|hot|race|cycles[:n]&gt;</c> or a named scenario
/// (<c>rwx</c>, <c>batch-rollback</c>, <c>bad-input</c>, <c>world-stop</c>, <c>world-stop-blocked</c>, <c>list</c>).
/// </summary>
internal static partial class Program
{
    private const int HotCalls = 2_000_000;
    private const int RaceThreads = 4;
    private const int RaceCallsAfterApply = 200;

    private static int Main(string[] args)
    {
        try
        {
            Run(args.Length > 0 ? args[0] : "list");
            Console.WriteLine("pass");
            return 0;
        }
        catch (Exception e)
        {
            Console.WriteLine($"FAIL: {e}");
            return 1;
        }
    }

    private static void Run(string scenario)
    {
        switch (scenario)
        {
            case "list":
                Console.WriteLine(string.Join('\n', Cases.All_.Select(c => c.Name)));
                return;
            case "rwx":
                NoRwxPages();
                return;
            case "batch-rollback":
                BatchRollback();
                return;
            case "bad-input":
                BadInput();
                return;
            case "world-stop":
                WorldStopScenarios.ThreadInsideTheWriteIsMoved();
                return;
            case "world-stop-blocked":
                WorldStopScenarios.ThreadBlockingTheSignalIsExcused();
                return;
        }

        string[] parts = scenario.Split(':');
        var c = Cases.Find(parts[0]);
        switch (parts[1])
        {
            case "basic": Basic(c); break;
            case "hot": Hot(c); break;
            case "race": Race(c); break;
            case "cycles": Cycles(c, parts.Length > 2 ? int.Parse(parts[2]) : 20); break;
            default: throw new ArgumentException($"unknown scenario {scenario}");
        }
    }

    private static List<IDetour> ApplyCase(Case c)
    {
        var engine = DetourEngine.Default;
        var detours = c.Detours.Select(d => engine.Prepare(d.Target, d.Replacement)).ToList();
        for (int i = 0; i < detours.Count; i++)
        {
            c.Detours[i].SetOriginal(detours[i].Original); // published before the first redirected call can arrive
        }

        engine.ApplyAll(detours);
        Check(detours.All(d => d.IsApplied), "IsApplied false after ApplyAll");
        return detours;
    }

    private static void ExpectHit(Action call, string what)
    {
        long before = ThreadHits;
        call();
        Check(ThreadHits > before, $"{what} did not reach the replacement");
    }

    // Points 1, 3 and 4.
    private static void Basic(Case c)
    {
        PassThrough = true;
        for (int i = 0; i < 3; i++)
        {
            c.Before();
        }

        var detours = ApplyCase(c);
        ExpectHit(c.Before, "caller compiled before the patch");
        ExpectHit(c.AfterOptimized, "caller compiled after the patch (AggressiveOptimization)");
        if (c.Framework is not null)
        {
            ExpectHit(c.Framework, "framework caller");
        }

        long total = Total;
        c.Original();
        Check(Total > total, "the original-behaviour check did not go through the replacement");

        detours.ForEach(d => d.Undo());
        Check(detours.All(d => !d.IsApplied), "IsApplied true after Undo");
        total = Total;
        c.Before();
        c.AfterOptimized();
        c.Framework?.Invoke();
        c.Original();
        Check(Total == total, $"{Total - total} calls still reached the replacement after Undo");
    }

    // Point 2: run under the env vars the test sets (defaults, TieredCompilation=0, TieredPGO=0, ReadyToRun=0).
    private static void Hot(Case c)
    {
        PassThrough = true;
        c.Before();
        ApplyCase(c);
        PassThrough = !c.HotWithoutOriginal;
        long before = ThreadHits;
        var call = c.Call;
        for (int i = 0; i < HotCalls; i++)
        {
            call();
        }

        long hits = ThreadHits - before;
        Console.WriteLine($"hot: {hits}/{HotCalls} redirected; JIT hook patched {JitHook.PatchedCount} bodies, skipped {JitHook.SkippedOsrCount} OSR, failed {JitHook.FailedCount}");
        Check(hits >= HotCalls, $"only {hits} of {HotCalls} hot calls reached the replacement");
        Check(JitHook.FailedCount == 0, $"the JIT hook failed to patch {JitHook.FailedCount} bodies");
    }

    // Point 5: patch while 4 threads hammer the target; every call completes, none after the patch misses it.
    private static void Race(Case c)
    {
        PassThrough = true;
        c.Before();
        Cases.ResetCounter();
        long made = 0, redirected = 0, direct = 0, missedAfterApply = 0, afterApply = 0;
        bool applied = false, stop = false;
        using var start = new Barrier(RaceThreads + 1);
        var threads = Enumerable.Range(0, RaceThreads).Select(_ => new Thread(() =>
        {
            var call = c.Call;
            start.SignalAndWait();
            while (!Volatile.Read(ref stop))
            {
                bool wasApplied = Volatile.Read(ref applied);
                Seen = false;
                call();
                Interlocked.Increment(ref made);
                if (Seen)
                {
                    Interlocked.Increment(ref redirected);
                }
                else
                {
                    Interlocked.Increment(ref direct);
                    if (wasApplied)
                    {
                        Interlocked.Increment(ref missedAfterApply);
                    }
                }

                if (wasApplied)
                {
                    Interlocked.Increment(ref afterApply);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        start.SignalAndWait();
        while (Interlocked.Read(ref made) < RaceThreads * 10)
        {
            Thread.SpinWait(1000);
        }

        ApplyCase(c);
        Volatile.Write(ref applied, true);
        while (Interlocked.Read(ref afterApply) < RaceThreads * RaceCallsAfterApply)
        {
            Thread.SpinWait(1000);
        }

        Volatile.Write(ref stop, true);
        threads.ForEach(t => t.Join());
        Console.WriteLine($"race: made {made}, redirected {redirected}, direct {direct} (after apply: {afterApply} calls, {missedAfterApply} missed)");
        Check(made == redirected + direct, "calls lost");
        Check(missedAfterApply == 0, $"{missedAfterApply} calls begun after Apply returned missed the replacement");
        if (c.AfterRace?.Invoke(made) is { } problem)
        {
            throw new ScenarioFailedException(problem);
        }
    }

    private static void NoRwxPages()
    {
        PassThrough = true;
        var cases = new[] { Cases.Find("sleep-int"), Cases.Find("monitor"), Cases.Find("yield") };
        foreach (var c in cases)
        {
            c.Before();
        }

        var detours = cases.SelectMany(ApplyCase).Cast<BodyDetour>().ToList();
        PassThrough = false;
        for (int i = 0; i < 200_000; i++)
        {
            Thread.Sleep(0);
        }

        var addresses = detours.SelectMany(d => new[] { (d.Body, $"body of {d.Target.Name}"), (d.TrampolinePage, $"trampoline of {d.Target.Name}") })
            .Concat(Enumerable.Range(0, 8).SelectMany(slot => JitHook.GetPatchedBodies(slot).Select(b => (b.Address, $"JIT-hook body (slot {slot})"))))
            .ToList();
        var maps = ProcMaps.ReadAll();
        foreach (var (address, what) in addresses)
        {
            var region = maps.First(r => r.Contains((ulong)address));
            const int Rwx = Interop.Libc.ProtRead | Interop.Libc.ProtWrite | Interop.Libc.ProtExec;
            Check((region.Protection & Rwx) != Rwx, $"{what} at 0x{address:X} lies in an rwx page");
        }

        int rwxAnywhere = maps.Count(r => r.Protection == 7);
        Console.WriteLine($"checked {addresses.Count} patched bodies/trampolines: none rwx; rwx mappings in the whole process: {rwxAnywhere}");
    }

    private static void BatchRollback()
    {
        var sleep = Cases.M(typeof(Thread), "Sleep", typeof(int));
        var replacement = typeof(Program).GetMethod(nameof(CountingSleep), Cases.All)!;
        Thread.Sleep(0);
        var engine = DetourEngine.Default;

        // The second pair targets the same method: its write fails after the first was written.
        try
        {
            engine.ApplyAll([(sleep, replacement), (Cases.M(typeof(Thread), "Yield"), typeof(Program).GetMethod(nameof(CountingYield), Cases.All)!), (sleep, replacement)]);
            throw new ScenarioFailedException("a batch with a failing element did not throw");
        }
        catch (DetourException e)
        {
            Check(e.Target == sleep, $"DetourException names {e.Target}, not the failing target");
            Console.WriteLine($"batch failed as expected: {e.Message}");
        }

        long before = s_counted;
        Thread.Sleep(0);
        Thread.Yield();
        Check(s_counted == before, "a detour of the failed batch is still applied");

        // Nothing left behind: the same batch minus the bad element applies cleanly.
        var ok = engine.ApplyAll([(sleep, replacement)]);
        Thread.Sleep(0);
        Check(s_counted == before + 1, "re-applying after the rollback did not redirect");
        ok[0].Undo();
    }

    private static long s_counted;

    private static void CountingSleep(int ms) => s_counted++;

    private static bool CountingYield()
    {
        s_counted++;
        return false;
    }

    private static void BadInput()
    {
        var engine = DetourEngine.Default;
        var sleep = Cases.M(typeof(Thread), "Sleep", typeof(int));
        var good = typeof(Program).GetMethod(nameof(CountingSleep), Cases.All)!;
        Expect<ArgumentNullException>(() => engine.Apply(null!, good));
        Expect<ArgumentNullException>(() => engine.Apply(sleep, null!));
        Expect<ArgumentException>(() => engine.Apply(sleep, typeof(Program).GetMethod(nameof(CountingYield), Cases.All)!));
        Expect<NotSupportedException>(() => engine.Apply(typeof(List<string>).GetMethod("Add")!, typeof(Program).GetMethod(nameof(ListAdd), Cases.All)!));
        Expect<NotSupportedException>(() => engine.Apply(typeof(Stream).GetMethod("Read", [typeof(byte[]), typeof(int), typeof(int)])!, typeof(Program).GetMethod(nameof(StreamRead), Cases.All)!));
        long before = s_counted;
        Thread.Sleep(0);
        Check(s_counted == before, "a rejected detour was written");
    }

    private static void ListAdd(List<string> list, string item)
    {
    }

    private static int StreamRead(Stream s, byte[] b, int o, int c) => 0;

    private static void Expect<T>(Action action)
        where T : Exception
    {
        try
        {
            action();
        }
        catch (T e)
        {
            Console.WriteLine($"{typeof(T).Name}: {e.Message}");
            return;
        }

        throw new ScenarioFailedException($"expected {typeof(T).Name}");
    }
}
