using Evergreen.Internal;

namespace Evergreen;

public sealed partial class Hub
{
    // ------------------------------------------------------------------------------------------
    // Picking the next green thread
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
                next = ScheduleMode.Hooks ? PopScheduled() : _runq.PopFront();
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
            // A post pushed after DrainInbound may have had its poller wake consumed by the zero-timeout poll above:
            // sleeping in the poller now would leave it undelivered until the next timer, I/O or post (a lost wake,
            // docs/hub.md). A post pushed after this read writes its wake after it, so the poll below sees that wake.
            if (Volatile.Read(ref _inbound) != null) continue;
            if (_timers.Count == 0 && _fdWaiters == 0 && (ScheduleMode.Hooks ? NothingOutsideCanWake() : Volatile.Read(ref _externalWaits) == 0))
                return Pick.Deadlock;
            if (ScheduleMode.VirtualTime && TryJumpToNextTimer()) continue;
            if (ScheduleMode.SimulatedTime) PollIoSimulated();
            else PollIo(MillisUntilNextTimer());
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
}
