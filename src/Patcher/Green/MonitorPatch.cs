using System.Reflection;
using Evergreen.IO.Threading;
using Evergreen.Patching.Internal;

namespace Evergreen.Patching.Green;

/// <summary>
/// Replacements for <c>lock</c> / <see cref="Monitor"/> (area "thread"). Optimised code inlines Monitor.Enter/Exit
/// and calls the runtime's native fast paths directly, so those native bodies are detoured (DESIGN.md §4: every
/// <c>lock</c>, compiled before or after, R2R framework code included). Lock ownership stays the runtime's; only
/// the waiting is green.
/// </summary>
internal static unsafe class MonitorPatch
{
    // What this file replaces:
    //   Monitor.TryEnter_FastPath(object)  (native, libcoreclr) → on contention from a green thread: park greenly
    //   Monitor.Exit_FastPath(object)      (native, libcoreclr) → after release: wake a green thread waiting for it
    //   Monitor.Wait(object, int)                               → green wait (releases and re-takes the lock)
    //   Monitor.Pulse(object) / PulseAll(object)                → also wake green waiters
    //   Monitor.TryEnter(object, int) / TryEnter(object, int, ref bool) → a contended wait with a timeout parks greenly
    public static readonly (MethodBase Target, string Replacement)[] Table =
    [
        (typeof(Monitor).GetMethod("TryEnter_FastPath", ThreadPatch.All, [typeof(object)])!, nameof(TryEnterFastPath)),
        (typeof(Monitor).GetMethod("Exit_FastPath", ThreadPatch.All, [typeof(object)])!, nameof(ExitFastPath)),
        (typeof(Monitor).GetMethod(nameof(Monitor.Wait), ThreadPatch.All, [typeof(object), typeof(int)])!, nameof(Wait)),
        (typeof(Monitor).GetMethod(nameof(Monitor.Pulse), ThreadPatch.All, [typeof(object)])!, nameof(Pulse)),
        (typeof(Monitor).GetMethod(nameof(Monitor.PulseAll), ThreadPatch.All, [typeof(object)])!, nameof(PulseAll)),
        (typeof(Monitor).GetMethod(nameof(Monitor.TryEnter), ThreadPatch.All, [typeof(object), typeof(int)])!, nameof(TryEnterTimeout)),
        (typeof(Monitor).GetMethod(nameof(Monitor.TryEnter), ThreadPatch.All, [typeof(object), typeof(int), typeof(bool).MakeByRefType()])!, nameof(TryEnterTimeoutRef)),
    ];

    internal static delegate*<object, bool> s_tryEnter;
    internal static delegate*<object, int> s_exit;
    internal static delegate*<object, int, bool> s_wait;
    internal static delegate*<object, void> s_pulse;
    internal static delegate*<object, void> s_pulseAll;
    internal static delegate*<object, int, bool> s_tryEnterTimeout;
    internal static delegate*<object, int, ref bool, void> s_tryEnterTimeoutRef;

    internal static bool TryEnterTimeout(object obj, int millisecondsTimeout)
    {
        if (PassThrough.Native || millisecondsTimeout == 0) return s_tryEnterTimeout(obj, millisecondsTimeout);
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentOutOfRangeException.ThrowIfLessThan(millisecondsTimeout, -1);
        if (TryEnterNonBlocking(obj)) return true;
        long ticks = millisecondsTimeout < 0 ? -1 : Hub.ToTicks(TimeSpan.FromMilliseconds(millisecondsTimeout));
        return GreenMonitor.TryEnter(obj, s_tryEnterNonBlocking, ticks);
    }

    internal static void TryEnterTimeoutRef(object obj, int millisecondsTimeout, ref bool lockTaken)
    {
        if (PassThrough.Native || millisecondsTimeout == 0) { s_tryEnterTimeoutRef(obj, millisecondsTimeout, ref lockTaken); return; }
        if (lockTaken) throw new ArgumentException("The lockTaken argument must be set to false before calling this method.", nameof(lockTaken));
        lockTaken = TryEnterTimeout(obj, millisecondsTimeout);
    }

    private static readonly Func<object, bool> s_tryEnterNonBlocking = TryEnterNonBlocking;
    private static readonly Action<object> s_exitOnce = Monitor.Exit;
    private static readonly Action<object> s_enterOnce = Monitor.Enter;

    internal static bool TryEnterFastPath(object obj)
    {
        if (s_tryEnter(obj)) return true;
        if (PassThrough.Native) return false; // the runtime's slow path: a kernel wait, right for native threads
        GreenMonitor.Enter(obj, s_tryEnterNonBlocking);
        return true;
    }

    private static bool TryEnterNonBlocking(object obj)
    {
        if (s_tryEnter(obj)) return true;
        // A header holding a hash code fails the thin-lock fast path even uncontended; the runtime's
        // TryEnter (timeout 0) handles it and never blocks. Pass through our own hook meanwhile.
        using (PassThrough.Enter()) return Monitor.TryEnter(obj);
    }

    internal static int ExitFastPath(object obj)
    {
        int action = s_exit(obj);
        if (GreenMonitor.AnyEnterWaiters && !Monitor.IsEntered(obj)) GreenMonitor.Released(obj);
        return action;
    }

    internal static bool Wait(object obj, int millisecondsTimeout)
    {
        if (PassThrough.Native) return s_wait(obj, millisecondsTimeout);
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentOutOfRangeException.ThrowIfLessThan(millisecondsTimeout, -1);
        return GreenMonitor.Wait(obj, millisecondsTimeout, s_exitOnce, s_enterOnce);
    }

    internal static void Pulse(object obj)
    {
        s_pulse(obj); // native waiters (validates ownership and throws SynchronizationLockException like the original)
        GreenMonitor.Pulse(obj, all: false);
    }

    internal static void PulseAll(object obj)
    {
        s_pulseAll(obj);
        GreenMonitor.Pulse(obj, all: true);
    }

    internal static void Bind(string replacement, nint original)
    {
        switch (replacement)
        {
            case nameof(TryEnterFastPath): s_tryEnter = (delegate*<object, bool>)original; break;
            case nameof(ExitFastPath): s_exit = (delegate*<object, int>)original; break;
            case nameof(Wait): s_wait = (delegate*<object, int, bool>)original; break;
            case nameof(Pulse): s_pulse = (delegate*<object, void>)original; break;
            case nameof(PulseAll): s_pulseAll = (delegate*<object, void>)original; break;
            case nameof(TryEnterTimeout): s_tryEnterTimeout = (delegate*<object, int, bool>)original; break;
            case nameof(TryEnterTimeoutRef): s_tryEnterTimeoutRef = (delegate*<object, int, ref bool, void>)original; break;
            default: throw new ArgumentException("unknown replacement " + replacement);
        }
    }
}
