using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using Evergreen.Bugs;

namespace Evergreen.Bench.Explore;

/// <summary>
/// The plain stress run: the same body on native threads (this process is never patched), called in a loop until it
/// fails or the budget is spent. A failure is the body's exception, an exception escaping one of its threads (caught by
/// <see cref="AppDomain.UnhandledException"/>, which would end the process anyway), or a hang: an iteration still
/// running after <see cref="HangMs"/> (a deadlock or a lost wake-up never ends on native threads).
/// </summary>
internal static class StressChild
{
    /// <summary>An iteration takes ~0.1–1 ms (two or four thread starts and joins); one still running after this hangs.</summary>
    private const int HangMs = 2000;

    private static readonly Stopwatch s_clock = new();
    private static long s_iteration;
    private static long s_iterationStartTicks;
    private static string s_bug = "";
    private static int s_reported;

    /// <summary>
    /// Prints one row: <c>row stress BUG FOUND ITERATIONS MS HOW</c>. ITERATIONS counts the failing one; MS is when the
    /// failing iteration started (for a hang, not when it was noticed), or the whole budget when nothing failed.
    /// </summary>
    public static int Run(string bugName, int budgetMs, bool warm)
    {
        s_bug = bugName;
        var body = Corpus.Get(bugName).Body;
        if (warm)
            Prejit(typeof(Corpus).Assembly);
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
            Report(found: true, e.ExceptionObject is Exception ex ? "thread: " + ex.GetType().Name + ": " + ex.Message : "thread exception");
        s_clock.Start();
        new Thread(Watchdog) { IsBackground = true, Name = "stress-watchdog" }.Start();
        while (s_clock.ElapsedMilliseconds < budgetMs)
        {
            Volatile.Write(ref s_iterationStartTicks, s_clock.ElapsedTicks);
            Interlocked.Increment(ref s_iteration);
            try
            {
                body();
            }
            catch (Exception ex)
            {
                Report(found: true, "body: " + ex.GetType().Name + ": " + ex.Message);
            }
        }
        Report(found: false, "-");
        return 0;
    }

    /// <summary>
    /// Compiles every method of the corpus (lambdas included) before the loop. From a cold start the first iteration
    /// runs while the JIT compiles the bug's code: that stretches its race window from nanoseconds to milliseconds, so
    /// a cold loop often fails in iteration 1 for a reason no later iteration has. The warm loop measures the rest.
    /// </summary>
    private static void Prejit(Assembly assembly)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var type in assembly.GetTypes().Where(t => !t.ContainsGenericParameters))
        {
            foreach (var method in type.GetMethods(all).Where(m => !m.IsAbstract && !m.ContainsGenericParameters))
                RuntimeHelpers.PrepareMethod(method.MethodHandle);
            foreach (var ctor in type.GetConstructors(all))
                RuntimeHelpers.PrepareMethod(ctor.MethodHandle);
        }
    }

    private static void Watchdog()
    {
        while (true)
        {
            Thread.Sleep(100);
            long started = Volatile.Read(ref s_iterationStartTicks);
            if ((s_clock.ElapsedTicks - started) * 1000 / Stopwatch.Frequency > HangMs)
                Report(found: true, $"hang: iteration still running after {HangMs} ms");
        }
    }

    /// <summary>Prints the row once and ends the process (threads of a failed iteration may be blocked forever).</summary>
    private static void Report(bool found, string how)
    {
        if (Interlocked.Exchange(ref s_reported, 1) != 0)
            return;
        double ms = found ? Volatile.Read(ref s_iterationStartTicks) * 1000.0 / Stopwatch.Frequency : s_clock.Elapsed.TotalMilliseconds;
        Console.WriteLine(string.Join('\t', "row", "stress", s_bug, found ? 1 : 0, Interlocked.Read(ref s_iteration), ms.ToString("0.0"), how.Replace('\t', ' ').Replace('\n', ' ')));
        Console.Out.Flush();
        Environment.Exit(0);
    }
}
