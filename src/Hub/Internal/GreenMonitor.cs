using System.Runtime.CompilerServices;

namespace Evergreen.Internal;

/// <summary>
/// Green waiting for <c>lock</c>/<see cref="Monitor"/>: where a native thread would sleep in the kernel for a
/// contended lock, or in <see cref="Monitor.Wait(object, int)"/>, a green thread parks on the hub so the
/// others keep running. It owns no lock state: ownership stays the runtime's (the thin lock / sync block),
/// so a lock shared by a green and a native thread stays correct. Its callers are replacements of the runtime's
/// lock waits (Monitor, Lock); it never calls back into them while holding hub state.
/// </summary>
internal static class GreenMonitor
{
    // Per object: green threads waiting for the lock to be released, and green threads in Monitor.Wait.
    // Touched only under the baton (releases by native threads are posted to the hub).
    private static readonly Dictionary<object, WaitList> s_enterWaiters = new(ReferenceEqualityComparer.Instance);
    private static readonly Dictionary<object, WaitList> s_condWaiters = new(ReferenceEqualityComparer.Instance);

    /// <summary>Green threads waiting to enter any lock (read lock-free by every Exit to stay cheap).</summary>
    private static int s_enterWaiting;

    /// <summary>True when some green thread waits for a lock, i.e. an Exit must signal.</summary>
    public static bool AnyEnterWaiters => Volatile.Read(ref s_enterWaiting) > 0;

    /// <summary>
    /// Native threads inside the runtime's Monitor.Wait, in all and per object. The runtime releases the lock inside
    /// Wait, where no Exit hook runs, and no hook runs between that release and the wait, so no wake can be timed to it:
    /// while one is in progress on an object, green threads waiting for that object's lock also look again on a backstop
    /// (1 ms, doubling to 50 ms). Without it a green thread blocked on a lock a pool thread gave up in Monitor.Wait slept
    /// until that Wait timed out (for ever, untimed), while the pool thread waited for the green thread's Pulse
    /// (diff-p1-pool-wait-releases-lock). The cost: a green thread blocked on a lock that a native thread waits on wakes to
    /// try again, about 20 times a second once the backstop has grown; waiters of other locks pay one counter read.
    /// </summary>
    private static int s_nativeCondWaits;

    private static readonly ConditionalWeakTable<object, StrongBox<int>> s_nativeCondWaitsOn = new();

    private static readonly long FirstBackstopTicks = Hub.ToTicks(TimeSpan.FromMilliseconds(1));
    private static readonly long MaxBackstopTicks = Hub.ToTicks(TimeSpan.FromMilliseconds(50));

    /// <summary>
    /// A native thread is about to wait in the runtime's Monitor.Wait on <paramref name="obj"/>; pair with
    /// <see cref="NativeWaitEnded"/>. Counted before the wake it posts, so a green waiter woken by it (or parking after it)
    /// sees the count and takes the backstop.
    /// </summary>
    public static void NativeWaitBegins(object obj)
    {
        Interlocked.Increment(ref s_nativeCondWaitsOn.GetValue(obj, static _ => new StrongBox<int>()).Value);
        Interlocked.Increment(ref s_nativeCondWaits);
        if (AnyEnterWaiters) Released(obj); // the lock is released after this; the waiter's retry falls on the backstop
    }

    /// <summary>The native thread's Monitor.Wait on <paramref name="obj"/> has returned (and re-acquired the lock).</summary>
    public static void NativeWaitEnded(object obj)
    {
        Interlocked.Decrement(ref s_nativeCondWaits);
        if (s_nativeCondWaitsOn.TryGetValue(obj, out var count)) Interlocked.Decrement(ref count.Value);
    }

    private static bool NativeThreadWaitsOn(object obj) =>
        Volatile.Read(ref s_nativeCondWaits) > 0 && s_nativeCondWaitsOn.TryGetValue(obj, out var count) && Volatile.Read(ref count.Value) > 0;

    /// <summary>
    /// Acquires <paramref name="obj"/>'s lock for the calling green thread, parking greenly while another thread holds
    /// it. <paramref name="tryEnter"/> is a non-blocking attempt (the original fast path, then the runtime's
    /// non-blocking TryEnter for objects whose header cannot take a thin lock).
    /// </summary>
    public static void Enter(object obj, Func<object, bool> tryEnter) => TryEnter(obj, tryEnter, -1);

    /// <summary>
    /// Like <see cref="Enter"/> but gives up after <paramref name="timeoutTicks"/> (Stopwatch ticks; negative: forever):
    /// the green <see cref="Monitor.TryEnter(object, int)"/>, and the green wait of a contended <see cref="Lock"/>
    /// (any object whose releases call <see cref="Released"/> can wait here).
    /// </summary>
    public static bool TryEnter(object obj, Func<object, bool> tryEnter, long timeoutTicks)
    {
        var hub = Hub.Instance;
        using var entry = hub.EnterGreen("GreenMonitor.Enter", out var self);
        long deadline = timeoutTicks < 0 ? -1 : Hub.Now + timeoutTicks;
        long since = Environment.TickCount64;
        // Count ourselves as a waiter BEFORE the last attempt: an Exit by a native thread after this point
        // posts a wake, so a release between our failed attempt and our park cannot be lost.
        Interlocked.Increment(ref s_enterWaiting);
        hub.BeginExternalWait(); // the owner may be a native thread the hub cannot see
        long backstop = FirstBackstopTicks;
        try
        {
            while (!tryEnter(obj))
            {
                long left = -1;
                if (deadline >= 0)
                {
                    left = deadline - Hub.Now;
                    if (left <= 0) return false;
                }

                if (NativeThreadWaitsOn(obj))
                {
                    left = left < 0 ? backstop : Math.Min(left, backstop);
                    backstop = Math.Min(backstop * 2, MaxBackstopTicks);
                }
                // Look the list up on every round: a thread that got the lock may have removed an emptied list
                // meanwhile, and a release wakes only waiters of the list in the table (a stale list loses wakes).
                try
                {
                    self.NoteWait(deadline < 0 ? WaitKind.Lock : WaitKind.Lock | WaitKind.Timed, obj, null, since); // may throw: a deadlock
                    ListFor(s_enterWaiters, obj).Wait(hub, self, left, out _);
                }
                catch
                {
                    // Killed or timed out by a GreenTimeout scope, perhaps just after a release chose us: pass the wake on,
                    // or the next waiter stays parked while the lock is free (a spurious wake costs one more attempt).
                    WakeEnterer(obj);
                    throw;
                }
            }
            return true;
        }
        finally
        {
            hub.EndExternalWait();
            Interlocked.Decrement(ref s_enterWaiting);
            RemoveIfEmpty(s_enterWaiters, obj);
        }
    }

    private static WaitList ListFor(Dictionary<object, WaitList> table, object obj)
    {
        if (!table.TryGetValue(obj, out var list))
        {
            list = new WaitList();
            table[obj] = list;
        }
        return list;
    }

    private static void RemoveIfEmpty(Dictionary<object, WaitList> table, object obj)
    {
        if (table.TryGetValue(obj, out var list) && list.Count == 0) table.Remove(obj);
    }

    /// <summary>Called after every release of <paramref name="obj"/> while green threads wait for some lock; any thread.</summary>
    public static void Released(object obj)
    {
        using var entry = Hub.Enter(out var self);
        if (self != null) WakeEnterer(obj);
        else Hub.Instance.Post(() => WakeEnterer(obj));
    }

    private static void WakeEnterer(object obj)
    {
        if (s_enterWaiters.TryGetValue(obj, out var list)) list.WakeOne(Hub.Instance, obj);
    }

    /// <summary>
    /// Green <see cref="Monitor.Wait(object, int)"/>: releases the lock completely (all recursion levels), waits for
    /// a pulse or the timeout, re-acquires it the same number of times. <paramref name="exitOnce"/> releases one level.
    /// </summary>
    public static bool Wait(object obj, int millisecondsTimeout, Action<object> exitOnce, Action<object> enterOnce)
    {
        if (!Monitor.IsEntered(obj)) throw new SynchronizationLockException("Object synchronization method was called from an unsynchronized block of code.");
        var hub = Hub.Instance;
        using var entry = hub.EnterGreen("GreenMonitor.Wait", out var self);
        var list = ListFor(s_condWaiters, obj);
        int depth = 0;
        while (Monitor.IsEntered(obj)) { exitOnce(obj); depth++; }
        bool signaled;
        hub.BeginExternalWait(); // a native thread may pulse
        try
        {
            self.NoteWait(millisecondsTimeout < 0 ? WaitKind.Condition : WaitKind.Condition | WaitKind.Timed, obj, "Monitor.Wait");
            signaled = list.Wait(hub, self, millisecondsTimeout < 0 ? -1 : Hub.ToTicks(TimeSpan.FromMilliseconds(millisecondsTimeout)), out _);
        }
        finally
        {
            hub.EndExternalWait();
            RemoveIfEmpty(s_condWaiters, obj);
            // Re-taking the lock is not interruptible (an interrupt meanwhile stays pending): .NET's Monitor.Wait owns the
            // lock again before it throws ThreadInterruptedException, and the caller's `lock` will release it.
            self.NoInterrupt++;
            try
            {
                for (int i = 0; i < depth; i++) enterOnce(obj);
            }
            finally
            {
                self.NoInterrupt--;
            }
        }
        return signaled;
    }

    /// <summary>Wakes one (or every) green thread in <see cref="Wait"/> on <paramref name="obj"/>; any thread.</summary>
    public static void Pulse(object obj, bool all)
    {
        using var entry = Hub.Enter(out var self);
        if (self != null) PulseCore(obj, all);
        else Hub.Instance.Post(() => PulseCore(obj, all));
    }

    private static void PulseCore(object obj, bool all)
    {
        if (!s_condWaiters.TryGetValue(obj, out var list)) return;
        if (all) list.WakeAll(Hub.Instance, obj);
        else list.WakeOne(Hub.Instance, obj);
    }
}
