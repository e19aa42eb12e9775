using System.Diagnostics;
using Evergreen.Detours.Linux;
using static Evergreen.Detours.Child.Probe;

namespace Evergreen.Detours.Child;

/// <summary>Issue 9: applying and undoing while threads run the target must never crash the process.</summary>
internal static partial class Program
{
    private const int CycleThreads = 8;
    private const int CallsPerPhase = CycleThreads * 20;

    // <target>:cycles:<n>: 8 threads call the target without pause while the main thread applies and undoes its
    // detours n times, waiting between steps until the threads made progress. Checks: no crash, no call lost, the
    // case's exactness check (e.g. a locked counter); prints the time of each apply and undo.
    private static void Cycles(Case c, int cycles)
    {
        PassThrough = true;
        c.Before();
        Cases.ResetCounter();
        var engine = DetourEngine.Default;
        var detours = c.Detours.Select(d => engine.Prepare(d.Target, d.Replacement)).ToList();
        for (int i = 0; i < detours.Count; i++)
        {
            c.Detours[i].SetOriginal(detours[i].Original);
        }

        long made = 0, redirected = 0;
        bool stop = false;
        using var start = new Barrier(CycleThreads + 1);
        var threads = Enumerable.Range(0, CycleThreads).Select(_ => new Thread(() =>
        {
            var call = c.Call;
            start.SignalAndWait();
            while (!Volatile.Read(ref stop))
            {
                Seen = false;
                call();
                if (Seen)
                {
                    Interlocked.Increment(ref redirected);
                }

                Interlocked.Increment(ref made);
            }
        })
        { IsBackground = true }).ToList(); // a failed scenario exits instead of hanging on its callers
        threads.ForEach(t => t.Start());
        start.SignalAndWait();

        var apply = new List<double>(cycles);
        var undo = new List<double>(cycles);
        long stopsBefore = WorldStop.StopCount;
        for (int i = 0; i < cycles; i++)
        {
            AwaitProgress(ref made);
            long t0 = Stopwatch.GetTimestamp();
            engine.ApplyAll(detours);
            apply.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            Check(detours.All(d => d.IsApplied), "IsApplied false after ApplyAll");
            AwaitProgress(ref made);
            t0 = Stopwatch.GetTimestamp();
            detours.ForEach(d => d.Undo());
            undo.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
            Check(detours.All(d => !d.IsApplied), "IsApplied true after Undo");
        }

        AwaitProgress(ref made);
        Volatile.Write(ref stop, true);
        threads.ForEach(t => t.Join());
        Console.WriteLine($"cycles: {cycles} apply+undo under {CycleThreads} threads, {made} calls ({redirected} redirected), "
            + $"{WorldStop.StopCount - stopsBefore} world stops (signal {WorldStop.Signal}); "
            + $"apply µs median {Median(apply):F0} max {apply.Max():F0}; undo µs median {Median(undo):F0} max {undo.Max():F0}");
        if (c.AfterRace?.Invoke(made) is { } problem)
        {
            throw new ScenarioFailedException(problem);
        }
    }

    private static void AwaitProgress(ref long made)
    {
        long target = Interlocked.Read(ref made) + CallsPerPhase;
        while (Interlocked.Read(ref made) < target)
        {
            Thread.SpinWait(100);
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
