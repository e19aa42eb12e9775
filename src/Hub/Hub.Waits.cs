namespace Evergreen;

public sealed partial class Hub
{
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
    /// thrown into the thread meanwhile (kill, GreenTimeout scope). What the wait site noted (<see cref="GreenThread.NoteWait"/>)
    /// describes the thread while it is parked and is cleared here when the wait ends.
    /// </summary>
    internal object? Block(GreenThread self)
    {
        try
        {
            return BlockCore(self);
        }
        finally
        {
            self.WaitKind = Internal.WaitKind.None;
        }
    }

    private object? BlockCore(GreenThread self)
    {
        AssertBatonHolder();
        if (self.Pending is { } early)
        {
            self.Pending = null;
            throw early;
        }
        ThrowIfInterrupted(self);
        self.Blocked = true;
        self.WakeValue = null;
        SwitchAway(self);
        if (self.Pending is { } e)
        {
            self.Pending = null;
            throw e;
        }
        // Woken by the interrupt itself (a wake carries a value): a wait that was granted keeps its grant, and the
        // interrupt stays pending for the next wait.
        if (self.WakeValue is null) ThrowIfInterrupted(self);
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
        using var entry = Enter(out var self);
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
}
