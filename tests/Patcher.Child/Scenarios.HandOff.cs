using System.Runtime.CompilerServices;

// A signal given to threads already blocked in a WaitHandle wait is theirs, whoever waits how and whoever signals:
// WaitAny/WaitAll waiters and a thread-pool signaller (diff-wh-*, dispatched from RunDifferential's default branch).
// Every scenario starts three waiters, lets them block, then signals; plain .NET releases exactly the waiters the
// signal is for, even when the signaller resets the event or tries to take the signal back at once.
internal static partial class Scenarios
{
    private static bool RunHandOff(string name)
    {
        switch (name)
        {
            case "diff-wh-waitany-green-signal": DiffWhWaitAnyGreenSignal(); return true;
            case "diff-wh-waitall-green-signal": DiffWhWaitAllGreenSignal(); return true;
            case "diff-wh-pool-set-reset": DiffWhPoolSetReset(); return true;
            case "diff-wh-pool-auto-semaphore": DiffWhPoolAutoSemaphore(); return true;
            case "diff-wh-pool-waitany-waitall": DiffWhPoolWaitAnyWaitAll(); return true;
            case "diff-wh-pool-set-then-interrupt": DiffWhPoolSetThenInterrupt(); return true;
            case "diff-wh-pool-interrupt-then-pulse": DiffWhPoolInterruptThenPulse(); return true;
            default: return false;
        }
    }

    /// <summary>
    /// Starts <paramref name="count"/> background threads that each run <paramref name="wait"/> (a blocking wait) and then
    /// count themselves in <paramref name="released"/>, and gives them time to block.
    /// </summary>
    private static List<Thread> WhBlocked(int count, Func<int> wait, StrongBox<int> released, List<int>? results = null)
    {
        var waiters = Enumerable.Range(0, count).Select(_ => new Thread(() =>
        {
            int result = wait();
            if (results != null)
            {
                lock (results) results.Add(result);
            }
            Interlocked.Increment(ref released.Value);
        })
        { IsBackground = true }).ToList();
        waiters.ForEach(t => t.Start());
        while (waiters.Any(t => (t.ThreadState & System.Threading.ThreadState.WaitSleepJoin) == 0)) Thread.Sleep(1); // as P1BlockedWaiters
        return waiters;
    }

    /// <summary>How many of <paramref name="waiters"/> end within 5 s (all of them, where the signal was for all).</summary>
    private static int WhJoined(List<Thread> waiters) => waiters.Count(t => t.Join(5_000));

    /// <summary>
    /// How many waiters counted themselves released once <paramref name="expected"/> of them have (bounded at 5 s), and a
    /// moment more for any that should not have been.
    /// </summary>
    private static int WhReleased(StrongBox<int> released, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (Volatile.Read(ref released.Value) < expected && DateTime.UtcNow < deadline) Thread.Sleep(1);
        Thread.Sleep(100);
        return Volatile.Read(ref released.Value);
    }

    private static string WhResults(List<int> results)
    {
        lock (results) return string.Join(",", results.Order());
    }

    /// <summary>WaitAny waiters, a green signaller: Set+Reset of a ManualResetEvent releases all; an AutoResetEvent's Set is not taken back by the setter's WaitOne(0).</summary>
    private static void DiffWhWaitAnyGreenSignal()
    {
        using var never = new ManualResetEvent(false);
        using (var manual = new ManualResetEvent(false))
        {
            var results = new List<int>();
            var waiters = WhBlocked(3, () => WaitHandle.WaitAny([never, manual]), new StrongBox<int>(), results);
            manual.Set();
            manual.Reset();
            Observe($"WaitAny(never, ManualResetEvent), Set+Reset: released {WhJoined(waiters)} of 3, indices {WhResults(results)}");
        }

        using (var auto = new AutoResetEvent(false))
        {
            var released = new StrongBox<int>();
            WhBlocked(3, () => WaitHandle.WaitAny([never, auto]), released);
            auto.Set();
            Observe($"WaitAny(never, AutoResetEvent), Set, then the setter's WaitOne(0): {auto.WaitOne(0)}; released {WhReleased(released, 1)} of 3");
        }
    }

    /// <summary>WaitAll waiters whose other handles are already set, a green signaller: as <see cref="DiffWhWaitAnyGreenSignal"/>.</summary>
    private static void DiffWhWaitAllGreenSignal()
    {
        using var a = new ManualResetEvent(true);
        using var b = new ManualResetEvent(true);
        using (var manual = new ManualResetEvent(false))
        {
            var waiters = WhBlocked(3, () => WaitHandle.WaitAll([a, manual, b]) ? 1 : 0, new StrongBox<int>());
            manual.Set();
            manual.Reset();
            Observe($"WaitAll(set, ManualResetEvent, set), Set+Reset: released {WhJoined(waiters)} of 3");
        }

        using (var auto = new AutoResetEvent(false))
        {
            var released = new StrongBox<int>();
            WhBlocked(3, () => WaitHandle.WaitAll([a, b, auto]) ? 1 : 0, released);
            auto.Set();
            Observe($"WaitAll(set, set, AutoResetEvent), Set, then the setter's WaitOne(0): {auto.WaitOne(0)}; released {WhReleased(released, 1)} of 3");
        }
    }

    /// <summary>Single-handle waiters, a thread-pool signaller: Set+Reset of a ManualResetEvent releases all three.</summary>
    private static void DiffWhPoolSetReset()
    {
        using var manual = new ManualResetEvent(false);
        using var signalled = new ManualResetEvent(false);
        var waiters = WhBlocked(3, () => manual.WaitOne() ? 1 : 0, new StrongBox<int>());
        ThreadPool.QueueUserWorkItem(_ =>
        {
            manual.Set();
            manual.Reset();
            signalled.Set();
        });
        signalled.WaitOne();
        Observe($"ManualResetEvent Set+Reset from the pool: released {WhJoined(waiters)} of 3");
    }

    /// <summary>
    /// Single-handle waiters, a thread-pool signaller: an AutoResetEvent's Set and a Semaphore's Release(2) go to that
    /// many blocked waiters, not to the signaller's own WaitOne(0) at once after, and none is lost.
    /// </summary>
    private static void DiffWhPoolAutoSemaphore()
    {
        using (var auto = new AutoResetEvent(false))
        {
            var released = new StrongBox<int>();
            WhBlocked(3, () => auto.WaitOne() ? 1 : 0, released);
            bool took = true;
            using var done = new ManualResetEvent(false);
            ThreadPool.QueueUserWorkItem(_ =>
            {
                auto.Set();
                took = auto.WaitOne(0);
                done.Set();
            });
            done.WaitOne();
            Observe($"AutoResetEvent Set from the pool, then its WaitOne(0): {took}; released {WhReleased(released, 1)} of 3");
        }

        using (var sem = new Semaphore(0, 10))
        {
            var released = new StrongBox<int>();
            WhBlocked(3, () => sem.WaitOne() ? 1 : 0, released);
            bool took = true;
            using var done = new ManualResetEvent(false);
            ThreadPool.QueueUserWorkItem(_ =>
            {
                sem.Release(2);
                took = sem.WaitOne(0);
                done.Set();
            });
            done.WaitOne();
            Observe($"Semaphore Release(2) from the pool, then its WaitOne(0): {took}; released {WhReleased(released, 2)} of 3");
            done.Reset();
            ThreadPool.QueueUserWorkItem(_ =>
            {
                sem.Release(1);
                took = sem.WaitOne(0);
                done.Set();
            });
            done.WaitOne();
            Observe($"Release(1) more from the pool, then its WaitOne(0): {took}; released {WhReleased(released, 3)} of 3");
        }
    }

    /// <summary>WaitAny and WaitAll waiters, a thread-pool signaller: Set+Reset of a ManualResetEvent releases all of them.</summary>
    private static void DiffWhPoolWaitAnyWaitAll()
    {
        using var never = new ManualResetEvent(false);
        using var set = new ManualResetEvent(true);
        using var manual = new ManualResetEvent(false);
        using var signalled = new ManualResetEvent(false);
        var results = new List<int>();
        var anyWaiters = WhBlocked(3, () => WaitHandle.WaitAny([never, manual]), new StrongBox<int>(), results);
        var allWaiters = WhBlocked(3, () => WaitHandle.WaitAll([set, manual]) ? 1 : 0, new StrongBox<int>());
        ThreadPool.QueueUserWorkItem(_ =>
        {
            manual.Set();
            manual.Reset();
            signalled.Set();
        });
        signalled.WaitOne();
        Observe($"ManualResetEvent Set+Reset from the pool: WaitAny released {WhJoined(anyWaiters)} of 3 (indices {WhResults(results)}), WaitAll released {WhJoined(allWaiters)} of 3");
    }

    /// <summary>
    /// A thread-pool thread sets an AutoResetEvent, resets it and interrupts the thread blocked on it: the wait returns
    /// true (the signal was handed over before the Reset) and the interrupt hits the thread's next wait.
    /// </summary>
    private static void DiffWhPoolSetThenInterrupt()
    {
        using var auto = new AutoResetEvent(false);
        string first = "?", second = "?";
        var waiter = new Thread(() =>
        {
            first = P1Result(() => auto.WaitOne());
            second = P1Result(() => { Thread.Sleep(1000); return "slept"; });
        });
        waiter.Start();
        while ((waiter.ThreadState & System.Threading.ThreadState.WaitSleepJoin) == 0) Thread.Sleep(1); // blocked in WaitOne
        ThreadPool.QueueUserWorkItem(_ =>
        {
            auto.Set();
            auto.Reset();
            waiter.Interrupt();
        });
        waiter.Join();
        Observe($"WaitOne: {first}; next wait: {second}; event still set: {auto.WaitOne(0)}");
    }

    /// <summary>
    /// A thread-pool thread interrupts the thread blocked on a ManualResetEvent and then pulses the event (Set+Reset):
    /// the wait ends by the interrupt, and the event is left reset — the interrupted waiter takes nothing with it and
    /// puts nothing back.
    /// </summary>
    private static void DiffWhPoolInterruptThenPulse()
    {
        using var manual = new ManualResetEvent(false);
        using var pulsed = new ManualResetEvent(false);
        string result = "?";
        var waiter = new Thread(() => result = P1Result(() => manual.WaitOne()));
        waiter.Start();
        while ((waiter.ThreadState & System.Threading.ThreadState.WaitSleepJoin) == 0) Thread.Sleep(1); // blocked in WaitOne
        ThreadPool.QueueUserWorkItem(_ =>
        {
            waiter.Interrupt();
            manual.Set();
            manual.Reset();
            pulsed.Set();
        });
        pulsed.WaitOne();
        waiter.Join();
        Observe($"WaitOne: {result}; event set afterwards: {manual.WaitOne(0)}");
    }
}
