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
                NoteNativeHolder();
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

    /// <summary>Marks the start of a wait that an outside thread will end (tpool, a native lock owner).</summary>
    internal void BeginExternalWait() => Interlocked.Increment(ref _externalWaits);

    /// <summary>Marks the end of a wait begun with <see cref="BeginExternalWait"/>.</summary>
    internal void EndExternalWait() => Interlocked.Decrement(ref _externalWaits);
}
