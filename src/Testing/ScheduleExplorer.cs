using System.Diagnostics;
using Evergreen.Internal;
using Evergreen.Patching;

namespace Evergreen.Testing;

/// <summary>
/// Schedule exploration for unmodified <see cref="Thread"/>/<c>lock</c> code: CHESS's idea for .NET threads (Coyote does
/// it for Tasks by rewriting), here through the monkey patch. A patched program runs one green thread at a time and
/// switches only at calls the patch took over, so a schedule is the sequence of choices the hub makes. Each run gives the
/// hub a seed; at every preemption point — each <c>lock</c>/<see cref="Monitor"/> enter and release,
/// <see cref="Monitor.Wait(object)"/>/<see cref="Monitor.Pulse"/>, <see cref="Thread.Sleep(int)"/>/<see cref="Thread.Yield"/>,
/// <see cref="Thread.Start()"/> and <see cref="Thread.Join()"/>, a <see cref="Lock"/> release — the running thread yields
/// and a seeded random choice among the runnable threads decides who goes on (a random walk over interleavings;
/// <c>EVERGREEN_EXPLORE_PCT=d[,k]</c> switches to PCT: random thread priorities and d − 1 priority change points among k
/// steps).
/// </summary>
/// <remarks>
/// <para><b>Where it runs.</b> In a process patched by <c>Patcher.MonkeyPatch()</c> (the first line of <c>Main</c>; the
/// explorer does not patch for you, because <c>MonkeyPatch</c> re-runs <c>Main</c>: it throws
/// <see cref="InvalidOperationException"/> instead). The entry assembly must reference Evergreen.Testing (or
/// <c>EVERGREEN_EXPLORE=1</c> be set): the preemption points are compiled out of every other program. Under xunit, run
/// each exploration in a child process (tests/Shared/ChildProcess.cs).</para>
/// <para><b>The body.</b> Runs on a fresh green thread, T1; threads it starts are T2, T3, … in start order. All of them
/// must be green (plain <see cref="Thread"/>s, which the patch makes green; no <c>Patcher.Original</c> threads, thread-pool
/// work or I/O with the outside world): a run is over when every thread created in it has ended, and a wait that only a
/// native thread could end is taken for a deadlock.</para>
/// <para><b>Failures.</b> "exception": an exception escaped T1 or a thread it started (caught through the hub instead of
/// ending the process). "assertion": a failed <see cref="Debug.Assert(bool)"/>/<see cref="Trace.Assert(bool)"/> (the first
/// exploration replaces the default trace listener, which both go to, with one that throws
/// <see cref="AssertionFailedException"/>) or an xunit/NUnit/MSTest assertion exception. "deadlock": every thread of the
/// run waits and nothing can wake one (the hub's <see cref="GreenDeadlockException"/>). "hang": the run has not ended
/// after <see cref="ExploreOptions.HangTimeout"/> (real time).</para>
/// <para><b>After a failure.</b> A run that deadlocked or hung leaves threads behind, blocked or spinning, perhaps holding
/// locks: the process is not fit for more runs (<see cref="Replay"/> the seed in a fresh process) and should end with
/// <see cref="Environment.Exit(int)"/> (its foreground threads would keep it alive). After an "exception" or "assertion"
/// whose threads all ended, it is.</para>
/// </remarks>
public static class ScheduleExplorer
{
    private static readonly object s_hangMarker = new();

    // Green thread ids created by exploration runs: after the first run's start, up to the last run's end.
    private static long s_runIdsFrom = long.MaxValue, s_runIdsTo;
    private static bool s_assertionsHooked;

    /// <summary>
    /// Runs <paramref name="body"/> once per seed (<see cref="ExploreOptions.FirstSeed"/> upwards) until one fails, or
    /// <see cref="ExploreOptions.MaxSchedules"/> ran, or <see cref="ExploreOptions.TimeBudget"/> passed. Blocks the caller
    /// (greenly) meanwhile.
    /// </summary>
    /// <returns>The first failure with its seed and interleaving, or a report that none was found.</returns>
    /// <exception cref="InvalidOperationException">The process is not monkey patched, or its points are compiled out.</exception>
    public static ExplorationReport Explore(Action body, ExploreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        options ??= new ExploreOptions();
        if (!Hub.IsGreenThread) return Hub.Run(() => Explore(body, options));
        Prepare();
        var clock = Stopwatch.StartNew();
        int runs = 0;
        for (int i = 0; i < options.MaxSchedules; i++)
        {
            if (i > 0 && clock.Elapsed >= options.TimeBudget) break;
            int seed = unchecked(options.FirstSeed + i);
            var run = RunOnce(body, seed, options.HangTimeout);
            runs++;
            if (run.Kind != null) return new ExplorationReport(true, seed, runs, clock.Elapsed, run.Kind, run.Failure, run.Steps);
        }
        return new ExplorationReport(false, null, runs, clock.Elapsed, null, null, []);
    }

    /// <summary>
    /// Runs <paramref name="body"/> once under <paramref name="seed"/>: the same seed gives the same interleaving, step for
    /// step (for a body whose threads only talk to each other). The report carries the steps whether or not it failed.
    /// </summary>
    /// <exception cref="InvalidOperationException">The process is not monkey patched, or its points are compiled out.</exception>
    public static ExplorationReport Replay(Action body, int seed)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (!Hub.IsGreenThread) return Hub.Run(() => Replay(body, seed));
        Prepare();
        var clock = Stopwatch.StartNew();
        var run = RunOnce(body, seed, new ExploreOptions().HangTimeout);
        return new ExplorationReport(run.Kind != null, seed, 1, clock.Elapsed, run.Kind, run.Failure, run.Steps);
    }

    private static void Prepare()
    {
        if (!Patcher.IsMonkeyPatched("thread"))
            throw new InvalidOperationException("Schedule exploration needs a monkey-patched process: call Patcher.MonkeyPatch() as the first line of Main.");
        if (!ScheduleMode.Explorable)
            throw new InvalidOperationException("The hub's preemption points are compiled out of this process: reference Evergreen.Testing from the entry assembly, or set EVERGREEN_EXPLORE=1.");
        EnsureWatchdog();
        if (!s_assertionsHooked)
        {
            s_assertionsHooked = true;
            Trace.Listeners.Remove("Default");
            Trace.Listeners.Add(new ThrowingTraceListener());
        }
    }

    private sealed class RunResult
    {
        public string? Kind;
        public Exception? Failure;
        public IReadOnlyList<ScheduleStep> Steps = [];

        public void Record(Exception ex)
        {
            if (Kind != null) return; // the first failure is the one the schedule shows
            Kind = Classify(ex);
            Failure = ex;
        }
    }

    private static RunResult RunOnce(Action body, int seed, TimeSpan hangTimeout)
    {
        using var entry = Hub.Enter(out _); // the explorer touches hub state throughout (the run's state, its wait)
        var hub = Hub.Instance;
        var self = Hub.CurrentGreen!;
        var result = new RunResult();
        int waitId = 0;
        // The run's end and the hang timer both wake this thread under the baton; a wake for an older wait is ignored.
        Hub.RunEnded = () => hub.Wake(self, waitId, result);
        Hub.UnhandledObserver = (thread, ex) =>
        {
            // A thread some run created: this run's failure, or a leftover of an earlier failed run (swallowed only, so that
            // it cannot end the process). Threads the program creates outside runs keep .NET's rule: the process ends.
            if (thread.Id <= s_runIdsFrom || (!Hub.Exploring && thread.Id > s_runIdsTo)) return false;
            if (Hub.Exploring && Hub.SpawnOrder(thread) > 0) result.Record(ex);
            return true;
        };
        var bodyThread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception ex)
            {
                result.Record(ex);
            }
        })
        { IsBackground = true, Name = "explore-T1" };
        waitId = hub.BeginWait(self);
        Volatile.Write(ref s_hang, new HangArm(Stopwatch.GetTimestamp() + (long)(hangTimeout.TotalSeconds * Stopwatch.Frequency),
            () => hub.Post(() => hub.Wake(self, waitId, s_hangMarker))));
        if (s_runIdsFrom == long.MaxValue) s_runIdsFrom = GreenThread.LastId;
        var (pctDepth, pctSteps) = PctSetting();
        hub.BeginRun(unchecked((ulong)seed), explore: true, pctDepth, pctSteps);
        object? woke = null;
        try
        {
            bodyThread.Start();
            int alive = int.MaxValue;
            while (true)
            {
                try
                {
                    self.NoteWait(WaitKind.Other, null, "the end of the exploration run it started");
                    woke = hub.Block(self);
                    break;
                }
                catch (GreenDeadlockException ex)
                {
                    // Every thread waits: the hub broke this wait (and those of the run's other plain threads). Wait on while
                    // that lets threads of the run end: a run must not leave runnable threads behind to disturb the next one
                    // (seen: a Replay in the same process starting with a leftover in the run queue, diverging at its first pick).
                    result.Record(ex);
                    int now = Hub.RunThreadsAlive;
                    if (now == 0 || now >= alive) break;
                    alive = now;
                    waitId = hub.BeginWait(self);
                }
            }
        }
        finally
        {
            Volatile.Write(ref s_hang, null);
            Hub.RunEnded = null;
            var steps = hub.EndRun();
            s_runIdsTo = GreenThread.LastId;
            result.Steps = steps.Select((s, i) => new ScheduleStep(i + 1, "T" + s.Thread, s.Operation, s.Target)).ToArray();
        }
        if (woke == s_hangMarker && result.Kind == null)
        {
            result.Kind = "hang";
            result.Failure = new TimeoutException($"The run with seed {seed} had not ended after {hangTimeout.TotalSeconds:0.###} s.");
        }
        return result;
    }

    // The hang watchdog: one native thread for the process, polling the armed deadline every 10 ms. Not a .NET Timer: its
    // queue's lock is shared with the runtime's timer thread, and a green thread of the run contending with a native one
    // adds picks and posts the seed does not decide (seen: the replay of a Monitor.Wait schedule diverging at step 9).
    // A stale arm's wake names the wait of its own run, which the hub ignores once that run is over.
    private sealed record HangArm(long Deadline, Action Wake);

    private static HangArm? s_hang;
    private static int s_watchdogStarted;

    private static void EnsureWatchdog()
    {
        if (Interlocked.Exchange(ref s_watchdogStarted, 1) != 0) return;
        Hub.StartNativeThread(new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(10); // a native thread: the original sleep
                if (Volatile.Read(ref s_hang) is { } arm && Stopwatch.GetTimestamp() >= arm.Deadline
                    && Interlocked.CompareExchange(ref s_hang, null, arm) == arm)
                    arm.Wake();
            }
        }, 256 * 1024)
        { IsBackground = true, Name = "evergreen-explore-watchdog" });
    }

    /// <summary>
    /// <c>EVERGREEN_EXPLORE_PCT=d</c> or <c>d,k</c>: PCT with depth d (2–10) and k steps (default 100) instead of the random
    /// walk; read at each run, so one process can compare both.
    /// </summary>
    private static (int Depth, int Steps) PctSetting()
    {
        if (Environment.GetEnvironmentVariable("EVERGREEN_EXPLORE_PCT") is not { Length: > 0 } text) return (0, 0);
        var parts = text.Split(',');
        int depth = int.TryParse(parts[0], out int d) ? Math.Clamp(d, 1, 10) : 0;
        int steps = parts.Length > 1 && int.TryParse(parts[1], out int k) && k > 0 ? k : 100;
        return (depth, steps);
    }

    private static string Classify(Exception ex)
    {
        for (var e = ex; e != null; e = e.InnerException)
        {
            if (e is GreenDeadlockException) return "deadlock";
            if (e is AssertionFailedException) return "assertion";
            string name = e.GetType().FullName ?? "";
            if (name.StartsWith("Xunit.Sdk.", StringComparison.Ordinal) || name.StartsWith("NUnit.Framework.", StringComparison.Ordinal)
                || name.StartsWith("Microsoft.VisualStudio.TestTools.", StringComparison.Ordinal))
                return "assertion";
        }
        return "exception";
    }

    private sealed class ThrowingTraceListener : TraceListener
    {
        public ThrowingTraceListener() : base("Evergreen.Testing") { }

        public override void Fail(string? message, string? detailMessage) => throw new AssertionFailedException(message, detailMessage);

        public override void Write(string? message) { }

        public override void WriteLine(string? message) { }
    }
}
