using System.Reflection;
using Evergreen.IO;
using Evergreen.IO.Threading;
using Evergreen.Patching.Internal;

namespace Evergreen.Patching.Green;

/// <summary>
/// Replacements for <see cref="Thread"/> (area "thread") and <see cref="Thread.Sleep(int)"/> (area "time").
/// Every replacement calls the original on a thread that is not green.
/// </summary>
internal static unsafe class ThreadPatch
{
    // What this file replaces (eventlet's __patched__):
    //   thread: Thread.StartCore()  (every Start/UnsafeStart overload funnels here) → the new OS thread joins the hub
    //           Thread.Join() / Join(int) / Join(TimeSpan)                          → green wait (tpool for a native thread)
    //           Thread.Yield()                                                      → Green.Sleep(0)
    //   time:   Thread.Sleep(int) / Sleep(TimeSpan)                                 → Green.Sleep
    internal const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance;

    public static readonly (MethodBase Target, string Replacement)[] ThreadTable =
    [
        (typeof(Thread).GetMethod("StartCore", All, Type.EmptyTypes)!, nameof(StartCore)),
        (typeof(Thread).GetMethod(nameof(Thread.Join), All, Type.EmptyTypes)!, nameof(Join)),
        (typeof(Thread).GetMethod(nameof(Thread.Join), All, [typeof(int)])!, nameof(JoinMs)),
        (typeof(Thread).GetMethod(nameof(Thread.Join), All, [typeof(TimeSpan)])!, nameof(JoinSpan)),
        (typeof(Thread).GetMethod(nameof(Thread.Yield), All, Type.EmptyTypes)!, nameof(Yield)),
    ];

    public static readonly (MethodBase Target, string Replacement)[] TimeTable =
    [
        (typeof(Thread).GetMethod(nameof(Thread.Sleep), All, [typeof(int)])!, nameof(SleepMs)),
        (typeof(Thread).GetMethod(nameof(Thread.Sleep), All, [typeof(TimeSpan)])!, nameof(SleepSpan)),
    ];

    // Originals, set from the prepared detours before any is applied.
    internal static delegate*<Thread, void> s_startCore;
    internal static delegate*<Thread, void> s_join;
    internal static delegate*<Thread, int, bool> s_joinMs;
    internal static delegate*<Thread, TimeSpan, bool> s_joinSpan;
    internal static delegate*<bool> s_yield;
    internal static delegate*<int, void> s_sleepMs;
    internal static delegate*<TimeSpan, void> s_sleepSpan;

    internal static void StartCore(Thread thread)
    {
        if (PassThrough.Native || Hub.IsStartingNativeThread || IsRuntimeThread(thread)) { s_startCore(thread); return; }
        GreenThreadStart.Prepare(thread);
        try
        {
            s_startCore(thread);
        }
        catch
        {
            GreenThreadStart.StartFailed(thread);
            throw;
        }
    }

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
        if (PassThrough.Native) { s_join(thread); return; }
        JoinGreen(thread, -1);
    }

    internal static bool JoinMs(Thread thread, int millisecondsTimeout)
    {
        if (PassThrough.Native) return s_joinMs(thread, millisecondsTimeout);
        ArgumentOutOfRangeException.ThrowIfLessThan(millisecondsTimeout, -1);
        return JoinGreen(thread, millisecondsTimeout);
    }

    internal static bool JoinSpan(Thread thread, TimeSpan timeout)
    {
        if (PassThrough.Native) return s_joinSpan(thread, timeout);
        long ms = (long)timeout.TotalMilliseconds;
        if (ms < -1 || ms > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(timeout));
        return JoinGreen(thread, (int)ms);
    }

    private static bool JoinGreen(Thread thread, int ms)
    {
        if (thread == Thread.CurrentThread) throw new ThreadStateException("A thread cannot join itself.");
        if (GreenThreadStart.DoneEvent(thread) is { } done)
            return ms < 0 ? WaitForever(done) : done.Wait(TimeSpan.FromMilliseconds(ms));
        // A native thread: wait for it on a tpool thread so the hub keeps running.
        var t = thread;
        return Tpool.Execute(() => { using (PassThrough.Enter()) return s_joinMs(t, ms); });
    }

    private static bool WaitForever(Event done)
    {
        done.Wait();
        return true;
    }

    internal static bool Yield()
    {
        if (PassThrough.Native) return s_yield();
        Evergreen.Green.Sleep(0);
        return true;
    }

    internal static void SleepMs(int millisecondsTimeout)
    {
        if (PassThrough.Native) { s_sleepMs(millisecondsTimeout); return; }
        Evergreen.Green.Sleep(millisecondsTimeout);
    }

    internal static void SleepSpan(TimeSpan timeout)
    {
        if (PassThrough.Native)
        {
            // Not through s_sleepSpan: Sleep(TimeSpan)'s body opens with a call through a ReadyToRun import cell, which
            // the trampoline emulates; while that cell is unbound, the runtime's delay-load stub decodes its call site
            // from the return address, i.e. from the bytes the detour overwrote, and passed garbage (docs/detours.md).
            // The original does exactly this conversion (WaitHandle.ToTimeoutMilliseconds) and calls Sleep(int).
            long ms = (long)timeout.TotalMilliseconds;
            if (ms < -1 || ms > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The timeout must be -1 ms (infinite) or between 0 and Int32.MaxValue ms.");
            s_sleepMs((int)ms);
            return;
        }
        Evergreen.Green.Sleep(timeout);
    }

    private static void SleepNative(TimeSpan t)
    {
        using (PassThrough.Enter()) SleepSpan(t);
    }

    internal static void Bind(string replacement, nint original)
    {
        switch (replacement)
        {
            case nameof(StartCore): s_startCore = (delegate*<Thread, void>)original; break;
            case nameof(Join): s_join = (delegate*<Thread, void>)original; break;
            case nameof(JoinMs): s_joinMs = (delegate*<Thread, int, bool>)original; break;
            case nameof(JoinSpan): s_joinSpan = (delegate*<Thread, TimeSpan, bool>)original; break;
            case nameof(Yield): s_yield = (delegate*<bool>)original; break;
            case nameof(SleepMs):
                s_sleepMs = (delegate*<int, void>)original;
                Evergreen.Green.OriginalSleep = SleepNative;
                break;
            case nameof(SleepSpan): s_sleepSpan = (delegate*<TimeSpan, void>)original; break;
            default: throw new ArgumentException("unknown replacement " + replacement);
        }
    }
}
