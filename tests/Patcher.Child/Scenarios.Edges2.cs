using System.Collections.Concurrent;
using System.Globalization;

// Edges of the patched APIs, second pass: misuse the BCL answers with an exception (type, parameter name and message
// are compared, not just the type), locks left held or released by exceptions, recursion through Monitor.Wait, named
// kernel objects shared inside the process. Dispatched by RunDifferential's default branch.
internal static partial class Scenarios
{
    private static bool RunEdges(string name)
    {
        switch (name)
        {
            case "diff-edge-thread-misuse": DiffEdgeThreadMisuse(); return true;
            case "diff-edge-monitor-misuse": DiffEdgeMonitorMisuse(); return true;
            case "diff-edge-recursion-wait": DiffEdgeRecursionWait(); return true;
            case "diff-edge-lock-left-held": DiffEdgeLockLeftHeld(); return true;
            case "diff-edge-named-objects": DiffEdgeNamedObjects(); return true;
            case "diff-edge-primitive-misuse": DiffEdgePrimitiveMisuse(); return true;
            case "diff-edge-rwlock-misuse": DiffEdgeRwLockMisuse(); return true;
            case "diff-edge-timeout-messages": DiffEdgeTimeoutMessages(); return true;
            case "diff-edge-interrupt-vs-arguments": DiffEdgeInterruptVsArguments(); return true;
            case "diff-edge-interrupt-pending-timed-waits": DiffEdgeInterruptPendingTimedWaits(); return true;
            case "diff-edge-mutex-in-multiple-waits": DiffEdgeMutexInMultipleWaits(); return true;
            case "diff-edge-wait-restores-recursion": DiffEdgeWaitRestoresRecursion(); return true;
            case "diff-edge-lock-type-misuse": DiffEdgeLockTypeMisuse(); return true;
            default: return false;
        }
    }

    /// <summary>The exception's type, parameter name and message: the shape a caller could depend on.</summary>
    private static string Shape(Action action)
    {
        try
        {
            action();
            return "no exception";
        }
        catch (Exception e)
        {
            string param = e is ArgumentException a && a.ParamName != null ? $"({a.ParamName})" : "";
            return $"{e.GetType().Name}{param}: {e.Message.ReplaceLineEndings(" / ")}";
        }
    }

    private static void WaitUntilBlocked(Thread t)
    {
        while ((t.ThreadState & ThreadState.WaitSleepJoin) == 0) Thread.Yield();
    }

    /// <summary>Thread API misuse: Join before Start, Start(null), the unsupported Abort/Suspend/Resume, names, priority.</summary>
    private static void DiffEdgeThreadMisuse()
    {
        var unstarted = new Thread(() => { });
        Observe($"Join on an unstarted thread: {Shape(() => unstarted.Join())}");
        Observe($"Join(10) on an unstarted thread: {Shape(() => unstarted.Join(10))}");
        Observe($"Join(TimeSpan) on an unstarted thread: {Shape(() => unstarted.Join(TimeSpan.FromMilliseconds(10)))}");
        Observe($"Join(-2) on an unstarted thread: {Shape(() => unstarted.Join(-2))}");
        Observe($"ThreadState of an unstarted thread: {unstarted.ThreadState}, alive {unstarted.IsAlive}");
        object? got = "unset";
        var parameterized = new Thread(o => got = o);
        parameterized.Start(null);
        parameterized.Join();
        Observe($"Start(null) on a ParameterizedThreadStart: got {got ?? "null"}");
        var noArg = new Thread(o => got = o);
        noArg.Start();
        noArg.Join();
        Observe($"Start() on a ParameterizedThreadStart: got {got ?? "null"}");
        Observe($"Start after the thread ended: {Shape(() => noArg.Start())}");
        using (var hold = new ManualResetEventSlim())
        {
            var live = new Thread(() => hold.Wait());
            live.Start();
            Observe($"Start of a running thread: {Shape(() => live.Start())}");
            Observe($"UnsafeStart of a running thread: {Shape(() => live.UnsafeStart())}");
            hold.Set();
            live.Join();
        }
        Observe($"Join after it ended: {noArg.Join(0)}, state {noArg.ThreadState}");
        var t = new Thread(() => { });
#pragma warning disable CS0618, SYSLIB0006
        Observe($"Abort: {Shape(() => t.Abort())}");
        Observe($"Suspend: {Shape(() => t.Suspend())}");
        Observe($"Resume: {Shape(() => t.Resume())}");
#pragma warning restore CS0618, SYSLIB0006
        Observe($"Name set twice: {Shape(() => { t.Name = "a"; t.Name = "b"; })}, now {t.Name}");
        Observe($"Priority out of range: {Shape(() => t.Priority = (ThreadPriority)9)}");
        Observe($"Priority set: {Shape(() => t.Priority = ThreadPriority.AboveNormal)}, now {t.Priority}");
        Observe($"MaxStackSize -1: {Shape(() => new Thread(() => { }, -1))}");
        string culture = "";
        var c = new Thread(() =>
        {
            CultureInfo.CurrentCulture = new CultureInfo("fr-FR");
            culture = $"{CultureInfo.CurrentCulture.Name} {1.5.ToString(CultureInfo.CurrentCulture)}";
        });
        string before = CultureInfo.CurrentCulture.Name;
        c.Start();
        c.Join();
        Observe($"culture set in a thread: {culture}; main unchanged {CultureInfo.CurrentCulture.Name == before}");
        Thread.MemoryBarrier();
        int id = -1;
        var p = new Thread(() => id = Thread.GetCurrentProcessorId());
        p.Start();
        p.Join();
        Observe($"GetCurrentProcessorId in a thread non-negative: {id >= 0}");
        Observe($"IsThreadPoolThread in a thread: {Shape(() => { if (Thread.CurrentThread.IsThreadPoolThread) throw new Exception("pool"); })}");
        // Joining oneself blocks forever in .NET: only timed.
        var selfTimed = new Thread(() => got = Thread.CurrentThread.Join(10));
        selfTimed.Start();
        selfTimed.Join();
        Observe($"a thread's Join(10) on itself: {got}");
    }

    /// <summary>Monitor misuse and shared lock objects: a boxed value, a string literal, a Type.</summary>
    private static void DiffEdgeMonitorMisuse()
    {
        object gate = new();
        Observe($"Enter(obj, ref true): {Shape(() => { bool taken = true; Monitor.Enter(gate, ref taken); })}");
        Observe($"IsEntered after that: {Monitor.IsEntered(gate)}");
        Observe($"Enter(null, ref taken): {Shape(() => { bool taken = false; Monitor.Enter(null!, ref taken); })}");
        Observe($"TryEnter(obj, TimeSpan -2ms): {Shape(() => Monitor.TryEnter(gate, TimeSpan.FromMilliseconds(-2)))}");
        Observe($"Wait(obj, TimeSpan -2ms): {Shape(() => { lock (gate) Monitor.Wait(gate, TimeSpan.FromMilliseconds(-2)); })}");
        Observe($"Wait without the lock, infinite: {Shape(() => Monitor.Wait(gate))}");
        Observe($"Exit(null): {Shape(() => Monitor.Exit(null!))}");
        Observe($"Pulse(null): {Shape(() => Monitor.Pulse(null!))}");
        Observe($"IsEntered(null): {Shape(() => Monitor.IsEntered(null!))}");

        // Boxing makes a new object each time: Exit on a fresh box of the same value is not the held lock.
        int value = 42;
        Observe($"lock a boxed int, exit another box: {Shape(() => { Monitor.Enter(value); Monitor.Exit(value); })}");

        // A lock held by one thread: another thread's IsEntered is false, its Exit throws, its TryEnter(0) fails.
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
        Observe($"other thread: IsEntered {Monitor.IsEntered(gate)}, TryEnter(0) {Monitor.TryEnter(gate, 0)}, Exit {Shape(() => Monitor.Exit(gate))}, Pulse {Shape(() => Monitor.Pulse(gate))}");
        release.Set();
        holder.Join();

        // A string literal (interned) and a Type object are the same object in every thread.
        foreach (var (label, shared) in new (string, object)[] { ("string literal", "edge-lock"), ("typeof", typeof(Scenarios)) })
        {
            int counter = 0;
            var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
            {
                for (int i = 0; i < 500; i++)
                {
                    lock (shared)
                    {
                        int c = counter;
                        if (i % 50 == 0) Thread.Yield();
                        counter = c + 1;
                    }
                }
            })).ToList();
            threads.ForEach(x => x.Start());
            threads.ForEach(x => x.Join());
            Observe($"lock on a {label} from 4 threads: {counter}");
        }
        Observe($"string literal is the same object: {ReferenceEquals("edge-lock", string.Intern(new string("edge-lock".ToCharArray())))}");
    }

    /// <summary>A lock taken 100 times recursively: Monitor.Wait releases all levels, the pulser gets it, Wait takes all back.</summary>
    private static void DiffEdgeRecursionWait()
    {
        object gate = new();
        bool ready = false;
        string seen = "";
        Thread? waiter = null;
        waiter = new Thread(() =>
        {
            for (int i = 0; i < 100; i++) Monitor.Enter(gate);
            while (!ready) Monitor.Wait(gate);
            int exits = 0;
            while (Monitor.IsEntered(gate))
            {
                Monitor.Exit(gate);
                exits++;
            }
            seen = $"exits after the wait: {exits}";
        });
        waiter.Start();
        WaitUntilBlocked(waiter);
        // The waiter is blocked either in Wait (lock released) or, before it took the lock, nowhere: it takes it first.
        bool got = false;
        while (!got)
        {
            got = Monitor.TryEnter(gate, 0);
            if (!got) Thread.Yield();
        }
        Observe($"pulser got the lock while the waiter holds it 100 deep: {got}, waiter state {waiter.ThreadState & ThreadState.WaitSleepJoin}");
        ready = true;
        Monitor.Pulse(gate);
        // Still held by us: the waiter cannot return from Wait until we leave.
        Observe($"waiter still waiting while we hold it: {!waiter.Join(20)}");
        Monitor.Exit(gate);
        waiter.Join();
        Observe(seen);
        Observe($"free afterwards: {Monitor.TryEnter(gate, 0)}");
        Monitor.Exit(gate);

        // Recursive Lock (System.Threading.Lock) and Monitor.Exit one level too many.
        var l = new Lock();
        for (int i = 0; i < 100; i++) l.Enter();
        int levels = 0;
        while (l.IsHeldByCurrentThread)
        {
            l.Exit();
            levels++;
        }
        Observe($"Lock entered 100 deep, exited {levels}; one more Exit: {Shape(() => l.Exit())}");
    }

    /// <summary>An exception inside a lock body releases it; a thread that ends holding a lock leaves it held.</summary>
    private static void DiffEdgeLockLeftHeld()
    {
        object gate = new();
        var thrower = new Thread(() =>
        {
            try
            {
                lock (gate) throw new InvalidOperationException("in the lock");
            }
            catch (InvalidOperationException)
            {
            }
        });
        thrower.Start();
        thrower.Join();
        bool got = Monitor.TryEnter(gate, 0);
        Observe($"after an exception in a lock body on another thread, TryEnter: {got}");
        if (got) Monitor.Exit(gate);

        // Monitor.Enter without Exit, thread ends: the lock stays held (by a dead thread) for everyone.
        object leaked = new();
        var leaker = new Thread(() => Monitor.Enter(leaked));
        leaker.Start();
        leaker.Join();
        Observe($"Monitor left held by an ended thread: TryEnter(20) {Monitor.TryEnter(leaked, 20)}");
        bool other = true;
        var contender = new Thread(() => other = Monitor.TryEnter(leaked, 20));
        contender.Start();
        contender.Join();
        Observe($"... and from another thread: {other}");

        var leakedLock = new Lock();
        var lockLeaker = new Thread(() => leakedLock.Enter());
        lockLeaker.Start();
        lockLeaker.Join();
        Observe($"Lock left held by an ended thread: TryEnter(20) {leakedLock.TryEnter(20)}, IsHeldByCurrentThread {leakedLock.IsHeldByCurrentThread}");

        // Mutex taken by a thread that then throws (caught at its top): ended owner, abandoned.
        using var mutex = new Mutex();
        var dying = new Thread(() =>
        {
            try
            {
                mutex.WaitOne();
                throw new InvalidOperationException("owner fails");
            }
            catch (InvalidOperationException)
            {
            }
        });
        dying.Start();
        dying.Join();
        Observe($"Mutex of a thread that failed: {Shape(() => mutex.WaitOne(0))}");
        Observe($"owned now, ReleaseMutex: {Shape(() => mutex.ReleaseMutex())}");
        Observe($"ReleaseMutex again: {Shape(() => mutex.ReleaseMutex())}");

        // SemaphoreSlim and RWLS are not owned: nothing is released when the thread ends.
        using var sem = new SemaphoreSlim(1);
        var taker = new Thread(() => sem.Wait());
        taker.Start();
        taker.Join();
        Observe($"SemaphoreSlim taken by an ended thread: Wait(10) {sem.Wait(10)}, count {sem.CurrentCount}");
        using var rw = new ReaderWriterLockSlim();
        var writer = new Thread(() => rw.EnterWriteLock());
        writer.Start();
        writer.Join();
        Observe($"RWLS write lock of an ended thread: TryEnterReadLock(10) {rw.TryEnterReadLock(10)}, IsWriteLockHeld {rw.IsWriteLockHeld}");
    }

    /// <summary>A named Mutex opened twice inside one process and waited on by threads; named events and semaphores
    /// (Windows only: PlatformNotSupportedException on Linux).</summary>
    private static void DiffEdgeNamedObjects()
    {
        string suffix = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
#pragma warning disable CA1416
        Observe($"named event: {Shape(() => new EventWaitHandle(false, EventResetMode.ManualReset, "edge-ev-" + suffix).Dispose())}");
        Observe($"EventWaitHandle.OpenExisting: {Shape(() => EventWaitHandle.OpenExisting("edge-ev-" + suffix).Dispose())}");
        Observe($"named semaphore: {Shape(() => new Semaphore(0, 2, "edge-s-" + suffix).Dispose())}");
        Observe($"Semaphore.OpenExisting: {Shape(() => Semaphore.OpenExisting("edge-s-" + suffix).Dispose())}");
#pragma warning restore CA1416
        Observe($"Mutex.OpenExisting missing: {Shape(() => Mutex.OpenExisting("edge-missing-" + suffix).Dispose())}");
        Observe($"Mutex.TryOpenExisting missing: {Mutex.TryOpenExisting("edge-missing-" + suffix, out _)}");

        using var mutex = new Mutex(false, "Global\\edge-m-" + suffix, out bool mNew);
        Observe($"named mutex created new: {mNew}");
        using var second = new Mutex(false, "Global\\edge-m-" + suffix, out bool mNew2);
        Observe($"second instance created new: {mNew2}");
        using var opened = Mutex.OpenExisting("Global\\edge-m-" + suffix);
        mutex.WaitOne();
        Observe($"same thread through the second instance while held: {second.WaitOne(0)}");
        second.ReleaseMutex();
        bool otherGot = true;
        var t = new Thread(() =>
        {
            otherGot = opened.WaitOne(20);
            if (otherGot) opened.ReleaseMutex();
        });
        t.Start();
        t.Join();
        Observe($"another thread through the opened instance while held: {otherGot}");
        Observe($"another instance's ReleaseMutex from a non-owner: {Shape(() => { var x = new Thread(() => Observe($"  non-owner: {Shape(() => second.ReleaseMutex())}")); x.Start(); x.Join(); })}");
        bool waited = false;
        var waiter = new Thread(() =>
        {
            waited = second.WaitOne(5000);
            if (waited) second.ReleaseMutex();
        });
        waiter.Start();
        WaitUntilBlocked(waiter);
        mutex.ReleaseMutex();
        waiter.Join();
        Observe($"a waiter through the second instance after release: {waited}");
        var abandoner = new Thread(() => opened.WaitOne());
        abandoner.Start();
        abandoner.Join();
        Observe($"named mutex abandoned through one instance, waited through another: {Shape(() => mutex.WaitOne(0))}");
        mutex.ReleaseMutex();
        Observe($"named mutex with a bad prefix: {Shape(() => new Mutex(false, "Bogus\\edge-x").Dispose())}");
    }

    /// <summary>Misuse of the slim primitives, WaitHandle statics, Task and CancellationToken.</summary>
    private static void DiffEdgePrimitiveMisuse()
    {
        using var ev = new ManualResetEvent(false);
        using var set = new ManualResetEvent(true);
        Observe($"WaitAll(empty): {Shape(() => WaitHandle.WaitAll([]))}");
        Observe($"WaitAll(null): {Shape(() => WaitHandle.WaitAll(null!))}");
        Observe($"WaitAll(65 handles): {Shape(() => WaitHandle.WaitAll(Enumerable.Range(0, 65).Select(_ => new ManualResetEvent(true)).ToArray<WaitHandle>(), 0))}");
        Observe($"WaitAny(duplicates): {Shape(() => Observe($"WaitAny(duplicates) returned {WaitHandle.WaitAny([set, set], 0)}"))}");
        Observe($"WaitAll(duplicates, infinite): {Shape(() => WaitHandle.WaitAll([set, set]))}");
        Observe($"WaitAll(-2): {Shape(() => WaitHandle.WaitAll([set], -2))}");
        Observe($"WaitAny(-2): {Shape(() => WaitHandle.WaitAny([set], -2))}");
        Observe($"SignalAndWait(null, ev): {Shape(() => WaitHandle.SignalAndWait(null!, ev, 0, false))}");
        Observe($"SignalAndWait(ev, null): {Shape(() => WaitHandle.SignalAndWait(ev, null!, 0, false))}");
        Observe($"SignalAndWait(-2): {Shape(() => WaitHandle.SignalAndWait(ev, set, -2, false))}");
        using var unowned = new Mutex();
        Observe($"SignalAndWait(unowned mutex, ev): {Shape(() => WaitHandle.SignalAndWait(unowned, set, 0, false))}");
        using var full = new Semaphore(1, 1);
        Observe($"SignalAndWait(full semaphore, ev): {Shape(() => WaitHandle.SignalAndWait(full, set, 0, false))}");
        Observe($"ev after that: {ev.WaitOne(0)}");

        using var slim = new SemaphoreSlim(1, 1);
        Observe($"SemaphoreSlim.Release past max: {Shape(() => slim.Release())}");
        Observe($"SemaphoreSlim.Release(0): {Shape(() => slim.Release(0))}");
        Observe($"SemaphoreSlim.Wait(TimeSpan -2): {Shape(() => slim.Wait(TimeSpan.FromMilliseconds(-2)))}");
        using var kernel = new Semaphore(0, 3);
        Observe($"Semaphore.Release(0): {Shape(() => kernel.Release(0))}");
        Observe($"Semaphore.Release(-1): {Shape(() => kernel.Release(-1))}");

        using var countdown = new CountdownEvent(1);
        Observe($"CountdownEvent.Signal(2) of 1: {Shape(() => countdown.Signal(2))}");
        countdown.Signal();
        Observe($"CountdownEvent.Signal when zero: {Shape(() => countdown.Signal())}");
        Observe($"CountdownEvent.AddCount when zero: {Shape(() => countdown.AddCount())}");
        Observe($"CountdownEvent.TryAddCount when zero: {countdown.TryAddCount()}");
        Observe($"CountdownEvent.Wait(-2): {Shape(() => countdown.Wait(-2))}");

        using var barrier = new Barrier(1);
        Observe($"Barrier.RemoveParticipants(2) of 1: {Shape(() => barrier.RemoveParticipants(2))}");
        Observe($"Barrier.SignalAndWait(-2): {Shape(() => barrier.SignalAndWait(-2))}");
        Observe($"Barrier with one participant: {barrier.SignalAndWait(0)}, phase {barrier.CurrentPhaseNumber}");
        using var inAction = new Barrier(1, b => b.SignalAndWait());
        Observe($"SignalAndWait from the post-phase action: {Shape(() => inAction.SignalAndWait())}");

        using var mres = new ManualResetEventSlim();
        Observe($"ManualResetEventSlim.Wait(-2): {Shape(() => mres.Wait(-2))}");
        Observe($"new ManualResetEventSlim spin 2048: {Shape(() => new ManualResetEventSlim(false, 2048))}");

        var never = new TaskCompletionSource().Task;
        Observe($"Task.Wait(-2): {Shape(() => never.Wait(-2))}");
        Observe($"Task.Wait(TimeSpan -2): {Shape(() => never.Wait(TimeSpan.FromMilliseconds(-2)))}");
        Observe($"Task.WaitAll(-2): {Shape(() => Task.WaitAll([never], -2))}");
        Observe($"Task.WaitAny(-2): {Shape(() => Task.WaitAny([never], -2))}");
        Observe($"Task.WaitAll(null task): {Shape(() => Task.WaitAll([never, null!], 0))}");

        var cts = new CancellationTokenSource();
        var token = cts.Token;
        cts.Dispose();
        Observe($"CancellationToken.WaitHandle after Dispose: {Shape(() => _ = token.WaitHandle)}");
        var cts2 = new CancellationTokenSource();
        var handle = cts2.Token.WaitHandle;
        var canceller = new Thread(() => cts2.Cancel());
        var waiter = new Thread(() => Observe($"WaitHandle of a token cancelled by a thread: {handle.WaitOne(5000)}"));
        waiter.Start();
        WaitUntilBlocked(waiter);
        canceller.Start();
        canceller.Join();
        waiter.Join();
        cts2.Dispose();
        Observe($"WaitOne on the token's handle after Dispose: {Shape(() => handle.WaitOne(0))}");
    }

    /// <summary>ReaderWriterLockSlim misuse, recursion errors and Dispose while another thread holds it.</summary>
    private static void DiffEdgeRwLockMisuse()
    {
        using var rw = new ReaderWriterLockSlim();
        Observe($"ExitReadLock not held: {Shape(() => rw.ExitReadLock())}");
        Observe($"ExitWriteLock not held: {Shape(() => rw.ExitWriteLock())}");
        Observe($"ExitUpgradeableReadLock not held: {Shape(() => rw.ExitUpgradeableReadLock())}");
        rw.EnterReadLock();
        Observe($"read then read (no recursion): {Shape(() => rw.EnterReadLock())}");
        Observe($"read then write: {Shape(() => rw.EnterWriteLock())}");
        Observe($"read then upgradeable: {Shape(() => rw.EnterUpgradeableReadLock())}");
        Observe($"read then TryEnterWriteLock(10): {Shape(() => rw.TryEnterWriteLock(10))}");
        rw.ExitReadLock();
        rw.EnterWriteLock();
        Observe($"write then write: {Shape(() => rw.EnterWriteLock())}");
        Observe($"write then read: {Shape(() => rw.EnterReadLock())}");
        Observe($"Dispose while held: {Shape(() => rw.Dispose())}");
        rw.ExitWriteLock();
        Observe($"TryEnterReadLock(-2): {Shape(() => rw.TryEnterReadLock(-2))}");

        var recursive = new ReaderWriterLockSlim(LockRecursionPolicy.SupportsRecursion);
        recursive.EnterReadLock();
        recursive.EnterReadLock();
        Observe($"recursive read count: {recursive.RecursiveReadCount}; read then write: {Shape(() => recursive.EnterWriteLock())}");
        using var holding = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            recursive.EnterWriteLock();
            holding.Set();
            release.Wait();
            Observe($"holder exits after the Dispose attempt: {Shape(() => recursive.ExitWriteLock())}");
        });
        recursive.ExitReadLock();
        recursive.ExitReadLock();
        holder.Start();
        holding.Wait();
        Observe($"another thread's TryEnterReadLock(10): {recursive.TryEnterReadLock(10)}");
        Observe($"Dispose while another thread holds the write lock: {Shape(() => recursive.Dispose())}");
        release.Set();
        holder.Join();
        Observe($"Dispose after: {Shape(() => recursive.Dispose())}");
        Observe($"use after Dispose: {Shape(() => recursive.EnterReadLock())}");
    }

    /// <summary>Out-of-range timeouts of every patched wait, with the runtime's message and parameter name; none waits.</summary>
    private static void DiffEdgeTimeoutMessages()
    {
        object gate = new();
        using var ev = new ManualResetEvent(false);
        using var set = new ManualResetEvent(true);
        var ended = new Thread(() => { });
        ended.Start();
        ended.Join();
        var running = new Thread(() => ev.WaitOne());
        running.Start();
        var l = new Lock();
        var timeouts = new (string, TimeSpan)[] { ("-2 ms", TimeSpan.FromMilliseconds(-2)), ("MaxValue", TimeSpan.MaxValue), ("int.MaxValue + 1 ms", TimeSpan.FromMilliseconds(int.MaxValue + 1.0)) };
        Observe($"Thread.Sleep(-2): {Shape(() => Thread.Sleep(-2))}");
        Observe($"Join(-2) of an ended thread: {Shape(() => ended.Join(-2))}");
        Observe($"Join(-2) of a running thread: {Shape(() => running.Join(-2))}");
        Observe($"Monitor.Wait(-2): {Shape(() => { lock (gate) Monitor.Wait(gate, -2); })}");
        Observe($"Monitor.TryEnter(-2): {Shape(() => Monitor.TryEnter(gate, -2))}");
        Observe($"Monitor.TryEnter(-2, ref taken): {Shape(() => { bool taken = false; Monitor.TryEnter(gate, -2, ref taken); })}");
        Observe($"Monitor.TryEnter(10, ref true): {Shape(() => { bool taken = true; Monitor.TryEnter(gate, 10, ref taken); })}");
        Observe($"Monitor.TryEnter(null, 10, ref taken): {Shape(() => { bool taken = false; Monitor.TryEnter(null!, 10, ref taken); })}");
        Observe($"Monitor.TryEnter(null, -2): {Shape(() => Monitor.TryEnter(null!, -2))}");
        Observe($"Lock.TryEnter(-2): {Shape(() => l.TryEnter(-2))}");
        Observe($"WaitOne(-2): {Shape(() => ev.WaitOne(-2))}");
        Observe($"WaitAny(-2) unset: {Shape(() => WaitHandle.WaitAny([ev], -2))}");
        Observe($"WaitAll(-2) unset: {Shape(() => WaitHandle.WaitAll([ev], -2))}");
        Observe($"SignalAndWait(-2): {Shape(() => WaitHandle.SignalAndWait(set, ev, -2, false))}");
        foreach (var (label, t) in timeouts)
        {
            Observe($"Thread.Sleep({label}): {Shape(() => Thread.Sleep(t))}");
            Observe($"Join({label}) of an ended thread: {Shape(() => ended.Join(t))}");
            Observe($"Join({label}) of a running thread: {Shape(() => running.Join(t))}");
            Observe($"Monitor.Wait({label}): {Shape(() => { lock (gate) Monitor.Wait(gate, t); })}");
            Observe($"Monitor.TryEnter({label}): {Shape(() => Monitor.TryEnter(gate, t))}");
            Observe($"Lock.TryEnter({label}): {Shape(() => l.TryEnter(t))}");
            Observe($"WaitOne({label}): {Shape(() => ev.WaitOne(t))}");
            Observe($"WaitAny({label}): {Shape(() => WaitHandle.WaitAny([ev], t))}");
            Observe($"WaitAll({label}): {Shape(() => WaitHandle.WaitAll([ev], t))}");
            Observe($"SignalAndWait({label}): {Shape(() => WaitHandle.SignalAndWait(set, ev, t, false))}");
        }
        ev.Set();
        running.Join();
    }

    /// <summary>A pending Thread.Interrupt and a wait with bad arguments: the argument error comes first, the interrupt stays pending.</summary>
    private static void DiffEdgeInterruptVsArguments()
    {
        using var ev = new ManualResetEvent(false);
        object gate = new();
        var cases = new (string, Action)[]
        {
            ("nothing", () => { }),
            ("WaitAny with a null", () => WaitHandle.WaitAny([ev, null!], 10)),
            ("WaitAll with duplicates", () => WaitHandle.WaitAll([ev, ev], 10)),
            ("WaitAny(empty)", () => WaitHandle.WaitAny([], 10)),
            ("WaitAny(-2)", () => WaitHandle.WaitAny([ev], -2)),
            ("WaitOne(-2)", () => ev.WaitOne(-2)),
            ("Sleep(-2)", () => Thread.Sleep(-2)),
            ("Join(-2)", () => Thread.CurrentThread.Join(-2)),
            ("Monitor.Wait unowned", () => Monitor.Wait(gate, 10)),
            ("Monitor.Wait(-2)", () => { lock (gate) Monitor.Wait(gate, -2); }),
            ("SignalAndWait unowned mutex", () => { using var m = new Mutex(); WaitHandle.SignalAndWait(m, ev, 10, false); }),
        };
        foreach (var (label, action) in cases)
        {
            var t = new Thread(() =>
            {
                Thread.CurrentThread.Interrupt();
                string first = Shape(action);
                string after = Shape(() => Thread.Sleep(0));
                Observe($"{label} with an interrupt pending: {first}; then Sleep(0): {after}");
            });
            t.Start();
            t.Join();
        }
    }

    /// <summary>
    /// A thread interrupts itself, then makes a timed wait that cannot succeed (or, for some, one that succeeds at once):
    /// which waits throw ThreadInterruptedException and which time out, and whether the interrupt is still pending after.
    /// </summary>
    private static void DiffEdgeInterruptPendingTimedWaits()
    {
        object gate = new();
        var heldLock = new Lock();
        using var sem = new SemaphoreSlim(0);
        using var freeSem = new SemaphoreSlim(1);
        using var mres = new ManualResetEventSlim();
        using var countdown = new CountdownEvent(1);
        using var barrier = new Barrier(2);
        using var rw = new ReaderWriterLockSlim();
        using var mutex = new Mutex();
        using var kernelSem = new Semaphore(0, 1);
        using var queue = new BlockingCollection<int>();
        using var release = new ManualResetEventSlim();
        using var holding = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            lock (gate)
            {
                heldLock.Enter();
                rw.EnterWriteLock();
                mutex.WaitOne();
                holding.Set();
                release.Wait();
                mutex.ReleaseMutex();
                rw.ExitWriteLock();
                heldLock.Exit();
            }
        });
        holder.Start();
        holding.Wait();
        var never = new TaskCompletionSource().Task;
        var cases = new (string, Func<object>)[]
        {
            ("Monitor.TryEnter(0) contended", () => Monitor.TryEnter(gate, 0)),
            ("Monitor.TryEnter(10) contended", () => Monitor.TryEnter(gate, 10)),
            ("Lock.TryEnter(0) contended", () => heldLock.TryEnter(0)),
            ("Lock.TryEnter(10) contended", () => heldLock.TryEnter(10)),
            ("SemaphoreSlim.Wait(10) empty", () => sem.Wait(10)),
            ("SemaphoreSlim.Wait(10) free", () => freeSem.Wait(10)),
            ("SemaphoreSlim.Wait(0) empty", () => sem.Wait(0)),
            ("ManualResetEventSlim.Wait(10)", () => mres.Wait(10)),
            ("CountdownEvent.Wait(10)", () => countdown.Wait(10)),
            ("Barrier.SignalAndWait(10)", () => barrier.SignalAndWait(10)),
            ("RWLS.TryEnterReadLock(10)", () => rw.TryEnterReadLock(10)),
            ("RWLS.TryEnterWriteLock(0)", () => rw.TryEnterWriteLock(0)),
            ("Mutex.WaitOne(10) held elsewhere", () => mutex.WaitOne(10)),
            ("Semaphore.WaitOne(10) empty", () => kernelSem.WaitOne(10)),
            ("Task.Wait(10)", () => never.Wait(10)),
            ("Task.Wait(0)", () => never.Wait(0)),
            ("BlockingCollection.TryTake(10)", () => queue.TryTake(out _, 10)),
            ("SpinWait.SpinUntil(10)", () => SpinWait.SpinUntil(() => false, 10)),
            ("Join(10) of the holder", () => holder.Join(10)),
            ("Thread.Yield", () => { Thread.Yield(); return "(yielded)"; }),
        };
        foreach (var (label, wait) in cases)
        {
            var t = new Thread(() =>
            {
                Thread.CurrentThread.Interrupt();
                string first;
                try { first = $"returned {wait()}"; }
                catch (Exception e) { first = e.GetType().Name; }
                string after = Shape(() => Thread.Sleep(0));
                Observe($"{label} with an interrupt pending: {first}; then Sleep(0): {after}");
            });
            t.Start();
            t.Join();
        }
        release.Set();
        holder.Join();
        Observe($"free semaphore count afterwards: {freeSem.CurrentCount}, barrier participants {barrier.ParticipantsRemaining}");
    }

    /// <summary>A Mutex inside WaitAny/WaitAll: recursion, ownership through a multiple wait, no partial acquisition, abandonment.</summary>
    private static void DiffEdgeMutexInMultipleWaits()
    {
        using var mutex = new Mutex();
        using var set = new ManualResetEvent(true);
        using var unset = new ManualResetEvent(false);
        using var sem = new Semaphore(0, 1);
        string Owner(Mutex m)
        {
            string r = "";
            var t = new Thread(() => { r = m.WaitOne(0) ? "free" : "held"; if (r == "free") m.ReleaseMutex(); });
            t.Start();
            t.Join();
            return r;
        }

        Observe($"recursive: {mutex.WaitOne(0)} {WaitHandle.WaitAll([mutex, set], 10)} {WaitHandle.WaitAny([unset, mutex], 10)}");
        Observe($"releases: {Shape(mutex.ReleaseMutex)}, {Shape(mutex.ReleaseMutex)}, {Shape(mutex.ReleaseMutex)}, {Shape(mutex.ReleaseMutex)}");

        // WaitAll([mutex, empty semaphore]) takes nothing while it waits: the mutex stays free for others.
        string all = "?";
        var waiter = new Thread(() =>
        {
            all = $"{WaitHandle.WaitAll([mutex, sem], 5000)}";
            all += $", owns the mutex after: {Shape(mutex.ReleaseMutex)}";
        });
        waiter.Start();
        WaitUntilBlocked(waiter);
        Observe($"mutex while a WaitAll waits for the semaphore too: {Owner(mutex)}");
        sem.Release();
        waiter.Join();
        Observe($"WaitAll after the semaphore's release: {all}; semaphore taken: {!sem.WaitOne(0)}");

        // WaitAny wakes for a mutex another thread releases, and the waiter owns it.
        using var holding = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() => { mutex.WaitOne(); holding.Set(); release.Wait(); mutex.ReleaseMutex(); });
        holder.Start();
        holding.Wait();
        string any = "?";
        var anyWaiter = new Thread(() =>
        {
            any = $"index {WaitHandle.WaitAny([unset, mutex], 5000)}";
            any += $", owner {Shape(mutex.ReleaseMutex)}";
        });
        anyWaiter.Start();
        WaitUntilBlocked(anyWaiter);
        release.Set();
        anyWaiter.Join();
        holder.Join();
        Observe($"WaitAny for a mutex released by its holder: {any}");

        // Abandoned inside a WaitAll and a WaitAny.
        foreach (var (label, wait) in new (string, Func<object>)[]
        {
            ("WaitAll", () => WaitHandle.WaitAll([set, mutex], 5000)),
            ("WaitAny", () => WaitHandle.WaitAny([unset, mutex], 5000)),
        })
        {
            var ender = new Thread(() => mutex.WaitOne());
            ender.Start();
            ender.Join();
            string r;
            try { r = $"returned {wait()}"; }
            catch (AbandonedMutexException e) { r = $"AbandonedMutexException index {e.MutexIndex}, mutex given {e.Mutex != null}"; }
            Observe($"{label} with an abandoned mutex: {r}; owner {Shape(mutex.ReleaseMutex)}");
        }
    }

    /// <summary>Monitor.Wait on a lock held 3 deep gives back all 3 levels however it ends: timeout, interrupt, pulse.</summary>
    private static void DiffEdgeWaitRestoresRecursion()
    {
        object gate = new();
        static int ExitAll(object o)
        {
            int n = 0;
            while (Monitor.IsEntered(o))
            {
                Monitor.Exit(o);
                n++;
            }
            return n;
        }

        string Run(string how, Action<Thread> end)
        {
            string r = "?";
            var t = new Thread(() =>
            {
                for (int i = 0; i < 3; i++) Monitor.Enter(gate);
                string result;
                try { result = $"returned {Monitor.Wait(gate, how == "timeout" ? 10 : 5000)}"; }
                catch (ThreadInterruptedException) { result = "ThreadInterruptedException"; }
                r = $"{result}, levels after {ExitAll(gate)}";
            });
            t.Start();
            WaitUntilBlocked(t);
            // Blocked in Wait: the lock is free for this thread meanwhile.
            bool free = Monitor.TryEnter(gate, 5000);
            end(t);
            if (free) Monitor.Exit(gate);
            t.Join();
            return $"{r} (free while it waited: {free})";
        }

        Observe($"timeout: {Run("timeout", _ => { })}");
        Observe($"interrupt: {Run("interrupt", t => t.Interrupt())}");
        Observe($"pulse: {Run("pulse", _ => Monitor.Pulse(gate))}");
        // Not here: Pulse then Interrupt while the waiter re-enters. Plain .NET itself answers either way (returned True
        // with the interrupt left pending, or ThreadInterruptedException), depending on when the woken waiter runs.
    }

    /// <summary>System.Threading.Lock across threads: Exit by a non-owner while held and while contended, a scope disposed twice, recursion by TryEnter.</summary>
    private static void DiffEdgeLockTypeMisuse()
    {
        var l = new Lock();
        using var holding = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            using (l.EnterScope())
            {
                holding.Set();
                release.Wait();
            }
        });
        holder.Start();
        holding.Wait();
        Observe($"Exit by a non-owner while held: {Shape(l.Exit)}");
        bool got = false;
        var contender = new Thread(() => { got = l.TryEnter(5000); if (got) l.Exit(); });
        contender.Start();
        WaitUntilBlocked(contender);
        Observe($"Exit by a non-owner while contended: {Shape(l.Exit)}, IsHeldByCurrentThread {l.IsHeldByCurrentThread}");
        release.Set();
        contender.Join();
        holder.Join();
        Observe($"contender got it after the holder: {got}");
        string twice;
        var scope = l.EnterScope();
        scope.Dispose();
        try { scope.Dispose(); twice = "no exception"; }
        catch (Exception e) { twice = e.GetType().Name; }
        Observe($"a scope disposed twice: {twice}");
        Observe($"owner TryEnter(0) recursive: {l.TryEnter(0)} {l.TryEnter(0)}, exits {Shape(l.Exit)} {Shape(l.Exit)} {Shape(l.Exit)}");
    }

    /// <summary>Exit scenarios at the edges (compared by exit code, stdout and the "Unhandled exception." line).</summary>
    private static int? RunEdgesExit(string name)
    {
        switch (name)
        {
            case "exit-edge-timer-callback-throws":
                {
                    // A System.Threading.Timer callback that throws ends the process, while main waits on an event.
                    using var never = new ManualResetEvent(false);
                    using var timer = new Timer(_ => throw new InvalidOperationException("thrown by a timer callback"), null, 0, Timeout.Infinite);
                    never.WaitOne();
                    Console.WriteLine("not reached");
                    return 1;
                }
            case "exit-edge-unhandled-while-others-wait":
                {
                    // A thread's unhandled exception ends the process while main waits on an event, one thread waits on it
                    // holding a lock and another is blocked entering that lock: none of them holds the exit back.
                    object gate = new();
                    using var never = new ManualResetEvent(false);
                    var holder = new Thread(() => { lock (gate) never.WaitOne(); });
                    holder.Start();
                    WaitUntilBlocked(holder);
                    var contender = new Thread(() => { lock (gate) { } });
                    contender.Start();
                    WaitUntilBlocked(contender);
                    var thrower = new Thread(() =>
                    {
                        WaitUntilBlocked(contender);
                        throw new InvalidOperationException("thrown while others wait");
                    });
                    Console.WriteLine("main waits");
                    thrower.Start();
                    never.WaitOne();
                    Console.WriteLine("not reached");
                    return 1;
                }
            case "exit-edge-exit-inside-lock-with-waiters":
                {
                    // Environment.Exit from a thread holding a contended lock, with a ProcessExit handler that tries it.
                    object gate = new();
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => Console.WriteLine($"ProcessExit TryEnter(50): {Monitor.TryEnter(gate, 50)}");
                    using var inside = new ManualResetEventSlim();
                    var exiter = new Thread(() =>
                    {
                        lock (gate)
                        {
                            inside.Set();
                            Console.WriteLine("exiting with the lock held");
                            Environment.Exit(9);
                        }
                    });
                    exiter.Start();
                    inside.Wait();
                    lock (gate) Console.WriteLine("not reached");
                    return 1;
                }
            default:
                return null;
        }
    }
}
