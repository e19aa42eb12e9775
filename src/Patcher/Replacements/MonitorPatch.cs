using System.Runtime.CompilerServices;
using Evergreen.Internal;
using Evergreen.IO.Internal;
using Evergreen.Patching.Internal;

namespace Evergreen.Patching.Replacements;

/// <summary>
/// Replacements for <c>lock</c> / <see cref="Monitor"/> (area "thread"). Optimised code inlines Monitor.Enter/Exit
/// and calls the runtime's native fast paths directly, so those native bodies are detoured (DESIGN.md §4: every
/// <c>lock</c>, compiled before or after, R2R framework code included). Lock ownership stays the runtime's; only
/// the waiting is green.
/// </summary>
internal static unsafe class MonitorPatch
{
    // What this file replaces (the patcher applies exactly these rows, after ThreadPatch's):
    public static readonly PatchRow TryEnterFastPathRow = Row("TryEnter_FastPath", [typeof(object)], nameof(TryEnterFastPath));
    public static readonly PatchRow ExitFastPathRow = Row("Exit_FastPath", [typeof(object)], nameof(ExitFastPath));
    public static readonly PatchRow WaitRow = Row(nameof(Monitor.Wait), [typeof(object), typeof(int)], nameof(Wait));
    public static readonly PatchRow PulseRow = Row(nameof(Monitor.Pulse), [typeof(object)], nameof(Pulse));
    public static readonly PatchRow PulseAllRow = Row(nameof(Monitor.PulseAll), [typeof(object)], nameof(PulseAll));
    public static readonly PatchRow TryEnterTimeoutRow = Row(nameof(Monitor.TryEnter), [typeof(object), typeof(int)], nameof(TryEnterTimeout));
    public static readonly PatchRow TryEnterTimeoutRefRow = Row(nameof(Monitor.TryEnter), [typeof(object), typeof(int), typeof(bool).MakeByRefType()], nameof(TryEnterTimeoutRef));

    public static readonly PatchTable Table = new("thread",
        "`lock`/Monitor.Enter/TryEnter/Exit through the runtime's native fast paths (TryEnter_FastPath, Exit_FastPath in libcoreclr): a contended green enter parks greenly, a release wakes a green waiter; TryEnter with a timeout and Wait park greenly; Pulse/PulseAll also wake green waiters",
        [TryEnterFastPathRow, ExitFastPathRow, WaitRow, PulseRow, PulseAllRow, TryEnterTimeoutRow, TryEnterTimeoutRefRow]);

    private static PatchRow Row(string name, Type[] parameters, string replacement) =>
        PatchRow.Method(typeof(Monitor), name, parameters, typeof(MonitorPatch), replacement);

    internal static bool TryEnterTimeout(object obj, int millisecondsTimeout)
    {
        if (ScheduleMode.Explorable) Point("Monitor.TryEnter", obj);
        // A null object or a timeout below -1 is the original's error (it throws, with its own parameter names, never waits).
        if (!NativeScope.GreenCaller || millisecondsTimeout <= 0 && millisecondsTimeout != -1 || obj is null)
        {
            return ((delegate*<object, int, bool>)TryEnterTimeoutRow.Original)(obj!, millisecondsTimeout);
        }

        if (TryEnterNonBlocking(obj)) return true;
        long ticks = millisecondsTimeout < 0 ? -1 : Hub.ToTicks(TimeSpan.FromMilliseconds(millisecondsTimeout));
        return GreenMonitor.TryEnter(obj, s_tryEnterNonBlocking, ticks);
    }

    internal static void TryEnterTimeoutRef(object obj, int millisecondsTimeout, ref bool lockTaken)
    {
        // Argument errors (lockTaken already true, a null object, a timeout below -1) are the original's: it throws them.
        if (!NativeScope.GreenCaller || millisecondsTimeout <= 0 && millisecondsTimeout != -1 || lockTaken || obj is null)
        {
            ((delegate*<object, int, ref bool, void>)TryEnterTimeoutRefRow.Original)(obj!, millisecondsTimeout, ref lockTaken);
            return;
        }

        lockTaken = TryEnterTimeout(obj, millisecondsTimeout);
    }

    private static readonly Func<object, bool> s_tryEnterNonBlocking = TryEnterNonBlocking;
    private static readonly Action<object> s_exitOnce = Monitor.Exit;
    private static readonly Action<object> s_enterOnce = Monitor.Enter;

    internal static bool TryEnterFastPath(object obj)
    {
        if (ScheduleMode.Explorable) Point("Monitor.Enter", obj, programOnly: true);
        if (((delegate*<object, bool>)TryEnterFastPathRow.Original)(obj)) return true;
        if (!NativeScope.GreenCaller) return false; // the runtime's slow path: a kernel wait, right for native threads
        GreenMonitor.Enter(obj, s_tryEnterNonBlocking);
        return true;
    }

    private static bool TryEnterNonBlocking(object obj)
    {
        if (((delegate*<object, bool>)TryEnterFastPathRow.Original)(obj)) return true;
        // A header holding a hash code fails the thin-lock fast path even uncontended; the runtime's
        // TryEnter (timeout 0) handles it and never blocks. Pass through our own hook meanwhile.
        using (NativeScope.Enter()) return Monitor.TryEnter(obj);
    }

    internal static int ExitFastPath(object obj)
    {
        int action = ((delegate*<object, int>)ExitFastPathRow.Original)(obj);
        if (GreenMonitor.AnyEnterWaiters && !Monitor.IsEntered(obj)) GreenMonitor.Released(obj);
        // After the release, and only when the runtime has nothing left to do for it (Exit_Slowpath signals native waiters).
        if (ScheduleMode.Explorable && action == 0) Point("Monitor.Exit", obj, programOnly: true);
        return action;
    }

    internal static bool Wait(object obj, int millisecondsTimeout)
    {
        if (!NativeScope.GreenCaller) return WaitNative(obj, millisecondsTimeout);
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentOutOfRangeException.ThrowIfLessThan(millisecondsTimeout, -1);
        if (!ScheduleMode.Explorable) return GreenMonitor.Wait(obj, millisecondsTimeout, s_exitOnce, s_enterOnce);
        Point("Monitor.Wait", obj);
        // Release, enqueue and re-entry are one operation in plain .NET: no point between them (a switch after the
        // release and before the enqueue would lose a Pulse that plain .NET never loses).
        Hub.SuppressSchedulePoints();
        try
        {
            return GreenMonitor.Wait(obj, millisecondsTimeout, s_exitOnce, s_enterOnce);
        }
        finally
        {
            Hub.ResumeSchedulePoints();
        }
    }

    /// <summary>The runtime's Wait on a native thread; it releases the lock where no hook sees it (see GreenMonitor.NativeWaitBegins).</summary>
    private static bool WaitNative(object obj, int millisecondsTimeout)
    {
        if (obj is null) return ((delegate*<object, int, bool>)WaitRow.Original)(obj!, millisecondsTimeout); // its ArgumentNullException
        GreenMonitor.NativeWaitBegins(obj);
        try
        {
            return ((delegate*<object, int, bool>)WaitRow.Original)(obj, millisecondsTimeout);
        }
        finally
        {
            GreenMonitor.NativeWaitEnded(obj);
        }
    }

    /// <summary>
    /// A preemption point of schedule exploration (<see cref="Hub.SchedulePoint"/>), for green callers only. Enter and Exit
    /// are points only where the program itself takes the lock (<see cref="SchedulePoints.CalledByProgram"/>); Wait, Pulse
    /// and TryEnter with a timeout wherever they are called.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Point(string operation, object obj, bool programOnly = false)
    {
        if (Hub.SchedulePointWouldAct() && NativeScope.GreenCaller && (!programOnly || SchedulePoints.CalledByProgram(2)))
            Hub.SchedulePoint(operation, obj);
    }

    internal static void Pulse(object obj)
    {
        if (ScheduleMode.Explorable) Point("Monitor.Pulse", obj);
        ((delegate*<object, void>)PulseRow.Original)(obj); // native waiters (validates ownership and throws SynchronizationLockException like the original)
        GreenMonitor.Pulse(obj, all: false);
    }

    internal static void PulseAll(object obj)
    {
        if (ScheduleMode.Explorable) Point("Monitor.PulseAll", obj);
        ((delegate*<object, void>)PulseAllRow.Original)(obj);
        GreenMonitor.Pulse(obj, all: true);
    }
}
