using System.Collections.Concurrent;
using System.Diagnostics;

// Probe 1, edges: timeouts that must not end early, argument errors, abandoned mutexes, static constructors that block,
// deep thread chains, pulses across green and pool threads (dispatched by RunProbe1 in Scenarios.Probe1.cs).
internal static partial class Scenarios
{
    /// <summary>Every timed wait that times out has waited at least its timeout (plain .NET never returns early).</summary>
    private static void DiffP1TimeoutsNotEarly()
    {
        const int Ms = 20;
        object gate = new();
        var heldLock = new Lock();
        using var unset = new ManualResetEvent(false);
        using var mres = new ManualResetEventSlim();
        using var sem = new SemaphoreSlim(0);
        using var kernelSem = new Semaphore(0, 1);
        using var countdown = new CountdownEvent(1);
        using var barrier = new Barrier(2);
        using var rw = new ReaderWriterLockSlim();
        using var release = new ManualResetEventSlim();
        using var holding = new CountdownEvent(3);
        using var mutex = new Mutex();
        var holder = new Thread(() =>
        {
            lock (gate)
            {
                heldLock.Enter();
                rw.EnterReadLock();
                mutex.WaitOne();
                holding.Signal(3);
                release.Wait();
                mutex.ReleaseMutex();
                rw.ExitReadLock();
                heldLock.Exit();
            }
        });
        holder.Start();
        holding.Wait();
        var waiter = new Thread(() => release.Wait());
        waiter.Start();
        // Plain .NET waits on the kernel's precise clock for these: they never return before their timeout.
        var exact = new (string, Func<bool>)[]
        {
            ("Thread.Sleep(int)", () => { Thread.Sleep(Ms); return false; }),
            ("Thread.Sleep(TimeSpan)", () => { Thread.Sleep(TimeSpan.FromMilliseconds(Ms)); return false; }),
            ("WaitHandle.WaitOne", () => unset.WaitOne(Ms)),
            ("WaitHandle.WaitAny", () => WaitHandle.WaitAny([unset, kernelSem], Ms) != WaitHandle.WaitTimeout),
            ("WaitHandle.WaitAll", () => WaitHandle.WaitAll([unset, kernelSem], Ms)),
            ("Semaphore.WaitOne", () => kernelSem.WaitOne(Ms)),
            ("Mutex.WaitOne", () => mutex.WaitOne(Ms)),
            ("Monitor.Wait", () => { lock (unset) return Monitor.Wait(unset, Ms); }),
            ("Thread.Join", () => waiter.Join(Ms)),
        };

        // These count their timeout down on Environment.TickCount (CLOCK_MONOTONIC_COARSE, one jiffy of grain): plain
        // .NET returns up to a jiffy early (seen 16.6 ms of 20 for SpinUntil, 19.5 for Task.Delay), so allow 5 ms.
        var grained = new (string, Func<bool>)[]
        {
            ("Monitor.TryEnter", () => Monitor.TryEnter(gate, Ms)),
            ("Lock.TryEnter", () => heldLock.TryEnter(Ms)),
            ("ManualResetEventSlim.Wait", () => mres.Wait(Ms)),
            ("SemaphoreSlim.Wait", () => sem.Wait(Ms)),
            ("CountdownEvent.Wait", () => countdown.Wait(Ms)),
            ("Barrier.SignalAndWait", () => barrier.SignalAndWait(Ms)),
            ("ReaderWriterLockSlim.TryEnterWriteLock", () => rw.TryEnterWriteLock(Ms)),
            ("Task.Wait", () => Task.Delay(Timeout.Infinite).Wait(Ms)),
            ("Task.Delay.Wait", () => { Task.Delay(Ms).Wait(); return false; }),
            ("SpinWait.SpinUntil", () => SpinWait.SpinUntil(() => false, Ms)),
            ("CancellationToken.WaitHandle", () => new CancellationTokenSource(Ms).Token.WaitHandle.WaitOne(Timeout.Infinite) && false),
        };
        foreach (var (checks, grain) in new[] { (exact, 0), (grained, 5) })
        {
            foreach (var (label, wait) in checks)
            {
                var sw = Stopwatch.StartNew();
                bool result = wait();
                double elapsed = sw.Elapsed.TotalMilliseconds;
                Observe($"{label}: {result}, waited its timeout {elapsed >= Ms - grain}" + (elapsed >= Ms - grain ? "" : $" (only {elapsed:F2} ms)"));
            }
        }

        release.Set();
        holder.Join();
        waiter.Join();
    }

    private static string P1Result<T>(Func<T> wait)
    {
        try
        {
            return wait()!.ToString()!;
        }
        catch (Exception e)
        {
            return e.GetType().Name;
        }
    }

    private static string Thrown(Action action)
    {
        try
        {
            action();
            return "no exception";
        }
        catch (Exception e)
        {
            return e.GetType().Name;
        }
    }

    /// <summary>Bad arguments to the patched waits throw what plain .NET throws.</summary>
    private static void DiffP1ArgumentErrors()
    {
        object gate = new();
        using var ev = new ManualResetEvent(false);
        Observe($"Thread.Sleep(-2): {Thrown(() => Thread.Sleep(-2))}");
        Observe($"Thread.Sleep(TimeSpan -2 ms): {Thrown(() => Thread.Sleep(TimeSpan.FromMilliseconds(-2)))}");
        Observe($"Thread.Sleep(TimeSpan.MaxValue): {Thrown(() => Thread.Sleep(TimeSpan.MaxValue))}");
        Observe($"WaitOne(-2): {Thrown(() => ev.WaitOne(-2))}");
        Observe($"WaitOne(TimeSpan -2 ms): {Thrown(() => ev.WaitOne(TimeSpan.FromMilliseconds(-2)))}");
        Observe($"WaitAny(null): {Thrown(() => WaitHandle.WaitAny(null!))}");
        Observe($"WaitAny(empty): {Thrown(() => WaitHandle.WaitAny([]))}");
        Observe($"WaitAny(65 handles): {Thrown(() => WaitHandle.WaitAny(Enumerable.Range(0, 65).Select(_ => (WaitHandle)ev).ToArray(), 0))}");
        Observe($"WaitAll(duplicates): {Thrown(() => WaitHandle.WaitAll([ev, ev], 0))}");
        Observe($"WaitAny(with a null): {Thrown(() => WaitHandle.WaitAny([ev, null!], 0))}");
        Observe($"WaitAll(duplicates, 10 ms): {Thrown(() => WaitHandle.WaitAll([ev, ev], 10))}");
        Observe($"WaitAny(with a null, 10 ms): {Thrown(() => WaitHandle.WaitAny([ev, null!], 10))}");
        var disposed = new ManualResetEvent(false);
        disposed.Dispose();
        Observe($"WaitOne on a disposed event: {Thrown(() => disposed.WaitOne(0))}");
        Observe($"Set on a disposed event: {Thrown(() => disposed.Set())}");
        Observe($"Monitor.Enter(null): {Thrown(() => Monitor.Enter(null!))}");
        Observe($"Monitor.TryEnter(null, 10): {Thrown(() => Monitor.TryEnter(null!, 10))}");
        Observe($"Monitor.Wait(null): {Thrown(() => Monitor.Wait(null!))}");
        Observe($"Monitor.Wait without the lock: {Thrown(() => Monitor.Wait(gate, 10))}");
        Observe($"Monitor.Pulse without the lock: {Thrown(() => Monitor.Pulse(gate))}");
        Observe($"Monitor.PulseAll without the lock: {Thrown(() => Monitor.PulseAll(gate))}");
        Observe($"Monitor.Wait(-2): {Thrown(() => { lock (gate) Monitor.Wait(gate, -2); })}");
        Observe($"Monitor.TryEnter(-2): {Thrown(() => Monitor.TryEnter(gate, -2))}");
        Observe($"Monitor.TryEnter(ref true): {Thrown(() => { bool taken = true; Monitor.TryEnter(gate, 10, ref taken); })}");
        Observe($"Monitor.Exit unowned: {Thrown(() => Monitor.Exit(gate))}");
        var held = new object();
        var holder = new Thread(() => Monitor.Enter(held));
        holder.Start();
        holder.Join();
        Observe($"Monitor.Exit of a lock another thread left held: {Thrown(() => Monitor.Exit(held))}");
        Observe($"Monitor.IsEntered of that lock: {Monitor.IsEntered(held)}");
        var l = new Lock();
        Observe($"Lock.TryEnter(-2): {Thrown(() => l.TryEnter(-2))}");
        Observe($"Lock.Exit unowned: {Thrown(() => l.Exit())}");
        Observe($"SemaphoreSlim.Wait(-2): {Thrown(() => new SemaphoreSlim(0).Wait(-2))}");
        Observe($"new Semaphore(2, 1): {Thrown(() => new Semaphore(2, 1).Dispose())}");
        Observe($"Semaphore.Release past max: {Thrown(() => { using var s = new Semaphore(1, 1); s.Release(); })}");
        Observe($"Mutex.ReleaseMutex unowned: {Thrown(() => { using var m = new Mutex(); m.ReleaseMutex(); })}");
        Observe($"Thread.Join(-2): {Thrown(() => Thread.CurrentThread.Join(-2))}");
        Observe($"new Thread(null): {Thrown(() => new Thread((ThreadStart)null!))}");
        Observe($"Start twice: {Thrown(() => { var t = new Thread(() => { }); t.Start(); t.Start(); })}");
        Observe($"Start(object) on a ThreadStart thread: {Thrown(() => new Thread(() => { }).Start("x"))}");
    }

    /// <summary>A thread that ends holding a Mutex abandons it: the next waiter gets AbandonedMutexException and owns it.</summary>
    private static void DiffP1MutexAbandoned()
    {
        using var mutex = new Mutex();
        var owner = new Thread(() => mutex.WaitOne());
        owner.Start();
        owner.Join();
        string first;
        try { mutex.WaitOne(); first = "acquired"; }
        catch (AbandonedMutexException e) { first = $"AbandonedMutexException (mutex given: {e.Mutex == mutex}, index {e.MutexIndex})"; }
        Observe($"waiting after the owner ended: {first}");
        mutex.ReleaseMutex();

        // Abandoned while another thread is already waiting for it.
        using var holding = new ManualResetEventSlim();
        using var ending = new ManualResetEventSlim();
        var owner2 = new Thread(() => { mutex.WaitOne(); holding.Set(); ending.Wait(); });
        owner2.Start();
        holding.Wait();
        string second = "?";
        var waiter = new Thread(() =>
        {
            try { mutex.WaitOne(); second = "acquired"; }
            catch (AbandonedMutexException) { second = "AbandonedMutexException"; }
            mutex.ReleaseMutex();
        });
        waiter.Start();
        ending.Set();
        waiter.Join();
        owner2.Join();
        Observe($"a waiter when the owner ended: {second}");

        // WaitAny over an event and an abandoned mutex.
        using var ev = new ManualResetEvent(false);
        var owner3 = new Thread(() => mutex.WaitOne());
        owner3.Start();
        owner3.Join();
        string any;
        try { any = $"index {WaitHandle.WaitAny([ev, mutex])}"; }
        catch (AbandonedMutexException e) { any = $"AbandonedMutexException index {e.MutexIndex}"; }
        Observe($"WaitAny with the abandoned mutex: {any}");
        mutex.ReleaseMutex();

        // Recursive ownership: two waits need two releases.
        mutex.WaitOne();
        mutex.WaitOne();
        mutex.ReleaseMutex();
        bool other = true;
        var t = new Thread(() => { other = mutex.WaitOne(20); if (other) mutex.ReleaseMutex(); });
        t.Start();
        t.Join();
        mutex.ReleaseMutex();
        Observe($"other thread's WaitOne(20) after one of two releases: {other}");
    }

    private static class SlowInit
    {
        public static readonly string Value = Init();

        public static int Runs;

        private static string Init()
        {
            Interlocked.Increment(ref Runs);
            Thread.Sleep(30);
            return "initialized";
        }
    }

    private static class LockingInit
    {
        public static readonly string Value = Init();

        private static string Init()
        {
            lock (s_p1InitGate) return "locked init";
        }
    }

    private static readonly object s_p1InitGate = new();

    /// <summary>Threads that touch a class whose static constructor sleeps (or waits for a lock) wait for it, and it runs once.</summary>
    private static void DiffP1StaticCtorBlocks()
    {
        var values = new ConcurrentBag<string>();
        var threads = Enumerable.Range(0, 5).Select(_ => new Thread(() => values.Add(SlowInit.Value))).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe($"values {string.Join(",", values.Distinct())}, constructor ran {SlowInit.Runs} time(s)");

        // The static constructor waits for a lock a thread holds while it sleeps; a second thread waits for the class.
        using var holding = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            lock (s_p1InitGate)
            {
                holding.Set();
                Thread.Sleep(30);
            }
        });
        holder.Start();
        holding.Wait();
        var readers = Enumerable.Range(0, 3).Select(_ => new Thread(() => values.Add(LockingInit.Value))).ToList();
        readers.ForEach(t => t.Start());
        readers.ForEach(t => t.Join());
        holder.Join();
        Observe($"locking static constructor: {LockingInit.Value}, {values.Count(v => v == "locked init")} readers");
    }

    private static int Recurse(int depth) => depth == 0 ? 0 : 1 + Recurse(depth - 1);

    /// <summary>A chain of 200 threads each starting and joining the next; ParameterizedThreadStart; a big maxStackSize.</summary>
    private static void DiffP1ThreadChain()
    {
        int deepest = 0;
        void Link(int n)
        {
            if (n == 200) { deepest = n; return; }
            var next = new Thread(() => Link(n + 1));
            next.Start();
            next.Join();
        }

        Link(0);
        Observe($"chain reached {deepest}");
        object? received = null;
        var p = new Thread(o => received = o);
        p.Start("parameter");
        p.Join();
        Observe($"ParameterizedThreadStart got {received}");
        int depth = 0;
        var big = new Thread(() => depth = Recurse(200_000), maxStackSize: 256 * 1024 * 1024);
        big.Start();
        big.Join();
        Observe($"recursion on a 256 MB stack: {depth}");
        var started = new ConcurrentBag<int>();
        var fanOut = Enumerable.Range(0, 10).Select(i => new Thread(() =>
        {
            var children = Enumerable.Range(0, 10).Select(k => new Thread(() => started.Add((i * 10) + k))).ToList();
            children.ForEach(c => c.Start());
            children.ForEach(c => c.Join());
        })).ToList();
        fanOut.ForEach(t => t.Start());
        fanOut.ForEach(t => t.Join());
        Observe($"fan-out of 10x10: {started.Distinct().Count()}");
    }

    /// <summary>Monitor.Wait on a thread pulsed from the pool and from a timer; a pool waiter pulsed from a thread.</summary>
    private static void DiffP1PulseAcrossPool()
    {
        object gate = new();
        bool ready = false;
        bool woke = false;
        var waiter = new Thread(() =>
        {
            lock (gate)
            {
                while (!ready) Monitor.Wait(gate);
                woke = true;
            }
        });
        waiter.Start();
        ThreadPool.QueueUserWorkItem(_ => { lock (gate) { ready = true; Monitor.PulseAll(gate); } });
        waiter.Join();
        Observe($"thread pulsed from the pool: {woke}");

        int fired = 0;
        bool timerDone = false;
        using (new Timer(_ =>
        {
            lock (gate)
            {
                if (++fired == 3) { timerDone = true; Monitor.Pulse(gate); }
            }
        }, null, 0, 5))
        {
            lock (gate)
            {
                while (!timerDone) Monitor.Wait(gate);
            }
        }

        Observe("main pulsed from a timer callback");

        bool poolWoke = false;
        bool go = false;
        using var poolDone = new ManualResetEventSlim();
        ThreadPool.QueueUserWorkItem(_ =>
        {
            lock (gate)
            {
                while (!go) Monitor.Wait(gate);
                poolWoke = true;
            }

            poolDone.Set();
        });
        var pulser = new Thread(() =>
        {
            Thread.Sleep(10);
            lock (gate) { go = true; Monitor.PulseAll(gate); }
        });
        pulser.Start();
        poolDone.Wait();
        pulser.Join();
        Observe($"pool waiter pulsed from a thread: {poolWoke}");

        // A pool thread and plain threads share one counter lock.
        int counter = 0;
        var tasks = Enumerable.Range(0, 4).Select(_ => Task.Run(() => { for (int i = 0; i < 2000; i++) lock (gate) counter++; })).ToArray();
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() => { for (int i = 0; i < 2000; i++) { lock (gate) counter++; if (i % 500 == 0) Thread.Sleep(1); } })).ToList();
        threads.ForEach(t => t.Start());
        Task.WaitAll(tasks);
        threads.ForEach(t => t.Join());
        Observe($"shared counter {counter}");
    }

    /// <summary>Long-running tasks and Task.Run bodies that wait for events plain threads set, and the other way round.</summary>
    private static void DiffP1LongRunningTasks()
    {
        using var fromThread = new ManualResetEventSlim();
        using var fromTask = new ManualResetEventSlim();
        var longRunning = Task.Factory.StartNew(() =>
        {
            fromThread.Wait();
            fromTask.Set();
            return Thread.CurrentThread.IsThreadPoolThread;
        }, TaskCreationOptions.LongRunning);
        var t = new Thread(() => { fromThread.Set(); fromTask.Wait(); });
        t.Start();
        t.Join();
        Observe($"long-running task: pool thread {longRunning.Result}");
        var sem = new Semaphore(0, 10);
        var runs = Enumerable.Range(0, 5).Select(_ => Task.Run(() => sem.WaitOne())).ToArray();
        var releaser = new Thread(() => sem.Release(5));
        releaser.Start();
        Observe($"Task.Run bodies released by a thread: {Task.WaitAll(runs, 10_000)}");
        releaser.Join();
        var tcs = new TaskCompletionSource<int>();
        var consumer = new Thread(() => Observe($"thread waited for a TaskCompletionSource set from the pool: {tcs.Task.Result}"));
        consumer.Start();
        Task.Run(() => tcs.SetResult(7));
        consumer.Join();
    }

    /// <summary>ThreadLocal with trackAllValues: values of ended threads stay listed; Dispose; the factory runs per thread.</summary>
    private static void DiffP1ThreadLocalTracking()
    {
        int factoryRuns = 0;
        var local = new ThreadLocal<int>(() => Interlocked.Increment(ref factoryRuns) * 0, trackAllValues: true);
        var threads = Enumerable.Range(1, 6).Select(i => new Thread(() => { local.Value = i * i; })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe($"values of ended threads: {string.Join(",", local.Values.Order())}; factory runs {factoryRuns}; IsValueCreated on main {local.IsValueCreated}");
        var readers = Enumerable.Range(0, 4).Select(_ => new Thread(() => _ = local.Value)).ToList();
        readers.ForEach(t => t.Start());
        readers.ForEach(t => t.Join());
        Observe($"after 4 readers: {local.Values.Count} values, factory runs {factoryRuns}");
        local.Dispose();
        Observe($"Values after Dispose: {Thrown(() => _ = local.Values)}");
    }

    /// <summary>Starts <paramref name="count"/> threads that each wait on <paramref name="handle"/> and gives them time to block.</summary>
    private static List<Thread> P1BlockedWaiters(int count, WaitHandle handle, Action onWoken)
    {
        var waiters = Enumerable.Range(0, count).Select(_ => new Thread(() => { handle.WaitOne(); onWoken(); }) { IsBackground = true }).ToList();
        waiters.ForEach(t => t.Start());
        // Blocked in the wait: .NET sets WaitSleepJoin once the waiter is registered with the handle (the managed wait
        // subsystem does it under its lock), the patch once the green thread is parked on it.
        while (waiters.Any(t => (t.ThreadState & System.Threading.ThreadState.WaitSleepJoin) == 0)) Thread.Sleep(1);
        return waiters;
    }

    /// <summary>
    /// A signal given to threads already blocked in a WaitHandle wait is theirs: a Set followed at once by Reset still
    /// releases every waiter, and a Release or ReleaseMutex with a waiter is not taken back by the releaser's WaitOne(0).
    /// </summary>
    private static void DiffP1HandoffToBlockedWaiters()
    {
        int woken = 0;
        using (var manual = new ManualResetEvent(false))
        {
            var waiters = P1BlockedWaiters(5, manual, () => Interlocked.Increment(ref woken));
            manual.Set();
            manual.Reset();
            Observe($"ManualResetEvent Set+Reset: released {waiters.Count(t => t.Join(5_000))} of 5");
        }

        using (var auto = new AutoResetEvent(false))
        {
            var waiters = P1BlockedWaiters(1, auto, () => { });
            auto.Set();
            auto.Reset();
            Observe($"AutoResetEvent Set+Reset: released {waiters.Count(t => t.Join(5_000))} of 1");
        }

        using (var auto = new AutoResetEvent(false))
        {
            var waiters = P1BlockedWaiters(1, auto, () => { });
            auto.Set();
            Observe($"AutoResetEvent Set, then the setter's WaitOne(0): {auto.WaitOne(0)}; waiter released {waiters[0].Join(5_000)}");
        }

        using (var sem = new Semaphore(0, 1))
        {
            var waiters = P1BlockedWaiters(1, sem, () => { });
            sem.Release();
            Observe($"Semaphore Release, then the releaser's WaitOne(0): {sem.WaitOne(0)}; waiter released {waiters[0].Join(5_000)}");
        }
    }

    /// <summary>
    /// A handle disposed while threads wait on it: the waits already begun go on to their timeout (the runtime holds a
    /// reference for the wait), a background thread may be left waiting on it forever, and only a wait begun after the
    /// Dispose throws ObjectDisposedException.
    /// </summary>
    private static void DiffP1DisposeWhileWaiting()
    {
        var ev = new ManualResetEvent(false);
        var sem = new Semaphore(0, 1);
        var never = new AutoResetEvent(false);
        string one = "?", any = "?", all = "?", semaphore = "?";
        var waiters = new List<Thread>
        {
            new(() => one = P1Result(() => ev.WaitOne(150))),
            new(() => any = P1Result(() => WaitHandle.WaitAny([never, ev], 150))),
            new(() => all = P1Result(() => WaitHandle.WaitAll([never, ev], 150))),
            new(() => semaphore = P1Result(() => sem.WaitOne(150))),
        };
        var forever = new Thread(() => ev.WaitOne()) { IsBackground = true }; // left waiting when the process ends
        waiters.Add(forever);
        waiters.ForEach(t => t.Start());
        while (waiters.Any(t => (t.ThreadState & System.Threading.ThreadState.WaitSleepJoin) == 0)) Thread.Sleep(1); // the waits have begun
        waiters.Remove(forever);
        ev.Dispose();
        sem.Dispose();
        waiters.ForEach(t => t.Join());
        Observe($"waits begun before the Dispose: WaitOne {one}, WaitAny {any}, WaitAll {all}, Semaphore {semaphore}");
        Observe($"a wait begun after it: {Thrown(() => ev.WaitOne(10))}");
        never.Dispose();
    }

    /// <summary>Set, then at once Interrupt, a thread blocked in WaitOne: the wait was already satisfied; the interrupt hits the next wait.</summary>
    private static void DiffP1InterruptAfterSet()
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
        auto.Set();
        waiter.Interrupt();
        waiter.Join();
        Observe($"WaitOne: {first}; next wait: {second}; event still set: {auto.WaitOne(0)}");
    }
}
