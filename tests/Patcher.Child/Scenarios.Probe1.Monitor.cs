using System.Collections.Concurrent;
using System.Net.Sockets;

// Probe 1, Monitor and friends: the lock re-taken after a timed-out Wait, Pulse waking exactly one, semaphore counts,
// timed lock and join cycles that back off, thread names (dispatched by RunProbe1 in Scenarios.Probe1.cs).
internal static partial class Scenarios
{
    /// <summary>A timed-out Monitor.Wait returns only once it has the lock again, even while another thread holds it.</summary>
    private static void DiffP1WaitReacquires()
    {
        object gate = new();
        using var waiting = new ManualResetEventSlim();
        bool returned = false, result = true, heldAfter = false;
        var waiter = new Thread(() =>
        {
            lock (gate)
            {
                waiting.Set();
                result = Monitor.Wait(gate, 10);
                heldAfter = Monitor.IsEntered(gate);
                Volatile.Write(ref returned, true);
            }
        });
        waiter.Start();
        waiting.Wait();
        bool returnedWhileHeld;
        lock (gate)
        {
            Thread.Sleep(40); // well past the waiter's timeout: it must still wait for the lock
            returnedWhileHeld = Volatile.Read(ref returned);
        }

        waiter.Join();
        Observe($"returned while main held the lock: {returnedWhileHeld}; Wait result {result}; lock held after {heldAfter}");
    }

    /// <summary>Pulse wakes exactly one of three waiters, PulseAll the rest.</summary>
    private static void DiffP1PulseWakesOne()
    {
        object gate = new();
        int waiting = 0, woken = 0;
        var threads = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
        {
            lock (gate)
            {
                waiting++;
                Monitor.Wait(gate);
                woken++;
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        while (true)
        {
            lock (gate) if (waiting == 3) break;
            Thread.Sleep(1);
        }

        lock (gate) Monitor.Pulse(gate);
        int joined = threads.Count(t => t.Join(100));
        lock (gate) Observe($"after one Pulse: woken {woken}, joined {joined}");
        lock (gate) Monitor.PulseAll(gate);
        threads.ForEach(t => t.Join());
        Observe($"after PulseAll: woken {woken}");
    }

    /// <summary>Semaphore.Release(3) with 5 blocked waiters releases exactly 3; SemaphoreSlim.Release(2) exactly 2.</summary>
    private static void DiffP1SemaphoreCounts()
    {
        using var sem = new Semaphore(0, 10);
        int passed = 0;
        var waiters = P1BlockedWaiters(5, sem, () => Interlocked.Increment(ref passed));
        int previous = sem.Release(3);
        int joined = waiters.Count(t => t.Join(100));
        Observe($"Semaphore.Release(3) returned {previous}: passed {Volatile.Read(ref passed)}, joined {joined}");
        sem.Release(2);
        waiters.ForEach(t => t.Join());
        Observe($"after Release(2): passed {passed}, count left {(sem.WaitOne(0) ? "some" : "none")}");

        using var slim = new SemaphoreSlim(0);
        int slimPassed = 0;
        var slimWaiters = Enumerable.Range(0, 4).Select(_ => new Thread(() => { slim.Wait(); Interlocked.Increment(ref slimPassed); }) { IsBackground = true }).ToList();
        slimWaiters.ForEach(t => t.Start());
        while (slim.CurrentCount != 0 || slimWaiters.Any(t => t.ThreadState != ThreadState.WaitSleepJoin && t.ThreadState != (ThreadState.WaitSleepJoin | ThreadState.Background))) Thread.Sleep(1);
        slim.Release(2);
        int slimJoined = slimWaiters.Count(t => t.Join(100));
        Observe($"SemaphoreSlim.Release(2): passed {Volatile.Read(ref slimPassed)}, joined {slimJoined}, CurrentCount {slim.CurrentCount}");
        slim.Release(2);
        slimWaiters.ForEach(t => t.Join());
    }

    /// <summary>Two threads each hold one lock and TryEnter the other's with a timeout: both give up, nobody hangs.</summary>
    private static void DiffP1TimedLockCycle()
    {
        object a = new(), b = new();
        using var bothHold = new CountdownEvent(2);
        using var bothTried = new CountdownEvent(2);
        bool aGotB = true, bGotA = true;
        var ta = new Thread(() =>
        {
            lock (a)
            {
                bothHold.Signal();
                bothHold.Wait();
                aGotB = Monitor.TryEnter(b, 50);
                bothTried.Signal();
                bothTried.Wait(); // neither lets go before both have given up
            }
        });
        var tb = new Thread(() =>
        {
            lock (b)
            {
                bothHold.Signal();
                bothHold.Wait();
                bGotA = Monitor.TryEnter(a, 50);
                bothTried.Signal();
                bothTried.Wait();
            }
        });
        ta.Start();
        tb.Start();
        ta.Join();
        tb.Join();
        Observe($"Monitor cycle with timeouts: A got B {aGotB}, B got A {bGotA}");

        var la = new Lock();
        var lb = new Lock();
        using var bothHoldLock = new CountdownEvent(2);
        using var bothTriedLock = new CountdownEvent(2);
        bool lockAGotB = true, lockBGotA = true;
        var tla = new Thread(() => { using (la.EnterScope()) { bothHoldLock.Signal(); bothHoldLock.Wait(); lockAGotB = lb.TryEnter(50); bothTriedLock.Signal(); bothTriedLock.Wait(); } });
        var tlb = new Thread(() => { using (lb.EnterScope()) { bothHoldLock.Signal(); bothHoldLock.Wait(); lockBGotA = la.TryEnter(50); bothTriedLock.Signal(); bothTriedLock.Wait(); } });
        tla.Start();
        tlb.Start();
        tla.Join();
        tlb.Join();
        Observe($"Lock cycle with timeouts: A got B {lockAGotB}, B got A {lockBGotA}");

        Thread? first = null, second = null;
        bool firstJoined = true, secondJoined = true;
        using var bothStarted = new CountdownEvent(2);
        using var bothJoined = new CountdownEvent(2);
        first = new Thread(() => { bothStarted.Signal(); bothStarted.Wait(); firstJoined = second!.Join(50); bothJoined.Signal(); bothJoined.Wait(); });
        second = new Thread(() => { bothStarted.Signal(); bothStarted.Wait(); secondJoined = first.Join(50); bothJoined.Signal(); bothJoined.Wait(); });
        first.Start();
        second.Start();
        first.Join();
        second.Join();
        Observe($"Join cycle with timeouts: {firstJoined} {secondJoined}");
    }

    /// <summary>Names: main's and an unnamed thread's are null; a name set inside the thread shows outside; pool threads.</summary>
    private static void DiffP1ThreadNames()
    {
        Observe($"main's name: {Thread.CurrentThread.Name ?? "null"}");
        string inside = "?";
        var unnamed = new Thread(() => inside = Thread.CurrentThread.Name ?? "null");
        unnamed.Start();
        unnamed.Join();
        Observe($"unnamed thread's name inside: {inside}, outside: {unnamed.Name ?? "null"}");
        using var named = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        var namer = new Thread(() => { Thread.CurrentThread.Name = "set-inside"; named.Set(); done.Wait(); });
        namer.Start();
        named.Wait();
        Observe($"name set inside, seen from main: {namer.Name}");
        done.Set();
        namer.Join();
        var poolNames = new ConcurrentBag<string>();
        using var poolDone = new CountdownEvent(3);
        for (int i = 0; i < 3; i++) ThreadPool.QueueUserWorkItem(_ => { poolNames.Add(Thread.CurrentThread.Name ?? "null"); poolDone.Signal(); });
        poolDone.Wait();
        Observe($"pool thread names: {string.Join(",", poolNames.Distinct())}");
        Thread.CurrentThread.Name = "renamed-main";
        Observe($"main renamed: {Thread.CurrentThread.Name}");
    }

    /// <summary>ThreadState of threads blocked in each kind of wait (test code polls it to know a thread is blocked).</summary>
    private static void DiffP1BlockedThreadState()
    {
        object gate = new();
        var holder = new object();
        using var ev = new ManualResetEvent(false);
        using var slim = new SemaphoreSlim(0);
        using var mres = new ManualResetEventSlim();
        var l = new Lock();
        var sleeper = new Thread(() => Thread.Sleep(Timeout.Infinite)) { IsBackground = true };
        Monitor.Enter(holder);
        l.Enter();
        var kinds = new (string, ThreadStart)[]
        {
            ("Sleep", () => Thread.Sleep(Timeout.Infinite)),
            ("WaitOne", () => ev.WaitOne()),
            ("Monitor.Wait", () => { lock (gate) Monitor.Wait(gate); }),
            ("contended lock", () => { lock (holder) { } }),
            ("contended Lock", () => { l.Enter(); l.Exit(); }),
            ("SemaphoreSlim.Wait", () => slim.Wait()),
            ("ManualResetEventSlim.Wait", () => mres.Wait()),
            ("Join", () => sleeper.Join()),
        };
        sleeper.Start();
        foreach (var (label, body) in kinds)
        {
            var t = new Thread(body) { IsBackground = true };
            t.Start();
            var deadline = DateTime.UtcNow.AddSeconds(2);
            while ((t.ThreadState & ThreadState.WaitSleepJoin) == 0 && DateTime.UtcNow < deadline) Thread.Sleep(1);
            Observe($"{label}: {t.ThreadState}");
        }

        l.Exit();
        Monitor.Exit(holder);

        // Blocked in a system call (a socket receive) is not a managed wait: Running in .NET, and so patched, where the
        // green thread is parked on the hub's poller.
        var listener = Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndpoint);
        using var accepted = listener.AcceptSocket();
        listener.Stop();
        var reader = new Thread(() => client.Receive(new byte[1])) { IsBackground = true };
        reader.Start();
        Thread.Sleep(50); // the receive has blocked by now; Running either way if it has not
        Observe($"socket Receive: {reader.ThreadState}");
        accepted.Send("x"u8);
        reader.Join();
    }

    private static async Task P1AwaitThenLog(TaskCompletionSource tcs, List<string> log)
    {
        await tcs.Task;
        lock (log) log.Add("continuation");
    }

    /// <summary>An await's continuation, begun on main, after a plain thread completes the awaited task: the order of the two lines.</summary>
    private static void DiffP1AwaitContinuationInline()
    {
        var log = new List<string>();
        var tcs = new TaskCompletionSource();
        var awaiting = P1AwaitThenLog(tcs, log);
        var setter = new Thread(() => { tcs.SetResult(); lock (log) log.Add("SetResult returned"); });
        setter.Start();
        setter.Join();
        awaiting.Wait();
        Observe(string.Join(",", log));
    }

    /// <summary>A pool thread's Monitor.Wait releases the lock to a plain thread blocked on it, which pulses it back.</summary>
    private static void DiffP1PoolWaitReleasesLock()
    {
        object gate = new();
        using var holding = new ManualResetEventSlim();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var pool = Task.Run(() =>
        {
            lock (gate)
            {
                holding.Set();
                Thread.Sleep(20); // the plain threads below are blocked on the lock by now
                return Monitor.Wait(gate, 5_000);
            }
        });
        holding.Wait();
        var contenders = Enumerable.Range(0, 3).Select(_ => new Thread(() => { lock (gate) Monitor.PulseAll(gate); })).ToList();
        contenders.ForEach(t => t.Start());
        lock (gate) Monitor.PulseAll(gate);
        contenders.ForEach(t => t.Join());
        Observe($"pool's Wait pulsed: {pool.Result}; in time: {sw.ElapsedMilliseconds < 4_000}");
    }
}
