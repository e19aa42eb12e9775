using System.Runtime.CompilerServices;

namespace Evergreen;

public sealed partial class Hub
{
    // ------------------------------------------------------------------------------------------
    // Thread.Interrupt of a green thread: a ThreadInterruptedException thrown into its green wait
    // ------------------------------------------------------------------------------------------
    // Plain .NET sets a flag on the thread and wakes its wait (Sleep, Join, a contended lock, Monitor.Wait, WaitHandle
    // waits) with ThreadInterruptedException; a thread that is running gets it at its next such wait. A green thread
    // never waits in the runtime, so the runtime's flag would only fire later in some unrelated native wait: the hub
    // keeps the flag instead (GreenThread.Interrupted) and every green wait (Block) delivers it, except waits plain .NET
    // does not interrupt either (GreenThread.NoInterrupt: socket readiness, Tpool calls, a thread start, the runtime's
    // trivial waits, Monitor.Wait re-taking its lock).

    // Threads adopted as green threads, by their Thread object (what Thread.Interrupt is called on).
    private static readonly ConditionalWeakTable<Thread, GreenThread> s_byThread = new();

    /// <summary>
    /// Interrupts <paramref name="thread"/> if it is an adopted green thread (from any thread) and returns true; returns
    /// false for any other thread, which the caller interrupts the runtime's way.
    /// </summary>
    internal static bool TryInterrupt(Thread thread)
    {
        if (!s_byThread.TryGetValue(thread, out var g)) return false;
        var hub = g.Hub;
        using var entry = Enter(out var self);
        if (self != null)
        {
            hub.Interrupt(g);
        }
        else
        {
            Interlocked.Increment(ref g.InterruptsPosted); // before the post: a signal this thread gives next must see it
            hub.Post(() =>
            {
                hub.Interrupt(g);
                Interlocked.Decrement(ref g.InterruptsPosted);
            });
        }

        return true;
    }

    /// <summary>True while <paramref name="thread"/> is an adopted green thread (any caller).</summary>
    internal static bool IsAdoptedThread(Thread thread) => s_byThread.TryGetValue(thread, out _);

    /// <summary>
    /// True while <paramref name="thread"/> is a green thread parked in a wait .NET calls WaitSleepJoin (sleep, lock,
    /// Monitor.Wait, handle, join, the green primitives), not runnable or running; any caller, read racily off the baton,
    /// as the thread dump does. A thread parked for a socket or fd, or for a call run on another OS thread (tpool, a thread
    /// start), is not: a plain thread blocked in that system call reads as Running.
    /// </summary>
    internal static bool IsParkedInManagedWait(Thread thread) =>
        s_byThread.TryGetValue(thread, out var g) && Volatile.Read(ref g.Blocked) &&
        (g.WaitKind & ~Internal.WaitKind.Timed) is not (Internal.WaitKind.Socket or Internal.WaitKind.Fd or Internal.WaitKind.Native);

    private void Interrupt(GreenThread g)
    {
        AssertBatonHolder();
        if (g.IsDead) return;
        g.Interrupted = true;
        if (g.Blocked && g.NoInterrupt == 0)
        {
            g.Blocked = false;
            g.WakeValue = null;
            _runq.PushBack(g);
        }
    }

    /// <summary>
    /// On a green thread, throws a pending interrupt now: for waits that plain .NET checks before they try (a WaitHandle
    /// wait throws even on a signalled handle), where the green wait would not block. Elsewhere, nothing.
    /// </summary>
    internal static void ThrowIfInterrupted()
    {
        using var entry = Enter(out var self);
        if (self != null) ThrowIfInterrupted(self);
    }

    private static void ThrowIfInterrupted(GreenThread self)
    {
        if (!self.Interrupted || self.NoInterrupt > 0) return;
        self.Interrupted = false;
        throw new ThreadInterruptedException();
    }
}
