using System.Diagnostics;
using Evergreen.Patching;

// Issue 11.5: one thread starts N plain threads in a loop while a ticker thread sleeps 10 ms at a time; prints the loop's
// wall time, the ticker's ticks during the loop and its longest gap between ticks. Patched: every thread here is green, so
// a start that held the hub stops the ticker. Run it with EVERGREEN_NO_PATCH=1 for the unpatched figures.
//   dotnet Evergreen.Bench.ThreadStart.dll [N=10000]
// stdout: TSV  bench<TAB>system<TAB>param<TAB>metric<TAB>value (bench/README.md's format)
internal static class Program
{
    private static int Main(string[] args)
    {
        Patcher.MonkeyPatch();
        int n = args.Length > 0 ? int.Parse(args[0]) : 10_000;
        string system = Patcher.IsMonkeyPatched("thread") ? "green-patched" : "dotnet-threads";

        bool stop = false;
        int ticks = 0;
        long longestGap = 0;
        long loopStart = 0;
        long lastTick = Stopwatch.GetTimestamp();
        var ticker = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                Thread.Sleep(10);
                long now = Stopwatch.GetTimestamp();
                long from = Volatile.Read(ref loopStart);
                if (from != 0)
                {
                    Interlocked.Increment(ref ticks);
                    Volatile.Write(ref longestGap, Math.Max(Volatile.Read(ref longestGap), now - Math.Max(Volatile.Read(ref lastTick), from)));
                }
                Volatile.Write(ref lastTick, now);
            }
        });
        ticker.Start();
        Thread.Sleep(50); // the ticker is in its loop

        int ran = 0;
        var threads = new Thread[n];
        Volatile.Write(ref loopStart, Stopwatch.GetTimestamp());
        long start = loopStart;
        for (int i = 0; i < n; i++)
        {
            threads[i] = new Thread(() => Interlocked.Increment(ref ran));
            threads[i].Start();
        }
        long loopEnd = Stopwatch.GetTimestamp();
        int ticksDuringLoop = Volatile.Read(ref ticks);
        // The gap still open at the loop's end counts too (a ticker stopped for the whole loop never ticks in it).
        long gap = Math.Max(Volatile.Read(ref longestGap), loopEnd - Math.Max(Volatile.Read(ref lastTick), start));
        Volatile.Write(ref stop, true);
        foreach (var t in threads) t.Join();
        ticker.Join();
        long allDone = Stopwatch.GetTimestamp();

        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        string param = $"N={n}";
        Console.WriteLine($"threadstart\t{system}\t{param}\tloop_ms\t{Ms(loopEnd - start):0}");
        Console.WriteLine($"threadstart\t{system}\t{param}\tall_ran_ms\t{Ms(allDone - start):0}");
        Console.WriteLine($"threadstart\t{system}\t{param}\tticker_ticks_during_loop\t{ticksDuringLoop}");
        Console.WriteLine($"threadstart\t{system}\t{param}\tticker_longest_gap_ms\t{Ms(gap):0}");
        return ran == n ? 0 : 1;
    }
}
