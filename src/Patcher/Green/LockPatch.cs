using System.Diagnostics;
using System.Reflection;
using Evergreen.Internal;
using Evergreen.Patching.Internal;

namespace Evergreen.Patching.Green;

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
/// Lock use, when the caller's id is still 0. Registered in <c>Patcher.Apply</c> after the Monitor table.</para>
/// </remarks>
internal static unsafe class LockPatch
{
    // What this file replaces:
    //   Lock.TryEnterSlow(int, ThreadId)  (every contended Enter/EnterScope/lock/TryEnter) → green thread: park greenly
    //   Lock.Exit(ThreadId) / Lock.Exit()                                                → after release: wake a green waiter
    private static readonly Type? s_threadId = typeof(Lock).GetNestedType("ThreadId", BindingFlags.NonPublic);

    public static readonly (MethodBase Target, string Replacement)[] Table =
    [
        (Find("TryEnterSlow", typeof(int), s_threadId)!, nameof(TryEnterSlow)),
        (Find("Exit", s_threadId)!, nameof(ExitWithId)),
        (Find("Exit")!, nameof(Exit)),
    ];

    internal static delegate*<Lock, int, uint, uint> s_tryEnterSlow;
    internal static delegate*<Lock, uint, void> s_exitWithId;
    internal static delegate*<Lock, void> s_exit;

    // Per Lock: green threads waiting for it. Touched only under the baton (releases by native threads are posted).
    private static readonly Dictionary<Lock, WaitList> s_waiters = new(ReferenceEqualityComparer.Instance);

    /// <summary>Green threads waiting for any Lock (read lock-free by every Exit to stay cheap).</summary>
    private static int s_waiting;

    /// <summary>The value a woken waiter receives (it only means "try again").</summary>
    private static readonly object s_released = new();

    /// <summary>Set while this OS thread is inside the green slow path (its own parking must never park again).</summary>
    [ThreadStatic] private static bool t_inSlowPath;

    private static MethodInfo? Find(string name, params Type?[] parameters) =>
        parameters.Any(p => p == null) ? null : typeof(Lock).GetMethod(name, ThreadPatch.All, parameters!);

    /// <summary>
    /// The runtime's contended path. Returns the (OS) thread id on success, 0 when the timeout passed.
    /// <paramref name="currentThreadId"/> may be 0 (the thread's id not yet cached): the original initialises it.
    /// </summary>
    internal static uint TryEnterSlow(Lock lockObj, int timeoutMs, uint currentThreadId)
    {
        // timeout 0 (TryEnter()) never blocks; off green threads, or inside our own parking, the runtime's path is right.
        if (timeoutMs == 0 || t_inSlowPath || PassThrough.Native) return s_tryEnterSlow(lockObj, timeoutMs, currentThreadId);
        return EnterGreen(lockObj, timeoutMs, currentThreadId);
    }

    private static uint EnterGreen(Lock lockObj, int timeoutMs, uint currentThreadId)
    {
        t_inSlowPath = true;
        try
        {
            // Recursion and a not-yet-cached thread id are handled by the original (with an id still 0 it also tries
            // the lock; with a cached id it does not: the retries below pass 0 for that).
            uint id = s_tryEnterSlow(lockObj, 0, currentThreadId);
            if (id != 0) return id;
            var hub = Hub.Instance;
            var self = hub.RequireCurrent("Lock.Enter");
            long deadline = timeoutMs < 0 ? -1 : Stopwatch.GetTimestamp() + Hub.ToTicks(TimeSpan.FromMilliseconds(timeoutMs));
            // Count ourselves as a waiter BEFORE the last attempt: an Exit after this point (by any thread) wakes a
            // green waiter, so a release between our failed attempt and our park cannot be lost.
            Interlocked.Increment(ref s_waiting);
            hub.BeginExternalWait(); // the owner may be a native thread the hub cannot see
            try
            {
                // Every retry passes an UNINITIALISED id (0): with an initialised id and timeout 0 the original only
                // checks recursion and returns 0 without ever trying the lock word (its caller's inlined fast path did
                // that), so a retry with the real id could never succeed. With 0 it re-reads the thread id (gettid,
                // the same value) and makes the real attempt (State.TryLock). Recursion was settled by the first call.
                while ((id = s_tryEnterSlow(lockObj, 0, 0)) == 0)
                {
                    long left = -1;
                    if (deadline >= 0)
                    {
                        left = deadline - Stopwatch.GetTimestamp();
                        if (left <= 0) return 0;
                    }
                    // Look the list up on every round: a woken waiter is unlinked, and when the last linked one leaves
                    // the list is dropped; parking on a list held from an earlier round would never be woken again.
                    if (!s_waiters.TryGetValue(lockObj, out var list))
                    {
                        list = new WaitList();
                        s_waiters[lockObj] = list;
                    }
                    try
                    {
                        list.Wait(hub, self, left, out _);
                    }
                    catch
                    {
                        // Killed or timed out by a Timeout scope, perhaps just after a release chose us: pass the
                        // wake on (a spurious wake only costs the next waiter one more attempt).
                        WakeOne(lockObj);
                        throw;
                    }
                    finally
                    {
                        if (list.Count == 0 && s_waiters.TryGetValue(lockObj, out var current) && ReferenceEquals(current, list))
                            s_waiters.Remove(lockObj);
                    }
                }
                return id;
            }
            finally
            {
                hub.EndExternalWait();
                Interlocked.Decrement(ref s_waiting);
            }
        }
        finally
        {
            t_inSlowPath = false;
        }
    }

    internal static void ExitWithId(Lock lockObj, uint currentThreadId)
    {
        s_exitWithId(lockObj, currentThreadId);
        if (Volatile.Read(ref s_waiting) > 0 && !lockObj.IsHeldByCurrentThread) Released(lockObj);
    }

    internal static void Exit(Lock lockObj)
    {
        s_exit(lockObj);
        if (Volatile.Read(ref s_waiting) > 0 && !lockObj.IsHeldByCurrentThread) Released(lockObj);
    }

    private static void Released(Lock lockObj)
    {
        if (Hub.IsGreenThread) WakeOne(lockObj);
        else Hub.Instance.Post(() => WakeOne(lockObj));
    }

    private static void WakeOne(Lock lockObj)
    {
        if (s_waiters.TryGetValue(lockObj, out var list)) list.WakeOne(Hub.Instance, s_released);
    }

    internal static void Bind(string replacement, nint original)
    {
        switch (replacement)
        {
            case nameof(TryEnterSlow): s_tryEnterSlow = (delegate*<Lock, int, uint, uint>)original; break;
            case nameof(ExitWithId): s_exitWithId = (delegate*<Lock, uint, void>)original; break;
            case nameof(Exit): s_exit = (delegate*<Lock, void>)original; break;
            default: throw new ArgumentException("unknown replacement " + replacement);
        }
    }
}
