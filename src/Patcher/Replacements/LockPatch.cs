using System.Reflection;
using System.Runtime.CompilerServices;
using Evergreen.Internal;
using Evergreen.IO.Internal;
using Evergreen.Patching.Internal;

namespace Evergreen.Patching.Replacements;

/// <summary>
/// Replacements for <see cref="Lock"/> (area "thread"): a green thread that finds a <see cref="Lock"/> taken parks
/// on the hub instead of spinning and sleeping in the kernel, so the other green threads (the owner among them)
/// keep running. Ownership stays the runtime's: the lock word, owner and recursion count are <see cref="Lock"/>'s
/// own, so a <see cref="Lock"/> shared by green and native threads stays exact. Native threads are unchanged.
/// </summary>
/// <remarks>
/// <para><b>Where it hooks.</b> <c>lock (lockObj)</c> compiles to <c>EnterScope()</c> ([AggressiveInlining]) over
/// <c>EnterAndGetCurrentThreadId()</c> and <c>Scope.Dispose</c> → <c>Exit(ThreadId)</c>; <c>Enter()</c>,
/// <c>TryEnter()</c> and <c>TryEnter(int|TimeSpan)</c> (→ <c>TryEnter_Outlined</c>) inline the same fast path
/// (<c>TryEnter_Inlined</c>), and every one of them calls <c>TryEnterSlow(int timeoutMs, ThreadId)</c>
/// ([NoInlining]) when the fast path fails. So one detour on <c>TryEnterSlow</c> catches every contended enter
/// through every entry point, while the uncontended fast path keeps its native cost. Both releases,
/// <c>Exit()</c> and <c>Exit(ThreadId)</c> ([NoInlining]; they inline <c>ExitImpl</c>, the only other code that
/// releases), are detoured to wake a green waiter after the original released.</para>
/// <para><b>ThreadId.</b> <c>Lock.ThreadId</c> is a single-<c>uint</c> struct holding the <b>OS</b> thread id
/// (gettid); it travels as a <c>uint</c>. The replacement never makes one up: it returns what the original
/// <c>TryEnterSlow</c> (called with timeout 0, which never blocks) returned when it took the lock, so
/// <see cref="Lock.IsHeldByCurrentThread"/> and the <c>Exit(ThreadId)</c> owner check stay the runtime's.</para>
/// <para><b>Retries pass ThreadId 0.</b> With an initialised id and timeout 0 the original <c>TryEnterSlow</c> only
/// handles recursion and returns 0 without touching the lock word (the caller's inlined fast path already tried), so
/// the green retries call it with an uninitialised id: the original then re-reads the OS thread id (same value) and
/// really tries (<c>State.TryLock</c>). Retrying with the caller's id caused the old hang of
/// <c>lock-type-green-and-native</c> (every wake re-parked, so the last release left the Lock free, all green waiters
/// parked and the hub idle in epoll): green-only scenarios hid it because each green contended on its thread's first
/// Lock use, when the caller's id is still 0. Applied after the Monitor table (<see cref="PatchTables.All"/>).</para>
/// </remarks>
internal static unsafe class LockPatch
{
    // What this file replaces (the patcher applies exactly these rows, after MonitorPatch's):
    private static readonly Type? s_threadId = typeof(Lock).GetNestedType("ThreadId", BindingFlags.NonPublic);

    public static readonly PatchRow TryEnterSlowRow = Row("TryEnterSlow", [typeof(int), s_threadId], nameof(TryEnterSlow));
    public static readonly PatchRow ExitWithIdRow = Row("Exit", [s_threadId], nameof(ExitWithId));
    public static readonly PatchRow ExitRow = Row("Exit", [], nameof(Exit));

    public static readonly PatchTable Table = new("thread",
        "`lock` on a System.Threading.Lock: every contended Enter/EnterScope/TryEnter reaches TryEnterSlow, where a green thread parks greenly; both Exits wake a green waiter (the uncontended path stays native)",
        [TryEnterSlowRow, ExitWithIdRow, ExitRow]);

    private static PatchRow Row(string name, Type?[] parameters, string replacement) =>
        PatchRow.Method(typeof(Lock), name, parameters, typeof(LockPatch), replacement);

    // A preemption point of schedule exploration after a Lock release. (An uncontended Lock enter is inlined native code
    // with no hook, so Lock acquires are points only when contended: through the park in EnterGreen.)
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Point(Lock lockObj)
    {
        if (Hub.SchedulePointWouldAct() && !t_inSlowPath && NativeScope.GreenCaller && SchedulePoints.CalledByProgram(2))
            Hub.SchedulePoint("Lock.Exit", WaitKey(lockObj));
    }

    /// <summary>Set while this OS thread is inside the green slow path (its own parking must never park again).</summary>
    [ThreadStatic] private static bool t_inSlowPath;

    /// <summary>
    /// The runtime's contended path. Returns the (OS) thread id on success, 0 when the timeout passed.
    /// <paramref name="currentThreadId"/> may be 0 (the thread's id not yet cached): the original initialises it.
    /// </summary>
    internal static uint TryEnterSlow(Lock lockObj, int timeoutMs, uint currentThreadId)
    {
        // timeout 0 (TryEnter()) never blocks; off green threads, or inside our own parking, the runtime's path is right.
        if (timeoutMs == 0 || t_inSlowPath || !NativeScope.GreenCaller) return ((delegate*<Lock, int, uint, uint>)TryEnterSlowRow.Original)(lockObj, timeoutMs, currentThreadId);
        return EnterGreen(lockObj, timeoutMs, currentThreadId);
    }

    private static uint EnterGreen(Lock lockObj, int timeoutMs, uint currentThreadId)
    {
        t_inSlowPath = true;
        try
        {
            // Recursion and a not-yet-cached thread id are handled by the original (with an id still 0 it also tries
            // the lock; with a cached id it does not: the retries below pass 0 for that).
            uint id = ((delegate*<Lock, int, uint, uint>)TryEnterSlowRow.Original)(lockObj, 0, currentThreadId);
            if (id != 0) return id;
            long ticks = timeoutMs < 0 ? -1 : Hub.ToTicks(TimeSpan.FromMilliseconds(timeoutMs));
            // Every retry passes an UNINITIALISED id (0): with an initialised id and timeout 0 the original only checks
            // recursion and returns 0 without ever trying the lock word (its caller's inlined fast path did that), so a
            // retry with the real id could never succeed. With 0 it re-reads the thread id (gettid, the same value) and
            // makes the real attempt (State.TryLock). Recursion was settled by the first call. The waiting itself is the
            // same as for lock(object): GreenMonitor's wait list for this object, woken by Released from our Exits.
            uint got = 0;
            return GreenMonitor.TryEnter(WaitKey(lockObj), _ => (got = ((delegate*<Lock, int, uint, uint>)TryEnterSlowRow.Original)(lockObj, 0, 0)) != 0, ticks) ? got : 0;
        }
        finally
        {
            t_inSlowPath = false;
        }
    }

    // The Lock as the key of GreenMonitor's wait table (compared by reference, never locked on: CS9216 warns about
    // `lock` on a Lock seen as object, which this is not).
#pragma warning disable CS9216
    private static object WaitKey(Lock lockObj) => lockObj;
#pragma warning restore CS9216

    internal static void ExitWithId(Lock lockObj, uint currentThreadId)
    {
        ((delegate*<Lock, uint, void>)ExitWithIdRow.Original)(lockObj, currentThreadId);
        if (GreenMonitor.AnyEnterWaiters && !lockObj.IsHeldByCurrentThread) GreenMonitor.Released(WaitKey(lockObj));
        if (ScheduleMode.Explorable) Point(lockObj);
    }

    internal static void Exit(Lock lockObj)
    {
        ((delegate*<Lock, void>)ExitRow.Original)(lockObj);
        if (GreenMonitor.AnyEnterWaiters && !lockObj.IsHeldByCurrentThread) GreenMonitor.Released(WaitKey(lockObj));
        if (ScheduleMode.Explorable) Point(lockObj);
    }
}
