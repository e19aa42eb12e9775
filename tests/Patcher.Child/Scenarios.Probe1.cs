using System.Collections.Concurrent;

// Probe 1: ordinary System.Threading code a new user would write — spin-waits, the pool, timers, cancellation, Lock,
// Lazy, concurrent collections, Monitor corner cases — run unpatched and patched (DifferentialTests compares).
internal static partial class Scenarios
{
    private static bool RunProbe1(string name)
    {
        switch (name)
        {
            case "diff-p1-spinuntil": DiffP1SpinUntil(); return true;
            case "diff-p1-yield-sleep0-loops": DiffP1YieldSleep0Loops(); return true;
            case "diff-p1-spinlock": DiffP1SpinLock(); return true;
            case "diff-p1-parallel-from-main": DiffP1ParallelFromMain(); return true;
            case "diff-p1-parallel-from-thread": DiffP1ParallelFromThread(); return true;
            case "diff-p1-threadpool-waits": DiffP1ThreadPoolWaits(); return true;
            case "diff-p1-timers": DiffP1Timers(); return true;
            case "diff-p1-cancellation": DiffP1Cancellation(); return true;
            case "diff-p1-task-delay-wait": DiffP1TaskDelayWait(); return true;
            case "diff-p1-monitor-tryenter": DiffP1MonitorTryEnter(); return true;
            case "diff-p1-lock-type": DiffP1LockType(); return true;
            case "diff-p1-lazy-modes": DiffP1LazyModes(); return true;
            case "diff-p1-getoradd-locks": DiffP1GetOrAddLocks(); return true;
            case "diff-p1-queue-semaphoreslim": DiffP1QueueSemaphoreSlim(); return true;
            case "diff-p1-join-timespan": DiffP1JoinTimeSpan(); return true;
            case "diff-p1-thread-properties": DiffP1ThreadProperties(); return true;
            case "diff-p1-thousand-threads-one-lock": DiffP1ThousandThreadsOneLock(); return true;
            case "diff-p1-nested-lock-wait": DiffP1NestedLockWait(); return true;
            case "diff-p1-pulseall-storm": DiffP1PulseAllStorm(); return true;
            case "diff-p1-finalizer-lock": DiffP1FinalizerLock(); return true;
            case "diff-p1-suppress-flow": DiffP1SuppressFlow(); return true;
            case "diff-p1-barrier-throwing-action": DiffP1BarrierThrowingAction(); return true;
            case "diff-p1-rwlockslim-many": DiffP1RwLockSlimMany(); return true;
            case "diff-p1-timeouts-not-early": DiffP1TimeoutsNotEarly(); return true;
            case "diff-p1-argument-errors": DiffP1ArgumentErrors(); return true;
            case "diff-p1-mutex-abandoned": DiffP1MutexAbandoned(); return true;
            case "diff-p1-static-ctor-blocks": DiffP1StaticCtorBlocks(); return true;
            case "diff-p1-thread-chain": DiffP1ThreadChain(); return true;
            case "diff-p1-pulse-across-pool": DiffP1PulseAcrossPool(); return true;
            case "diff-p1-long-running-tasks": DiffP1LongRunningTasks(); return true;
            case "diff-p1-threadlocal-tracking": DiffP1ThreadLocalTracking(); return true;
            case "diff-p1-handoff-to-blocked-waiters": DiffP1HandoffToBlockedWaiters(); return true;
            case "diff-p1-dispose-while-waiting": DiffP1DisposeWhileWaiting(); return true;
            case "diff-p1-wait-reacquires": DiffP1WaitReacquires(); return true;
            case "diff-p1-pulse-wakes-one": DiffP1PulseWakesOne(); return true;
            case "diff-p1-semaphore-counts": DiffP1SemaphoreCounts(); return true;
            case "diff-p1-timed-lock-cycle": DiffP1TimedLockCycle(); return true;
            case "diff-p1-thread-names": DiffP1ThreadNames(); return true;
            case "diff-p1-blocked-thread-state": DiffP1BlockedThreadState(); return true;
            case "diff-p1-await-continuation-inline": DiffP1AwaitContinuationInline(); return true;
            case "diff-p1-interrupt-after-set": DiffP1InterruptAfterSet(); return true;
            case "diff-p1-pool-wait-releases-lock": DiffP1PoolWaitReleasesLock(); return true;
            default: return false;
        }
    }

    /// <summary>SpinWait.SpinUntil waits for a flag another thread sets; a timed SpinUntil on a flag nobody sets fails.</summary>
    private static void DiffP1SpinUntil()
    {
        bool flag = false;
        var setter = new Thread(() => { Thread.Sleep(10); Volatile.Write(ref flag, true); });
        setter.Start();
        bool seen = SpinWait.SpinUntil(() => Volatile.Read(ref flag), 10_000);
        setter.Join();
        Observe($"SpinUntil saw the flag: {seen}");
        Observe($"SpinUntil(never, 30 ms): {SpinWait.SpinUntil(() => false, 30)}");
        bool other = false;
        var waiter = new Thread(() => SpinWait.SpinUntil(() => Volatile.Read(ref other)));
        waiter.Start();
        Volatile.Write(ref other, true);
        Observe($"untimed SpinUntil on a thread ends: {waiter.Join(10_000)}");
    }

    /// <summary>Busy-wait loops that give the CPU away: Thread.Yield, Thread.Sleep(0), Thread.Sleep(1), SpinWait.SpinOnce.</summary>
    private static void DiffP1YieldSleep0Loops()
    {
        foreach (var (label, pause) in new (string, Action)[]
        {
            ("Yield", () => Thread.Yield()),
            ("Sleep(0)", () => Thread.Sleep(0)),
            ("Sleep(1)", () => Thread.Sleep(1)),
            ("Sleep(TimeSpan.Zero)", () => Thread.Sleep(TimeSpan.Zero)),
        })
        {
            bool flag = false;
            int rounds = 0;
            var setter = new Thread(() =>
            {
                while (Volatile.Read(ref rounds) < 3) pause();
                Volatile.Write(ref flag, true);
            });
            setter.Start();
            while (!Volatile.Read(ref flag))
            {
                Interlocked.Increment(ref rounds);
                pause();
            }

            setter.Join();
            Observe($"{label} loop ended");
        }

        var spinner = new SpinWait();
        bool done = false;
        var t = new Thread(() => Volatile.Write(ref done, true));
        t.Start();
        while (!Volatile.Read(ref done)) spinner.SpinOnce();
        t.Join();
        Observe("SpinOnce loop ended");
    }

    /// <summary>SpinLock protecting a counter; the holder sleeps while holding it, so the others spin on it.</summary>
    private static void DiffP1SpinLock()
    {
        var spin = new SpinLock(enableThreadOwnerTracking: true);
        int counter = 0;
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < 20; i++)
            {
                bool taken = false;
                try
                {
                    spin.Enter(ref taken);
                    int seen = counter;
                    if (i % 5 == 0) Thread.Sleep(1);
                    counter = seen + 1;
                }
                finally
                {
                    if (taken) spin.Exit();
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe($"counter {counter}");
        bool held = false;
        spin.Enter(ref held);
        bool other = true;
        var tryer = new Thread(() =>
        {
            bool got = false;
            spin.TryEnter(20, ref got);
            other = got;
        });
        tryer.Start();
        tryer.Join();
        spin.Exit();
        Observe($"TryEnter(20) while held: {other}; IsHeld after exit: {spin.IsHeld}");
    }

    private static void ParallelBody(string where)
    {
        long sum = 0;
        Parallel.For(1, 1001, i => Interlocked.Add(ref sum, i));
        Observe($"{where}: Parallel.For sum {sum}");
        var bag = new ConcurrentBag<int>();
        Parallel.ForEach(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => bag.Add(i * 2));
        Observe($"{where}: Parallel.ForEach count {bag.Count} sum {bag.Sum()}");
        object gate = new();
        int locked = 0;
        Parallel.For(0, 500, _ => { lock (gate) locked++; });
        Observe($"{where}: Parallel.For with lock {locked}");
        var squares = Enumerable.Range(1, 100).AsParallel().Select(i => i * i).ToList();
        Observe($"{where}: PLINQ count {squares.Count} sum {squares.Sum()}");
        var ordered = Enumerable.Range(1, 20).AsParallel().AsOrdered().Where(i => i % 3 == 0).ToArray();
        Observe($"{where}: PLINQ ordered {string.Join(",", ordered)}");
        string broke;
        var result = Parallel.For(0, 1000, (i, state) => { if (i == 10) state.Stop(); });
        broke = $"completed {result.IsCompleted}";
        Observe($"{where}: Parallel.For with Stop: {broke}");
        try
        {
            Parallel.For(0, 10, i => { if (i == 3) throw new InvalidOperationException("in body"); });
            Observe($"{where}: no exception");
        }
        catch (AggregateException e)
        {
            Observe($"{where}: AggregateException of {e.InnerExceptions.Select(x => x.GetType().Name).Distinct().Single()}");
        }

        var invoked = new ConcurrentBag<string>();
        Parallel.Invoke(() => invoked.Add("a"), () => { Thread.Sleep(5); invoked.Add("b"); }, () => invoked.Add("c"));
        Observe($"{where}: Parallel.Invoke {string.Join(",", invoked.Order())}");
    }

    /// <summary>Parallel.For/ForEach/Invoke and PLINQ called on the main thread.</summary>
    private static void DiffP1ParallelFromMain() => ParallelBody("main");

    /// <summary>The same, called from a plain thread.</summary>
    private static void DiffP1ParallelFromThread()
    {
        var t = new Thread(() => ParallelBody("thread"));
        t.Start();
        t.Join();
    }

    /// <summary>ThreadPool.QueueUserWorkItem waited for with ManualResetEventSlim, CountdownEvent and a WaitHandle.</summary>
    private static void DiffP1ThreadPoolWaits()
    {
        using var done = new ManualResetEventSlim();
        bool onPool = false;
        ThreadPool.QueueUserWorkItem(_ => { onPool = Thread.CurrentThread.IsThreadPoolThread; done.Set(); });
        done.Wait();
        Observe($"work item ran on the pool: {onPool}");
        using var countdown = new CountdownEvent(20);
        long sum = 0;
        for (int i = 1; i <= 20; i++)
        {
            int n = i;
            ThreadPool.QueueUserWorkItem(_ => { Interlocked.Add(ref sum, n); countdown.Signal(); });
        }

        countdown.Wait();
        Observe($"20 items, sum {Interlocked.Read(ref sum)}");
        using var handle = new AutoResetEvent(false);
        string state = "";
        ThreadPool.QueueUserWorkItem(s => { state = s; handle.Set(); }, "typed state", preferLocal: false);
        handle.WaitOne();
        Observe($"state '{state}'");

        // The pool item waits on an event a plain thread sets: the pool blocks natively, the plain thread must run.
        using var fromThread = new ManualResetEventSlim();
        using var poolDone = new ManualResetEventSlim();
        ThreadPool.QueueUserWorkItem(_ => { fromThread.Wait(); poolDone.Set(); });
        var setter = new Thread(() => fromThread.Set());
        setter.Start();
        poolDone.Wait();
        setter.Join();
        Observe("pool item released by a plain thread");

        // RegisterWaitForSingleObject: the callback runs on the pool when a plain thread sets the event.
        using var registered = new AutoResetEvent(false);
        using var callbackRan = new ManualResetEventSlim();
        bool timedOut = true;
        var registration = ThreadPool.RegisterWaitForSingleObject(registered, (_, t) => { timedOut = t; callbackRan.Set(); }, null, 10_000, executeOnlyOnce: true);
        new Thread(() => registered.Set()).Start();
        callbackRan.Wait();
        registration.Unregister(null);
        Observe($"RegisterWaitForSingleObject ran, timed out {timedOut}");
    }

    /// <summary>System.Timers.Timer and System.Threading.Timer with Change and Dispose(WaitHandle).</summary>
    private static void DiffP1Timers()
    {
        using var timersTimer = new System.Timers.Timer(5) { AutoReset = true };
        int elapsed = 0;
        using var enough = new ManualResetEventSlim();
        timersTimer.Elapsed += (_, _) => { if (Interlocked.Increment(ref elapsed) == 3) enough.Set(); };
        timersTimer.Start();
        enough.Wait();
        timersTimer.Stop();
        Observe("System.Timers.Timer elapsed 3 times");

        using var once = new ManualResetEventSlim();
        int onceCount = 0;
        using var oneShot = new System.Timers.Timer(5) { AutoReset = false };
        oneShot.Elapsed += (_, _) => { Interlocked.Increment(ref onceCount); once.Set(); };
        oneShot.Start();
        once.Wait();
        Thread.Sleep(30);
        Observe($"AutoReset=false fired {Volatile.Read(ref onceCount)} time(s)");

        // A timer created disabled, then started with Change; then stopped with Change(Infinite).
        int ticks = 0;
        using var started = new ManualResetEventSlim();
        var timer = new Timer(_ => { Interlocked.Increment(ref ticks); started.Set(); }, null, Timeout.Infinite, Timeout.Infinite);
        Thread.Sleep(20);
        Observe($"disabled timer ticks: {Volatile.Read(ref ticks)}");
        timer.Change(0, 5);
        started.Wait();
        timer.Change(Timeout.Infinite, Timeout.Infinite);
        Observe("Change started it and stopped it");

        // Dispose(WaitHandle): the handle is signalled once no callback is running any more.
        using var inCallback = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        bool callbackFinished = false;
        var slow = new Timer(_ =>
        {
            if (inCallback.IsSet) return;
            inCallback.Set();
            release.Wait();
            Volatile.Write(ref callbackFinished, true);
        }, null, 0, Timeout.Infinite);
        inCallback.Wait();
        using var disposed = new ManualResetEvent(false);
        bool accepted = slow.Dispose(disposed);
        bool signalledEarly = disposed.WaitOne(20);
        var releaser = new Thread(() => release.Set());
        releaser.Start();
        disposed.WaitOne();
        releaser.Join();
        Observe($"Dispose(handle) accepted {accepted}, signalled while the callback ran {signalledEarly}, callback finished first {Volatile.Read(ref callbackFinished)}");
        timer.Dispose();
    }

    /// <summary>CancelAfter waited on through token.WaitHandle; Register callbacks run by Cancel on the cancelling thread.</summary>
    private static void DiffP1Cancellation()
    {
        using var cts = new CancellationTokenSource();
        var order = new List<string>();
        using var callbacksDone = new CountdownEvent(2);
        cts.Token.Register(() => { lock (order) order.Add("first registered"); callbacksDone.Signal(); });
        cts.Token.Register(() => { lock (order) order.Add("second registered"); callbacksDone.Signal(); });
        cts.CancelAfter(20);
        bool signalled = cts.Token.WaitHandle.WaitOne(10_000);
        callbacksDone.Wait(); // the handle is set before the callbacks run (on the timer's thread)
        lock (order) Observe($"WaitHandle signalled {signalled}, cancelled {cts.IsCancellationRequested}, callbacks {string.Join(",", order)}");

        using var manual = new CancellationTokenSource();
        int canceller = -1, callbackThread = -2;
        manual.Token.Register(() => callbackThread = Environment.CurrentManagedThreadId);
        var cancellingThread = new Thread(() =>
        {
            canceller = Environment.CurrentManagedThreadId;
            manual.Cancel();
        });
        bool woke = false;
        var waiter = new Thread(() => woke = manual.Token.WaitHandle.WaitOne(10_000));
        waiter.Start();
        cancellingThread.Start();
        waiter.Join();
        cancellingThread.Join();
        Observe($"waiter woke {woke}; callback ran on the cancelling thread {canceller == callbackThread}");

        using var linkedA = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(linkedA.Token, CancellationToken.None);
        string thrown = "none";
        var worker = new Thread(() =>
        {
            try
            {
                while (true)
                {
                    linked.Token.ThrowIfCancellationRequested();
                    Thread.Sleep(1);
                }
            }
            catch (OperationCanceledException e)
            {
                thrown = $"OperationCanceledException, token matches {e.CancellationToken == linked.Token}";
            }
        });
        worker.Start();
        Thread.Sleep(5);
        linkedA.Cancel();
        worker.Join();
        Observe($"linked: {thrown}");

        using var sem = new SemaphoreSlim(0);
        using var timeoutCts = new CancellationTokenSource(20);
        string semWait;
        try { sem.Wait(timeoutCts.Token); semWait = "acquired"; }
        catch (OperationCanceledException) { semWait = "OperationCanceledException"; }
        Observe($"SemaphoreSlim.Wait(token) with a 20 ms source: {semWait}");

        using var mres = new ManualResetEventSlim();
        using var cancelFromThread = new CancellationTokenSource();
        string mresWait = "?";
        var m = new Thread(() =>
        {
            try { mres.Wait(cancelFromThread.Token); mresWait = "set"; }
            catch (OperationCanceledException) { mresWait = "OperationCanceledException"; }
        });
        m.Start();
        Thread.Sleep(5);
        cancelFromThread.Cancel();
        m.Join();
        Observe($"ManualResetEventSlim.Wait(token) cancelled from main: {mresWait}");
    }

    /// <summary>Task.Delay(..).Wait(), Task.WhenAll(delays).Wait() and Task.Delay with a token, from plain threads.</summary>
    private static void DiffP1TaskDelayWait()
    {
        string result = "?";
        var t = new Thread(() =>
        {
            Task.Delay(10).Wait();
            Task.WhenAll(Task.Delay(5), Task.Delay(10), Task.Delay(15)).Wait();
            bool inTime = Task.Delay(5).Wait(10_000);
            bool notInTime = Task.Delay(10_000).Wait(10);
            using var cts = new CancellationTokenSource(10);
            string cancelled;
            try { Task.Delay(10_000, cts.Token).Wait(); cancelled = "completed"; }
            catch (AggregateException e) { cancelled = e.InnerException!.GetType().Name; }
            int any = Task.WaitAny(Task.Delay(10_000), Task.Delay(5));
            result = $"in time {inTime}, short wait {notInTime}, cancelled delay {cancelled}, WaitAny {any}";
        });
        t.Start();
        t.Join();
        Observe(result);
        Task.Delay(5).Wait();
        Task.Delay(5).GetAwaiter().GetResult();
        Observe("main: Delay.Wait and GetResult returned");
    }

    /// <summary>ConcurrentDictionary.GetOrAdd/AddOrUpdate with factories that take a lock and sleep, from 8 threads.</summary>
    private static void DiffP1GetOrAddLocks()
    {
        var dict = new ConcurrentDictionary<int, string>();
        object factoryGate = new();
        int factoryCalls = 0;
        var threads = Enumerable.Range(0, 8).Select(i => new Thread(() =>
        {
            for (int k = 0; k < 10; k++)
            {
                dict.GetOrAdd(k, key =>
                {
                    lock (factoryGate)
                    {
                        factoryCalls++;
                        Thread.Sleep(0);
                        return "v" + key;
                    }
                });
                dict.AddOrUpdate(100, _ => "1", (_, old) =>
                {
                    lock (factoryGate) return (int.Parse(old) + 1).ToString();
                });
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe($"keys {dict.Count}, values {string.Join(",", Enumerable.Range(0, 10).Select(k => dict[k]))}, counter {dict[100]}, factory ran at least once per key {factoryCalls >= 10}");
        var lazyDict = new ConcurrentDictionary<string, Lazy<int>>();
        int lazyRuns = 0;
        var ts = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
        {
            _ = lazyDict.GetOrAdd("k", _ => new Lazy<int>(() => { Interlocked.Increment(ref lazyRuns); Thread.Sleep(5); return 42; })).Value;
        })).ToList();
        ts.ForEach(t => t.Start());
        ts.ForEach(t => t.Join());
        Observe($"GetOrAdd of a Lazy: value {lazyDict["k"].Value}, runs {lazyRuns}");
    }

    /// <summary>ConcurrentQueue producer/consumer signalled with SemaphoreSlim; a poison pill per consumer.</summary>
    private static void DiffP1QueueSemaphoreSlim()
    {
        var queue = new ConcurrentQueue<int>();
        using var items = new SemaphoreSlim(0);
        long sum = 0;
        int taken = 0;
        var consumers = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
        {
            while (true)
            {
                items.Wait();
                if (!queue.TryDequeue(out int v)) throw new InvalidOperationException("signalled but empty");
                if (v < 0) return;
                Interlocked.Add(ref sum, v);
                Interlocked.Increment(ref taken);
            }
        })).ToList();
        consumers.ForEach(t => t.Start());
        var producers = Enumerable.Range(0, 2).Select(p => new Thread(() =>
        {
            for (int i = 1; i <= 300; i++)
            {
                queue.Enqueue(i);
                items.Release();
                if (i % 50 == 0) Thread.Sleep(1);
            }
        })).ToList();
        producers.ForEach(t => t.Start());
        producers.ForEach(t => t.Join());
        for (int i = 0; i < consumers.Count; i++) { queue.Enqueue(-1); items.Release(); }
        consumers.ForEach(t => t.Join());
        Observe($"taken {taken}, sum {sum}, left {queue.Count}, semaphore {items.CurrentCount}");
        bool timedOut = items.Wait(20);
        Observe($"Wait(20) on an empty semaphore: {timedOut}");
    }

    /// <summary>Thread.Join(TimeSpan) and Join(int) on a running, a finished and an unstarted thread; bad timeouts.</summary>
    private static void DiffP1JoinTimeSpan()
    {
        using var go = new ManualResetEventSlim();
        var t = new Thread(() => go.Wait());
        t.Start();
        Observe($"Join(TimeSpan 20 ms) while waiting: {t.Join(TimeSpan.FromMilliseconds(20))}");
        Observe($"Join(TimeSpan.Zero) while waiting: {t.Join(TimeSpan.Zero)}");
        Observe($"Join(0) while waiting: {t.Join(0)}");
        go.Set();
        Observe($"Join(TimeSpan 10 s) after release: {t.Join(TimeSpan.FromSeconds(10))}");
        Observe($"Join(0) when finished: {t.Join(0)}, Join(TimeSpan.Zero) {t.Join(TimeSpan.Zero)}");
        Observe($"Join(Timeout.InfiniteTimeSpan) when finished: {t.Join(Timeout.InfiniteTimeSpan)}");
        string unstarted;
        try { new Thread(() => { }).Join(10); unstarted = "no exception"; }
        catch (ThreadStateException) { unstarted = "ThreadStateException"; }
        Observe($"Join of an unstarted thread: {unstarted}");
        string negative;
        try { t.Join(-5); negative = "no exception"; }
        catch (ArgumentOutOfRangeException) { negative = "ArgumentOutOfRangeException"; }
        Observe($"Join(-5): {negative}");
        string negativeSpan;
        try { t.Join(TimeSpan.FromMilliseconds(-5)); negativeSpan = "no exception"; }
        catch (ArgumentOutOfRangeException) { negativeSpan = "ArgumentOutOfRangeException"; }
        Observe($"Join(TimeSpan -5 ms): {negativeSpan}");
        Observe($"main joins itself: Join(10) {Thread.CurrentThread.Join(10)}, Join(TimeSpan 10 ms) {Thread.CurrentThread.Join(TimeSpan.FromMilliseconds(10))}");
        string selfJoin = "?";
        var joinsItself = new Thread(() => selfJoin = $"Join(10) {Thread.CurrentThread.Join(10)}, Join(TimeSpan.Zero) {Thread.CurrentThread.Join(TimeSpan.Zero)}");
        joinsItself.Start();
        joinsItself.Join();
        Observe($"a thread joins itself: {selfJoin}");
    }

    /// <summary>What Thread.CurrentThread says inside a started thread: priority, pool flag, ids, background, state, culture.</summary>
    private static void DiffP1ThreadProperties()
    {
        var ids = new ConcurrentBag<int>();
        var lines = new ConcurrentBag<string>();
        var culture = new System.Globalization.CultureInfo("fr-FR");
        var threads = Enumerable.Range(0, 20).Select(i => new Thread(() =>
        {
            var me = Thread.CurrentThread;
            ids.Add(me.ManagedThreadId);
            if (i == 0)
            {
                lines.Add($"inside: priority {me.Priority}, pool {me.IsThreadPoolThread}, background {me.IsBackground}, alive {me.IsAlive}, state {me.ThreadState}, name {me.Name}, culture {me.CurrentCulture.Name}, apartment {me.GetApartmentState()}");
                me.Priority = ThreadPriority.Highest;
                lines.Add($"priority set inside: {me.Priority}");
                me.IsBackground = true;
                lines.Add($"background set inside: {me.IsBackground}, state {me.ThreadState}");
                lines.Add($"same object: {ReferenceEquals(me, Thread.CurrentThread)}, ManagedThreadId == CurrentManagedThreadId {me.ManagedThreadId == Environment.CurrentManagedThreadId}");
            }
        })
        {
            Name = i == 0 ? "first" : null,
            Priority = i == 0 ? ThreadPriority.BelowNormal : ThreadPriority.Normal,
            CurrentCulture = culture,
        }).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        foreach (var line in lines.Order()) Observe(line);
        Observe($"ids unique: {ids.Distinct().Count() == 20}, main's differs: {!ids.Contains(Environment.CurrentManagedThreadId)}");
        var main = Thread.CurrentThread;
        Observe($"main: priority {main.Priority}, pool {main.IsThreadPoolThread}, background {main.IsBackground}, state {main.ThreadState}");
        Observe($"after join: state {threads[0].ThreadState}, alive {threads[0].IsAlive}");
        string lateName;
        try { threads[0].Name = "renamed"; lateName = "no exception"; }
        catch (InvalidOperationException) { lateName = "InvalidOperationException"; }
        Observe($"renaming a named thread: {lateName}");
    }

}
