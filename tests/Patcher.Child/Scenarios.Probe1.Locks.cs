using System.Collections.Concurrent;

// Probe 1, locks and waits: Monitor corner cases, System.Threading.Lock, Lazy, nested and storming Monitor.Wait/PulseAll,
// finalizers that lock, Barrier, ReaderWriterLockSlim (dispatched by RunProbe1 in Scenarios.Probe1.cs).
internal static partial class Scenarios
{
    /// <summary>Monitor.TryEnter with zero, int and TimeSpan timeouts, ref-bool overloads, IsEntered, reentrancy.</summary>
    private static void DiffP1MonitorTryEnter()
    {
        object gate = new();
        using var holding = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            lock (gate)
            {
                holding.Set();
                release.Wait();
            }
        });
        holder.Start();
        holding.Wait();
        bool zero = Monitor.TryEnter(gate);
        bool timed = Monitor.TryEnter(gate, 20);
        bool span = Monitor.TryEnter(gate, TimeSpan.FromMilliseconds(20));
        bool refTaken = false;
        Monitor.TryEnter(gate, 20, ref refTaken);
        bool refSpan = false;
        Monitor.TryEnter(gate, TimeSpan.FromMilliseconds(1), ref refSpan);
        Observe($"while held elsewhere: zero {zero}, int {timed}, TimeSpan {span}, ref {refTaken}, ref TimeSpan {refSpan}, IsEntered {Monitor.IsEntered(gate)}");
        var releaser = new Thread(() => { Thread.Sleep(10); release.Set(); });
        releaser.Start();
        bool waited = Monitor.TryEnter(gate, 10_000);
        Observe($"TryEnter(10 s) after the holder lets go: {waited}, IsEntered {Monitor.IsEntered(gate)}");
        bool again = Monitor.TryEnter(gate, 0);
        Observe($"reentrant TryEnter: {again}");
        Monitor.Exit(gate);
        Monitor.Exit(gate);
        holder.Join();
        releaser.Join();
        string extra;
        try { Monitor.Exit(gate); extra = "no exception"; }
        catch (SynchronizationLockException) { extra = "SynchronizationLockException"; }
        Observe($"Exit once too often: {extra}");
        string bad;
        try { Monitor.TryEnter(gate, -2); bad = "no exception"; }
        catch (ArgumentOutOfRangeException) { bad = "ArgumentOutOfRangeException"; }
        Observe($"TryEnter(-2): {bad}");

        // A hashed object (the thin lock falls back) still excludes and times out.
        object hashed = new();
        _ = hashed.GetHashCode();
        bool hashedOther = true;
        lock (hashed)
        {
            var t = new Thread(() => hashedOther = Monitor.TryEnter(hashed, 20));
            t.Start();
            t.Join();
        }

        Observe($"hashed object TryEnter(20) while held: {hashedOther}");
    }

    /// <summary>System.Threading.Lock: lock(Lock), EnterScope, TryEnter with timeouts, IsHeldByCurrentThread, Exit errors.</summary>
    private static void DiffP1LockType()
    {
        var gate = new Lock();
        int counter = 0;
        var threads = Enumerable.Range(0, 6).Select(i => new Thread(() =>
        {
            for (int k = 0; k < 50; k++)
            {
                if (i % 3 == 0)
                {
                    lock (gate) { int c = counter; if (k % 10 == 0) Thread.Sleep(0); counter = c + 1; }
                }
                else if (i % 3 == 1)
                {
                    using (gate.EnterScope()) { int c = counter; if (k % 10 == 0) Thread.Yield(); counter = c + 1; }
                }
                else
                {
                    while (!gate.TryEnter(1)) { }
                    try { int c = counter; counter = c + 1; }
                    finally { gate.Exit(); }
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe($"counter {counter}");
        bool other = true, otherSpan = true, otherZero = true;
        using (gate.EnterScope())
        {
            var t = new Thread(() =>
            {
                otherZero = gate.TryEnter();
                other = gate.TryEnter(20);
                otherSpan = gate.TryEnter(TimeSpan.FromMilliseconds(20));
            });
            t.Start();
            t.Join();
            Observe($"held: IsHeldByCurrentThread {gate.IsHeldByCurrentThread}; other thread TryEnter() {otherZero}, (20) {other}, (TimeSpan) {otherSpan}");
        }

        string exit;
        try { gate.Exit(); exit = "no exception"; }
        catch (SynchronizationLockException) { exit = "SynchronizationLockException"; }
        Observe($"Exit without holding: {exit}");
        using var holding = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            gate.Enter();
            holding.Set();
            Thread.Sleep(20);
            gate.Exit();
        });
        holder.Start();
        holding.Wait();
        bool waited = gate.TryEnter(10_000);
        if (waited) gate.Exit();
        holder.Join();
        Observe($"TryEnter(10 s) after the holder's sleep: {waited}");
    }

    /// <summary>Lazy in every thread-safety mode, with 8 threads reading at once and a slow factory; a throwing factory.</summary>
    private static void DiffP1LazyModes()
    {
        foreach (var mode in new[] { LazyThreadSafetyMode.ExecutionAndPublication, LazyThreadSafetyMode.PublicationOnly })
        {
            int runs = 0;
            var lazy = new Lazy<object>(() => { Interlocked.Increment(ref runs); Thread.Sleep(5); return new object(); }, mode);
            var seen = new ConcurrentBag<object>();
            using var go = new ManualResetEvent(false);
            var threads = Enumerable.Range(0, 8).Select(_ => new Thread(() => { go.WaitOne(); seen.Add(lazy.Value); })).ToList();
            threads.ForEach(t => t.Start());
            go.Set();
            threads.ForEach(t => t.Join());
            string runsText = mode == LazyThreadSafetyMode.ExecutionAndPublication ? runs.ToString() : (runs >= 1 ? "≥1" : "0");
            Observe($"{mode}: factory runs {runsText}, one instance seen {seen.Distinct().Count() == 1}");
        }

        int throwing = 0;
        var failing = new Lazy<int>(() => { Interlocked.Increment(ref throwing); throw new InvalidOperationException("factory"); }, LazyThreadSafetyMode.ExecutionAndPublication);
        var errors = new ConcurrentBag<string>();
        var readers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            try { _ = failing.Value; errors.Add("value"); }
            catch (InvalidOperationException e) { errors.Add(e.Message); }
        })).ToList();
        readers.ForEach(t => t.Start());
        readers.ForEach(t => t.Join());
        Observe($"throwing factory: runs {throwing}, every reader saw {string.Join(",", errors.Distinct())}");

        int unsafeRuns = 0;
        var single = new Lazy<int>(() => ++unsafeRuns, LazyThreadSafetyMode.None);
        var st = new Thread(() => _ = single.Value);
        st.Start();
        st.Join();
        Observe($"None mode from another thread: {single.Value}, runs {unsafeRuns}");

        object? target = null;
        bool initialized = false;
        object syncLock = new();
        int ensureRuns = 0;
        var ensure = Enumerable.Range(0, 5).Select(_ => new Thread(() =>
            LazyInitializer.EnsureInitialized(ref target, ref initialized, ref syncLock, () => { Interlocked.Increment(ref ensureRuns); Thread.Sleep(2); return new object(); }))).ToList();
        ensure.ForEach(t => t.Start());
        ensure.ForEach(t => t.Join());
        Observe($"LazyInitializer with a lock: runs {ensureRuns}");
    }

    /// <summary>1000 threads each take one lock 20 times; the sum is exact and the lock ends free.</summary>
    private static void DiffP1ThousandThreadsOneLock()
    {
        object gate = new();
        int counter = 0, maxInside = 0, inside = 0;
        using var go = new ManualResetEvent(false);
        var threads = Enumerable.Range(0, 1000).Select(_ => new Thread(() =>
        {
            go.WaitOne();
            for (int i = 0; i < 20; i++)
            {
                lock (gate)
                {
                    int now = ++inside;
                    if (now > maxInside) maxInside = now;
                    counter++;
                    if (i % 7 == 0) Thread.Yield();
                    inside--;
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        go.Set();
        threads.ForEach(t => t.Join());
        Observe($"counter {counter}, most inside at once {maxInside}, free after: {Monitor.TryEnter(gate)}");
    }

    /// <summary>Monitor.Wait on an inner lock releases only the inner one: the outer stays held while the waiter sleeps.</summary>
    private static void DiffP1NestedLockWait()
    {
        object outer = new(), inner = new();
        using var waiting = new ManualResetEventSlim();
        bool pulsed = false, outerHeldDuringWait = false, innerFree = false;
        var waiter = new Thread(() =>
        {
            lock (outer)
            {
                lock (inner)
                {
                    waiting.Set();
                    pulsed = Monitor.Wait(inner, 10_000);
                    outerHeldDuringWait = Monitor.IsEntered(outer);
                }
            }
        });
        waiter.Start();
        waiting.Wait();
        bool outerFromMain = Monitor.TryEnter(outer, 20);
        lock (inner)
        {
            innerFree = true;
            Monitor.Pulse(inner);
        }

        waiter.Join();
        Observe($"outer free while waiting: {outerFromMain}; inner taken by main: {innerFree}; pulsed {pulsed}; outer held after wait {outerHeldDuringWait}");

        // Reentrant: Wait on a lock entered twice releases both levels and restores both.
        object re = new();
        bool reFree = false;
        int depthRestored = 0;
        using var reWaiting = new ManualResetEventSlim();
        var reWaiter = new Thread(() =>
        {
            lock (re)
            {
                lock (re)
                {
                    reWaiting.Set();
                    Monitor.Wait(re, 10_000);
                }

                depthRestored = Monitor.IsEntered(re) ? 1 : 0;
            }

            depthRestored += Monitor.IsEntered(re) ? 10 : 0;
        });
        reWaiter.Start();
        reWaiting.Wait();
        reFree = Monitor.TryEnter(re, 10_000);
        Monitor.Pulse(re);
        Monitor.Exit(re);
        reWaiter.Join();
        Observe($"twice-entered lock free during Wait: {reFree}; still held after the inner exit: {depthRestored == 1}");
    }

    /// <summary>50 threads Monitor.Wait on one object; PulseAll storms wake them in rounds; a generation counter ends it.</summary>
    private static void DiffP1PulseAllStorm()
    {
        object gate = new();
        int generation = 0, arrived = 0, woke = 0;
        const int Threads = 50, Rounds = 10;
        var threads = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
        {
            for (int round = 0; round < Rounds; round++)
            {
                lock (gate)
                {
                    int myGeneration = generation;
                    if (++arrived == Threads)
                    {
                        arrived = 0;
                        generation++;
                        Monitor.PulseAll(gate);
                    }
                    else
                    {
                        while (generation == myGeneration) Monitor.Wait(gate);
                    }

                    woke++;
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe($"generations {generation}, wakes {woke}");
        // Pulse with nobody waiting is lost; a later Wait times out.
        lock (gate)
        {
            Monitor.Pulse(gate);
            Monitor.PulseAll(gate);
            Observe($"Wait(20) after pulses with nobody waiting: {Monitor.Wait(gate, 20)}");
        }
    }

    private sealed class LockingFinalizable(object gate, int[] finalized)
    {
        ~LockingFinalizable()
        {
            lock (gate) finalized[0]++;
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void MakeGarbage(object gate, int[] finalized)
    {
        for (int i = 0; i < 10; i++) _ = new LockingFinalizable(gate, finalized);
    }

    /// <summary>GC.Collect + WaitForPendingFinalizers while another thread holds the lock the finalizers take.</summary>
    private static void DiffP1FinalizerLock()
    {
        object gate = new();
        var finalized = new int[1];
        MakeGarbage(gate, finalized);
        using var holding = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            lock (gate)
            {
                holding.Set();
                Thread.Sleep(30);
            }
        });
        holder.Start();
        holding.Wait();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        holder.Join();
        lock (gate) Observe($"finalizers ran: {finalized[0]}");
    }

    private static readonly AsyncLocal<string> s_p1Flow = new();

    /// <summary>ExecutionContext flows into a started thread unless flow is suppressed; AsyncLocal set inside stays there.</summary>
    private static void DiffP1SuppressFlow()
    {
        s_p1Flow.Value = "from main";
        string flowed = "?", suppressed = "?", unsafeStarted = "?";
        var t = new Thread(() => flowed = s_p1Flow.Value ?? "null");
        t.Start();
        t.Join();
        Thread t2;
        using (ExecutionContext.SuppressFlow())
        {
            t2 = new Thread(() => suppressed = s_p1Flow.Value ?? "null");
            t2.Start();
        }

        t2.Join();
        var t3 = new Thread(() => unsafeStarted = s_p1Flow.Value ?? "null");
        t3.UnsafeStart();
        t3.Join();
        var t4 = new Thread(() => s_p1Flow.Value = "changed inside");
        t4.Start();
        t4.Join();
        Observe($"flowed '{flowed}', suppressed '{suppressed}', UnsafeStart '{unsafeStarted}', main after a thread changed it '{s_p1Flow.Value}'");
        var captured = ExecutionContext.Capture()!;
        s_p1Flow.Value = "main changed";
        string ran = "?";
        var t5 = new Thread(() => ExecutionContext.Run(captured, _ => ran = s_p1Flow.Value ?? "null", null));
        t5.Start();
        t5.Join();
        Observe($"ExecutionContext.Run on a thread: '{ran}'");
        Observe($"IsFlowSuppressed outside: {ExecutionContext.IsFlowSuppressed()}");
    }

    /// <summary>A Barrier whose post-phase action throws: every participant gets BarrierPostPhaseException, the barrier goes on.</summary>
    private static void DiffP1BarrierThrowingAction()
    {
        int phase = 0;
        using var barrier = new Barrier(3, b => { if (Interlocked.Increment(ref phase) == 1) throw new InvalidOperationException("post-phase"); });
        var results = new ConcurrentBag<string>();
        var threads = Enumerable.Range(0, 3).Select(i => new Thread(() =>
        {
            try { barrier.SignalAndWait(); results.Add("phase 0 ok"); }
            catch (BarrierPostPhaseException e) { results.Add($"phase 0 {e.InnerException!.Message}"); }
            barrier.SignalAndWait();
            results.Add("phase 1 ok");
            bool timed = barrier.SignalAndWait(i == 0 ? 20 : 10_000);
            if (i == 0 && !timed) results.Add("timed out alone");
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe(string.Join(",", results.Order()));
        Observe($"phase number {barrier.CurrentPhaseNumber}, participants {barrier.ParticipantCount}");
        string disposed;
        barrier.Dispose();
        try { barrier.SignalAndWait(); disposed = "no exception"; }
        catch (ObjectDisposedException) { disposed = "ObjectDisposedException"; }
        Observe($"SignalAndWait after Dispose: {disposed}");
    }

    /// <summary>ReaderWriterLockSlim with 20 readers and 5 writers; upgradeable reads; recursion policy errors.</summary>
    private static void DiffP1RwLockSlimMany()
    {
        using var rw = new ReaderWriterLockSlim();
        int value = 0, readers = 0, maxReaders = 0, writerOverlap = 0;
        var threads = new List<Thread>();
        for (int r = 0; r < 20; r++)
        {
            threads.Add(new Thread(() =>
            {
                for (int i = 0; i < 20; i++)
                {
                    rw.EnterReadLock();
                    int now = Interlocked.Increment(ref readers);
                    int seen;
                    do { seen = maxReaders; } while (now > seen && Interlocked.CompareExchange(ref maxReaders, now, seen) != seen);
                    if (i % 4 == 0) Thread.Sleep(1);
                    Interlocked.Decrement(ref readers);
                    rw.ExitReadLock();
                }
            }));
        }

        for (int w = 0; w < 5; w++)
        {
            threads.Add(new Thread(() =>
            {
                for (int i = 0; i < 20; i++)
                {
                    rw.EnterWriteLock();
                    if (Volatile.Read(ref readers) != 0) Interlocked.Increment(ref writerOverlap);
                    int v = value;
                    if (i % 5 == 0) Thread.Yield();
                    value = v + 1;
                    rw.ExitWriteLock();
                }
            }));
        }

        for (int u = 0; u < 3; u++)
        {
            threads.Add(new Thread(() =>
            {
                for (int i = 0; i < 10; i++)
                {
                    rw.EnterUpgradeableReadLock();
                    int v = value;
                    rw.EnterWriteLock();
                    value = v + 1;
                    rw.ExitWriteLock();
                    rw.ExitUpgradeableReadLock();
                }
            }));
        }

        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe($"value {value}, writer saw readers {writerOverlap}, readers ever shared {maxReaders > 1}");
        string recursion;
        rw.EnterReadLock();
        try { rw.EnterReadLock(); recursion = "no exception"; }
        catch (LockRecursionException) { recursion = "LockRecursionException"; }
        bool writeTimed = true;
        var w2 = new Thread(() => writeTimed = rw.TryEnterWriteLock(20));
        w2.Start();
        w2.Join();
        rw.ExitReadLock();
        Observe($"read recursion: {recursion}; TryEnterWriteLock(20) while read-held: {writeTimed}; held after: {rw.IsReadLockHeld}");
    }
}
