using Evergreen.Internal;

namespace Evergreen;

public sealed partial class Hub
{
    // ------------------------------------------------------------------------------------------
    // Handing the baton off
    // ------------------------------------------------------------------------------------------

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
        string dump = BlockedForeverDump(); // before the wait ends, so it still shows self's wait
        self.Blocked = false;
        self.Pending = new GreenDeadlockException(
            $"Green thread {self.Name} would block forever: no other green thread is runnable, no timer is pending, " +
            $"no I/O is awaited and no outside thread can wake one ({Volatile.Read(ref _alive)} green threads alive).{dump}");
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
            // Each job starts with the context green threads carry, whatever the worker's last job left behind.
            SynchronizationContext.SetSynchronizationContext(HubPatchSeam.SynchronizationContext);
            Volatile.Write(ref g.Lease, LeaseRunning);
            g.RunBody();
        }
        catch (Exception ex)
        {
            error = ex;
        }
        TakeLease(g);
        if (error != null && error is not GreenThreadExitException && !(ScheduleMode.Explorable && ObserveUnhandled(error)))
            Logger.Error(error, "Green thread {Name} ({Id}) ended with an unhandled exception", g.Name, g.Id);
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
            if (ScheduleMode.Explorable) NoteEnded(g);
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
}
