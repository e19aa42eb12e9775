using Evergreen.Internal;

namespace Evergreen;

/// <summary>
/// A <see cref="GreenLightQueue{T}"/> that also counts unfinished tasks (eventlet.queue.Queue, Python's queue.Queue):
/// every put adds one, <see cref="TaskDone"/> removes one, and <see cref="Join()"/> waits greenly until none is left.
/// </summary>
public class GreenQueue<T> : GreenLightQueue<T>
{
    private readonly WaitList _joiners = new();
    private int _unfinished;

    /// <summary>Creates a queue holding at most <paramref name="maxSize"/> items (null, zero or negative: unbounded).</summary>
    public GreenQueue(int? maxSize = null) : base(maxSize) { }

    /// <summary>Items put and not yet matched by a <see cref="TaskDone"/>.</summary>
    public int UnfinishedTasks => _unfinished;

    /// <summary>
    /// Marks one item taken with <c>Get</c> as processed; when none is left unfinished, wakes every <see cref="Join()"/>.
    /// Throws <see cref="InvalidOperationException"/> if called more times than items were put.
    /// </summary>
    public void TaskDone()
    {
        using var entry = Hub.Instance.EnterGreen("GreenQueue.TaskDone", out var self);
        if (_unfinished <= 0) throw new InvalidOperationException("TaskDone() called more times than there were items put.");
        if (--_unfinished == 0) _joiners.WakeAll(self.Hub, this);
    }

    /// <summary>Waits greenly until every item put has been matched by a <see cref="TaskDone"/>.</summary>
    public void Join() => Join(Timeout.InfiniteTimeSpan);

    /// <summary>Waits greenly at most <paramref name="timeout"/> for every item to be done; false on timeout.</summary>
    public bool Join(TimeSpan timeout)
    {
        if (_unfinished == 0) return true;
        using var entry = Hub.Instance.EnterGreen("GreenQueue.Join", out var self);
        bool forever = timeout == Timeout.InfiniteTimeSpan;
        long deadline = forever ? 0 : Green.Now + Hub.ToTicks(timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout);
        // Loop: a Join woken at zero may find new puts made before it ran.
        while (_unfinished > 0)
        {
            long left = forever ? -1 : deadline - Green.Now;
            if (!forever && left <= 0) return false;
            self.NoteWait(forever ? WaitKind.Queue : WaitKind.Queue | WaitKind.Timed, this, "Join: unfinished tasks");
            if (!_joiners.Wait(self.Hub, self, left, out _)) return _unfinished == 0;
        }
        return true;
    }

    private protected override void OnPut() => _unfinished++;
}
