using System.Diagnostics;
using Evergreen.Internal;

namespace Evergreen;

public sealed partial class Hub
{
    // ------------------------------------------------------------------------------------------
    // Inbound: how threads that do not hold the baton reach the scheduler
    // ------------------------------------------------------------------------------------------
    // A lock-free stack (Treiber) whose head doubles as the idle flag: s_idleMarker means "nobody holds the
    // baton and nobody polls". A poster that swaps the marker out has taken the baton itself. No Monitor
    // here on purpose: once `lock` is patched, the scheduler must never reach the patched Monitor.

    private sealed class InboundNode
    {
        public Action? Action;
        public InboundNode? Next;
    }

    private static readonly InboundNode s_idleMarker = new();
    private InboundNode? _inbound = s_idleMarker;

    /// <summary>
    /// Runs <paramref name="action"/> on the hub, under the baton, at the next scheduling point. Callable from
    /// any thread (tpool completions, native lock owners, non-green spawners); wakes a blocked poller.
    /// </summary>
    internal void Post(Action action)
    {
        var node = new InboundNode { Action = action };
        while (true)
        {
            var head = Volatile.Read(ref _inbound);
            if (head == s_idleMarker)
            {
                // Idle hub: take the baton, run the action, and schedule whatever it made runnable.
                if (Interlocked.CompareExchange(ref _inbound, null, s_idleMarker) != s_idleMarker) continue;
                TookBaton();
                Guard(() => { action(); HandOffLeaving(); });
                return;
            }
            node.Next = head;
            if (Interlocked.CompareExchange(ref _inbound, node, head) == head) break;
        }
        _poller.Wake();
    }

    /// <summary>If the hub is idle, the caller takes the baton (returns true).</summary>
    private bool TryTakeIdleBaton()
    {
        if (Interlocked.CompareExchange(ref _inbound, null, s_idleMarker) != s_idleMarker) return false;
        TookBaton();
        return true;
    }

    /// <summary>Gives up the baton with nothing to run; false if posts arrived meanwhile (the caller keeps the baton).</summary>
    private bool TryGoIdle()
    {
        GivingBaton();
        if (Interlocked.CompareExchange(ref _inbound, s_idleMarker, null) == null) return true;
        TookBaton();
        return false;
    }

    private void DrainInbound()
    {
        if (Volatile.Read(ref _inbound) == null) return;
        var list = Interlocked.Exchange(ref _inbound, null);
        // LIFO → FIFO
        InboundNode? rev = null;
        while (list != null) { var n = list.Next; list.Next = rev; rev = list; list = n; }
        for (; rev != null; rev = rev.Next)
        {
            try { rev.Action!(); }
            catch (Exception ex) { Logger.Error(ex, "A hub callback posted from another thread threw"); }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Waiting and waking: the baton holder only (asserted in debug builds)
    // ------------------------------------------------------------------------------------------

    /// <summary>Starts a new wait for <paramref name="self"/>; wakes tagged with an older id are ignored.</summary>
    internal int BeginWait(GreenThread self)
    {
        AssertBatonHolder();
        return ++self.WaitId;
    }

    /// <summary>
    /// Blocks the current green thread (after <see cref="BeginWait"/> and registering somewhere that will
    /// wake it) and runs other green threads until it is woken. Returns the wake value; throws an exception
    /// thrown into the thread meanwhile (kill, Timeout scope).
    /// </summary>
    internal object? Block(GreenThread self)
    {
        AssertBatonHolder();
        if (self.Pending is { } early)
        {
            self.Pending = null;
            throw early;
        }
        self.Blocked = true;
        self.WakeValue = null;
        SwitchAway(self);
        if (self.Pending is { } e)
        {
            self.Pending = null;
            throw e;
        }
        return self.WakeValue;
    }

    /// <summary>
    /// Puts the current green thread at the back of the run queue and runs every other runnable green thread
    /// (and due timers and ready I/O) once before returning: <c>sleep(0)</c>.
    /// </summary>
    internal void Yield(GreenThread self)
    {
        AssertBatonHolder();
        if (self.Pending is { } early)
        {
            self.Pending = null;
            throw early;
        }
        _runq.PushBack(self);
        SwitchAway(self);
        if (self.Pending is { } e)
        {
            self.Pending = null;
            throw e;
        }
    }

    /// <summary>Wakes <paramref name="g"/> if it is still in wait <paramref name="waitId"/>.</summary>
    internal bool Wake(GreenThread g, int waitId, object value)
    {
        AssertBatonHolder();
        if (!g.Blocked || g.WaitId != waitId) return false;
        g.Blocked = false;
        g.WakeValue = value;
        _runq.PushBack(g);
        return true;
    }

    /// <summary>Throws <paramref name="ex"/> into <paramref name="g"/> at its current or next wait.</summary>
    internal void Throw(GreenThread g, Exception ex)
    {
        AssertBatonHolder();
        if (g.IsDead) return;
        g.Pending = ex;
        if (g.Blocked)
        {
            g.Blocked = false;
            g.WakeValue = null;
            _runq.PushBack(g);
        }
    }

    internal void MakeRunnable(GreenThread g)
    {
        AssertBatonHolder();
        g.StartTimer = null;
        _runq.PushBack(g);
    }

    internal void Kill(GreenThread g, Exception ex)
    {
        if (g.IsDead) return;
        var self = t_current;
        // Not Kill again: the posted action runs on whichever thread drains the posts, which may be the target
        // itself (it would throw the kill out of the scheduler, where it is only logged), a blocking thread
        // (Yield would re-enter the scheduler) or a worker with no current green thread (it would re-post forever).
        if (self == null) { Post(() => { if (!g.IsDead) ThrowKill(g, ex); }); return; }
        if (g == self) throw ex;
        ThrowKill(g, ex);
        Yield(self); // let the target handle it before Kill returns (eventlet's kill is synchronous)
    }

    private void ThrowKill(GreenThread g, Exception ex)
    {
        if (g.StartTimer is { } st)
        {
            // spawn_after not yet due: run it now so it dies at once with the exception and its links fire.
            _timers.Remove(st);
            g.StartTimer = null;
            _runq.PushBack(g);
        }
        Throw(g, ex);
    }

    // ------------------------------------------------------------------------------------------
    // Timers
    // ------------------------------------------------------------------------------------------

    internal WakeTimer AddWakeTimer(GreenThread g, int waitId, long ticksFromNow)
    {
        // The thread's own timer, reused wait after wait (a timed wait ends with CancelTimer, or the timer fired
        // and left the heap): 10k sleeping threads otherwise allocate one timer per sleep.
        var t = g.WakeTimer;
        if (t == null || t.IsScheduled) g.WakeTimer = t = new WakeTimer(g);
        t.WaitId = waitId;
        t.Due = Stopwatch.GetTimestamp() + ticksFromNow;
        _timers.Add(t);
        return t;
    }

    internal void AddTimer(HubTimer t, long ticksFromNow)
    {
        t.Due = Stopwatch.GetTimestamp() + ticksFromNow;
        _timers.Add(t);
    }

    internal void CancelTimer(HubTimer t) => _timers.Remove(t);

    private void RunDueTimers()
    {
        if (_timers.Count == 0) return;
        long now = Stopwatch.GetTimestamp();
        while (_timers.Peek() is { } t && t.Due <= now)
        {
            _timers.Pop();
            t.Fire(this);
        }
    }

    // ------------------------------------------------------------------------------------------
    // The scheduling step
    // ------------------------------------------------------------------------------------------

    private enum Pick { Thread, Nothing, Deadlock }

    /// <summary>
    /// Chooses the next green thread to run. The run queue is served in rounds: before each round the due
    /// timers fire, posts from other threads run and the poller is asked (without blocking) for ready I/O,
    /// so a thread looping on <c>sleep(0)</c> cannot starve timers or I/O. With an empty run queue it blocks
    /// in the poller until the next timer, if <paramref name="mayBlock"/>.
    /// </summary>
    private Pick PickNext(bool mayBlock, out GreenThread? next)
    {
        while (true)
        {
            if (_roundLeft > 0 && _runq.Count > 0)
            {
                _roundLeft--;
                next = _runq.PopFront();
                return Pick.Thread;
            }
            RunDueTimers();
            DrainInbound();
            if (_fdWaiters > 0) PollIo(0);
            if (_runq.Count > 0)
            {
                _roundLeft = _runq.Count;
                continue;
            }
            next = null;
            if (!mayBlock || Volatile.Read(ref _alive) == 0) return Pick.Nothing;
            if (_timers.Count == 0 && _fdWaiters == 0 && Volatile.Read(ref _externalWaits) == 0 && Volatile.Read(ref _inbound) == null)
                return Pick.Deadlock;
            PollIo(MillisUntilNextTimer());
        }
    }

    private int MillisUntilNextTimer()
    {
        if (_timers.Peek() is not { } t) return -1;
        long ticks = t.Due - Stopwatch.GetTimestamp();
        if (ticks <= 0) return 0;
        double ms = Math.Ceiling(ticks * 1000.0 / Stopwatch.Frequency);
        return ms >= int.MaxValue ? int.MaxValue : (int)ms;
    }

    /// <summary>The blocking thread hands the baton on and parks until it is handed back.</summary>
    private void SwitchAway(GreenThread self)
    {
        Pick pick;
        GreenThread? next;
        try
        {
            pick = PickNext(mayBlock: true, out next);
        }
        catch (Exception ex)
        {
            FailFast(ex);
            throw;
        }
        if (pick == Pick.Thread)
        {
            if (next != self)
            {
                GivingBaton();
                next!.Parker.Unpark();
                self.Parker.Park();
                TookBaton();
            }
            NoteRunning(self);
            return;
        }
        // Nothing can ever wake anyone: end this wait with an exception rather than hang.
        self.Blocked = false;
        self.Pending = new GreenDeadlockException(
            $"Green thread {self.Name} would block forever: no other green thread is runnable, no timer is pending, " +
            $"no I/O is awaited and no outside thread can wake one ({Volatile.Read(ref _alive)} green threads alive).");
    }

    /// <summary>A worker whose job ended (or that was lent the poller role) gives the baton on and goes idle.</summary>
    internal void WorkerFree(Worker w)
    {
        // Guard inlined: a Guard(() => ...) capturing w allocated a closure and a delegate every time a green
        // thread ended. With the other spawn-path fixes, a warm spawn+join went 360 → 152 B (the GreenThread
        // itself), measured with GC.GetTotalAllocatedBytes(true) around 1,000 spawn+joins on Hub.Run.
        try
        {
            WorkerFreeCore(w);
        }
        catch (GreenThreadLimitException)
        {
            throw;
        }
        catch (Exception ex)
        {
            FailFast(ex);
        }
    }

    private void WorkerFreeCore(Worker w)
    {
        while (true)
        {
            var pick = PickNext(mayBlock: true, out var next);
            if (pick == Pick.Thread)
            {
                _idleWorkers.Push(w);
                GivingBaton();
                next!.Parker.Unpark();
                return;
            }
            if (pick == Pick.Deadlock && BreakDeadlock()) continue;
            // Nothing alive (or only threads blocked forever, already reported): go idle unless posts arrived.
            _idleWorkers.Push(w);
            if (TryGoIdle()) return;
            _idleWorkers.Pop();
        }
    }

    /// <summary>
    /// Gives the baton away from a thread that is leaving the hub (an adopted thread ending, or a non-green
    /// caller that briefly took an idle baton). It must not stay to poll, so with nothing runnable but green
    /// threads still waiting it lends the poller role to a worker.
    /// </summary>
    private void HandOffLeaving()
    {
        while (true)
        {
            var pick = PickNext(mayBlock: false, out var next);
            if (pick == Pick.Thread)
            {
                GivingBaton();
                next!.Parker.Unpark();
                return;
            }
            if (Volatile.Read(ref _alive) == 0)
            {
                if (TryGoIdle()) return;
                continue;
            }
            var w = _idleWorkers.Count > 0 ? _idleWorkers.Pop() : TakeNewWorker();
            w.Job = null;
            GivingBaton();
            w.Parker.Unpark();
            return;
        }
    }

    /// <summary>Every green thread is blocked with no way out: wake the adopted ones (program roots) with an exception.</summary>
    private bool BreakDeadlock()
    {
        bool any = false;
        foreach (var g in _adopted)
        {
            if (!g.Blocked) continue;
            Throw(g, new GreenDeadlockException(
                $"Green thread {g.Name} would block forever: every green thread is waiting and nothing (timer, I/O, outside thread) can wake one."));
            any = true;
        }
        if (!any)
            Logger.Error("{Alive} green threads are blocked forever: nothing (timer, I/O, outside thread) can wake them", Volatile.Read(ref _alive));
        return any;
    }

    /// <summary>Runs a spawned green thread's body on its worker (called by the worker with the baton).</summary>
    internal void RunJob(GreenThread g)
    {
        NoteRunning(g);
        t_current = g;
        g.Started = true;
        Exception? error = null;
        try
        {
            if (g.Pending is { } killedBeforeStart) { g.Pending = null; throw killedBeforeStart; }
            g.RunBody();
        }
        catch (Exception ex)
        {
            error = ex;
            if (ex is not GreenThreadExitException)
                Logger.Error(ex, "Green thread {Name} ({Id}) ended with an unhandled exception", g.Name, g.Id);
        }
        try
        {
            g.Complete(error);
        }
        finally
        {
            if (g.Worker is { } w)
            {
                // Every wait of g has ended: its node is unlinked and its timer out of the heap (checked anyway).
                if (g.SpareWaitNode is { Linked: false } node) { node.Thread = null!; w.SpareWaitNode = node; }
                if (g.WakeTimer is { IsScheduled: false } timer) w.SpareWakeTimer = timer;
                g.SpareWaitNode = null;
                g.WakeTimer = null;
            }
            g.Worker = null;
            t_current = null;
            Interlocked.Decrement(ref _alive);
        }
    }

    /// <summary>
    /// A fault in the scheduler itself is unrecoverable: the baton's state would be unknown, and limping on
    /// could hang every green thread. Fail fast with the cause (as SocketAsyncEngine does).
    /// </summary>
    private static void Guard(Action step)
    {
        try
        {
            step();
        }
        catch (GreenThreadLimitException)
        {
            throw;
        }
        catch (Exception ex)
        {
            FailFast(ex);
        }
    }

    private static void FailFast(Exception ex) =>
        Environment.FailFast("Evergreen hub fault: the scheduler itself failed; green threads cannot continue safely. " + ex, ex);

    /// <summary>Marks the start of a wait that an outside thread will end (tpool, a native lock owner).</summary>
    internal void BeginExternalWait() => Interlocked.Increment(ref _externalWaits);

    /// <summary>Marks the end of a wait begun with <see cref="BeginExternalWait"/>.</summary>
    internal void EndExternalWait() => Interlocked.Decrement(ref _externalWaits);
}
