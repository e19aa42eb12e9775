using System.Reflection;
using Evergreen.Internal;
using Evergreen.IO;
using Evergreen.IO.Internal;
using Evergreen.Patching.Internal;

namespace Evergreen.Patching.Replacements;

/// <summary>
/// Replacements for <see cref="Thread"/> (area "thread") and <see cref="Thread.Sleep(int)"/> (area "time").
/// Every replacement calls the original on a thread that is not green.
/// </summary>
internal static unsafe class ThreadPatch
{
    // What this file replaces (eventlet's __patched__); the patcher applies exactly these rows.
    public static readonly PatchRow StartCoreRow = Row("StartCore", [], nameof(StartCore));
    public static readonly PatchRow JoinRow = Row(nameof(Thread.Join), [], nameof(Join));
    public static readonly PatchRow JoinMsRow = Row(nameof(Thread.Join), [typeof(int)], nameof(JoinMs));
    public static readonly PatchRow JoinSpanRow = Row(nameof(Thread.Join), [typeof(TimeSpan)], nameof(JoinSpan));
    public static readonly PatchRow YieldRow = Row(nameof(Thread.Yield), [], nameof(Yield));
    public static readonly PatchRow InterruptRow = Row(nameof(Thread.Interrupt), [], nameof(Interrupt));
    public static readonly PatchRow ThreadStateRow = PatchRow.Accessor(typeof(Thread), nameof(Thread.ThreadState), setter: false, typeof(ThreadPatch), nameof(GetThreadState));
    public static readonly PatchRow SleepMsRow = Row(nameof(Thread.Sleep), [typeof(int)], nameof(SleepMs));
    public static readonly PatchRow SleepSpanRow = Row(nameof(Thread.Sleep), [typeof(TimeSpan)], nameof(SleepSpan));

    public static readonly PatchTable ThreadTable = new("thread",
        "every Start/UnsafeStart overload funnels into StartCore: the new OS thread joins the hub (identity, name, IsBackground, ThreadStatics kept), started off the hub's CPU while the starter waits greenly, and a thread started off the hub is remembered so the exit waits for it while foreground; Join waits greenly (tpool for a native thread); Yield is Green.Sleep(0); Interrupt of a green thread throws ThreadInterruptedException at its current or next green wait (the runtime's flag is never set); ThreadState includes WaitSleepJoin while a green thread is parked in a green wait",
        [StartCoreRow, JoinRow, JoinMsRow, JoinSpanRow, YieldRow, InterruptRow, ThreadStateRow],
        connect: static () => HubPatchSeam.StartNativeThread = StartNative);

    public static readonly PatchTable TimeTable = new("time", "Green.Sleep",
        [SleepMsRow, SleepSpanRow],
        connect: static () => HubPatchSeam.Sleep = SleepNative);

    private static PatchRow Row(string name, Type[] parameters, string replacement) =>
        PatchRow.Method(typeof(Thread), name, parameters, typeof(ThreadPatch), replacement);

    /// <summary>How the hub starts its own OS threads (workers, tpool, watchdog) once Thread.Start is patched: natively.</summary>
    private static void StartNative(Thread thread)
    {
        using (NativeScope.Enter()) thread.Start();
    }

    /// <summary>How a thread that is not green sleeps in <see cref="Evergreen.Green.Sleep(TimeSpan)"/> once Thread.Sleep is patched.</summary>
    private static void SleepNative(TimeSpan t)
    {
        using (NativeScope.Enter()) SleepSpan(t);
    }

    internal static void StartCore(Thread thread)
    {
        // A thread started before (running or ended) is the original's error: ThreadStateException "cannot restart".
        // Reading IsThreadPoolThread of an ended thread below would throw another ("Thread is dead").
        if ((thread.ThreadState & ThreadState.Unstarted) == 0)
        {
            StartOriginal(thread);
            return;
        }

        bool runtimeThread = IsRuntimeThread(thread); // before the start: a started thread may be gone (and unreadable) at once
        if (!NativeScope.GreenCaller || runtimeThread)
        {
            if (GreenThreadStart.TakeUnstartedInterrupt(thread)) ((delegate*<Thread, void>)InterruptRow.Original)(thread);
            ((delegate*<Thread, void>)StartCoreRow.Original)(thread);
            // A program's thread started off the hub: the exit waits for it while it is foreground (after the start:
            // one that throws leaves nothing to wait for). The runtime's own threads are not the program's.
            if (!runtimeThread) GreenThreadStart.StartedNative(thread);
            return;
        }
        if (Hub.DeterministicSchedule)
        {
            // Seeded or explored: the new thread joins the run queue at a fixed point of the schedule (Hub.StartInline).
            Hub.SchedulePoint("Thread.Start", null);
            Hub.SuppressSchedulePoints(); // the start's own locks (the runtime's, the thread table's) are not the program's
            try
            {
                GreenThreadStart.Prepare(thread);
                Hub.Instance.StartInline(thread, () => StartOriginal(thread), () => GreenThreadStart.StartFailed(thread));
            }
            finally
            {
                Hub.ResumeSchedulePoints();
            }
            return;
        }
        GreenThreadStart.Prepare(thread);
        // The runtime's start blocks until the new OS thread runs: off the hub, so other green threads keep running.
        Hub.Instance.StartOffHub(() => StartOriginal(thread), () => GreenThreadStart.StartFailed(thread));
    }

    private static void StartOriginal(Thread thread) => ((delegate*<Thread, void>)StartCoreRow.Original)(thread);

    /// <summary>
    /// The runtime starts its own threads lazily, from whatever thread first needs them — often a green one: the
    /// thread pool (".NET TP Worker", ".NET TP Gate"), the timer thread (".NET Timer"), long-running tasks. They must
    /// stay native: adopted as green threads they would block natively while holding the baton and freeze the hub
    /// (seen: the first System.Threading.Timer, e.g. Npgsql's pool pruning, hung the service example). The runtime
    /// names them before starting them; thread-pool threads are also flagged.
    /// </summary>
    private static bool IsRuntimeThread(Thread thread) =>
        thread.IsThreadPoolThread || (thread.Name is { } n && n.StartsWith(".NET ", StringComparison.Ordinal));

    internal static void Join(Thread thread)
    {
        if (!NativeScope.GreenCaller) { ((delegate*<Thread, void>)JoinRow.Original)(thread); return; }
        JoinGreen(thread, -1);
    }

    internal static bool JoinMs(Thread thread, int millisecondsTimeout)
    {
        // A timeout below -1 is the original's error (its message, before it looks at the thread): it throws, never waits.
        if (!NativeScope.GreenCaller || millisecondsTimeout < -1) return ((delegate*<Thread, int, bool>)JoinMsRow.Original)(thread, millisecondsTimeout);
        return JoinGreen(thread, millisecondsTimeout);
    }

    internal static bool JoinSpan(Thread thread, TimeSpan timeout)
    {
        if (!NativeScope.GreenCaller) return ((delegate*<Thread, TimeSpan, bool>)JoinSpanRow.Original)(thread, timeout);
        long ms = ToTimeoutMilliseconds(timeout);
        return JoinGreen(thread, (int)ms);
    }

    private static bool JoinGreen(Thread thread, int ms)
    {
        if (!ScheduleMode.Explorable) return JoinGreenCore(thread, ms);
        Hub.SchedulePoint("Thread.Join", thread);
        Hub.SuppressSchedulePoints(); // the join's own locks (the thread table's, the runtime's) are not the program's
        try
        {
            return JoinGreenCore(thread, ms);
        }
        finally
        {
            Hub.ResumeSchedulePoints();
        }
    }

    private static bool JoinGreenCore(Thread thread, int ms)
    {
        // A thread joining itself is no error in .NET: a timed Join waits out its timeout and returns false, an untimed
        // one never returns. The paths below do exactly that (its own done event is not set while it runs; main has none
        // and is joined natively on a tpool thread), so it is not special-cased here.
        if (GreenThreadStart.DoneEvent(thread) is { } done)
        {
            if (!(ms < 0 ? WaitForever(done) : done.Wait(TimeSpan.FromMilliseconds(ms)))) return false;
            // The body has ended and the thread left the hub; its OS thread is on its way out of the runtime, which
            // needs no baton. Wait for that too, so that IsAlive is false and ThreadState Stopped once Join returns
            // (as in plain .NET; seen true/Running in 4 of 6 runs of diff-thread-lifecycle without this wait).
            if (Hub.DeterministicSchedule)
            {
                // Seeded or explored: a take-back here would be a switch the seed did not choose.
                using (Hub.Enter(out _))
                using (NativeScope.Enter())
                    ((delegate*<Thread, int, bool>)JoinMsRow.Original)(thread, Timeout.Infinite);
                return true;
            }
            using (NativeScope.Enter()) ((delegate*<Thread, int, bool>)JoinMsRow.Original)(thread, Timeout.Infinite);
            return true;
        }
        // A native thread: wait for it on a tpool thread so the hub keeps running.
        var t = thread;
        return Tpool.Execute(() => { using (NativeScope.Enter()) return ((delegate*<Thread, int, bool>)JoinMsRow.Original)(t, ms); });
    }

    private static bool WaitForever(Event done)
    {
        done.Wait();
        return true;
    }

    /// <summary>
    /// A green target gets the interrupt from the hub, whoever calls; the runtime's own flag is never set for it, so it
    /// cannot fire later in a native wait. Any other thread is interrupted by the runtime.
    /// </summary>
    internal static void Interrupt(Thread thread)
    {
        if (!GreenThreadStart.TryInterrupt(thread)) ((delegate*<Thread, void>)InterruptRow.Original)(thread);
    }

    /// <summary>
    /// The runtime sets WaitSleepJoin only around its own waits; a parked green thread waits for the baton in a futex it
    /// does not see, so it read as Running in every green wait, and code that polls <c>t.ThreadState</c> until a thread
    /// is blocked (common in tests) spun forever. A green thread parked on the hub is, in .NET's terms, waiting.
    /// </summary>
    internal static ThreadState GetThreadState(Thread thread)
    {
        var state = ((delegate*<Thread, ThreadState>)ThreadStateRow.Original)(thread);
        return Hub.IsParkedInManagedWait(thread) ? state | ThreadState.WaitSleepJoin : state;
    }

    internal static bool Yield()
    {
        if (!NativeScope.GreenCaller) return ((delegate*<bool>)YieldRow.Original)();
        if (ScheduleMode.Explorable && Hub.SchedulePoint("Thread.Yield", null)) return true; // the point was the yield
        Evergreen.Green.Sleep(0);
        return true;
    }

    internal static void SleepMs(int millisecondsTimeout)
    {
        // A timeout below -1 is the original's error (Green.Sleep's has another message and parameter name): it throws.
        if (!NativeScope.GreenCaller || millisecondsTimeout < -1) { ((delegate*<int, void>)SleepMsRow.Original)(millisecondsTimeout); return; }
        if (millisecondsTimeout == 0) Hub.ThrowIfInterrupted(); // plain Sleep(0) is an alertable wait; Green.Sleep(0), a yield, is not
        if (ScheduleMode.Explorable && Hub.SchedulePoint("Thread.Sleep", null) && millisecondsTimeout == 0) return;
        Evergreen.Green.Sleep(millisecondsTimeout);
    }

    internal static void SleepSpan(TimeSpan timeout)
    {
        // The original's check (WaitHandle.ToTimeoutMilliseconds), on every thread: a green sleep of more than
        // Int32.MaxValue ms (TimeSpan.MaxValue) must throw as in .NET, not sleep (or, overflowing, not sleep at all).
        long ms = ToTimeoutMilliseconds(timeout);
        if (!NativeScope.GreenCaller)
        {
            // Not through SleepSpanRow.Original: Sleep(TimeSpan)'s body opens with a call through a ReadyToRun import cell, which
            // the trampoline emulates; while that cell is unbound, the runtime's delay-load stub decodes its call site
            // from the return address, i.e. from the bytes the detour overwrote, and passed garbage (docs/detours.md).
            // The original does exactly this conversion and calls Sleep(int).
            ((delegate*<int, void>)SleepMsRow.Original)((int)ms);
            return;
        }
        if (ms == 0) Hub.ThrowIfInterrupted(); // as in SleepMs
        if (ScheduleMode.Explorable && Hub.SchedulePoint("Thread.Sleep", null) && timeout == TimeSpan.Zero) return;
        Evergreen.Green.Sleep(timeout);
    }

    /// <summary>
    /// The runtime's WaitHandle.ToTimeoutMilliseconds, which Sleep(TimeSpan) and Join(TimeSpan) call first: the same
    /// exceptions (parameter "timeout", the value in whole milliseconds) for a timeout below -1 ms or above Int32.MaxValue ms.
    /// </summary>
    private static long ToTimeoutMilliseconds(TimeSpan timeout)
    {
        long ms = (long)timeout.TotalMilliseconds;
        ArgumentOutOfRangeException.ThrowIfLessThan(ms, -1, nameof(timeout));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ms, int.MaxValue, nameof(timeout));
        return ms;
    }
}
