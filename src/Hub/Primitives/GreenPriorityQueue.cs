namespace Evergreen;

/// <summary>
/// A <see cref="GreenQueue{T}"/> of (item, priority) pairs that hands out the lowest priority first, and items of
/// equal priority in the order they were put (eventlet.queue.PriorityQueue, made stable). Blocking, capacity
/// and task counting are those of <see cref="GreenQueue{T}"/>.
/// </summary>
public class GreenPriorityQueue<TItem, TPriority> : GreenQueue<(TItem Item, TPriority Priority)>
{
    private readonly PriorityQueue<(TItem Item, TPriority Priority), (TPriority Priority, long Seq)> _heap;
    private long _nextSeq;
    private long _frontSeq = -1;   // for returned items: ahead of everything of the same priority

    /// <summary>
    /// Creates a priority queue holding at most <paramref name="maxSize"/> items (null, zero or negative: unbounded),
    /// ordering priorities with <paramref name="comparer"/> (default: <see cref="Comparer{T}.Default"/>).
    /// </summary>
    public GreenPriorityQueue(int? maxSize = null, IComparer<TPriority>? comparer = null) : base(maxSize)
    {
        var byPriority = comparer ?? Comparer<TPriority>.Default;
        // The sequence number breaks ties, which a binary heap alone would not keep in put order.
        _heap = new(Comparer<(TPriority Priority, long Seq)>.Create((a, b) =>
        {
            int c = byPriority.Compare(a.Priority, b.Priority);
            return c != 0 ? c : a.Seq.CompareTo(b.Seq);
        }));
    }

    /// <summary>Adds <paramref name="item"/> with <paramref name="priority"/>, waiting greenly while the queue is full.</summary>
    public void Put(TItem item, TPriority priority) => Put((item, priority));

    /// <summary>Adds <paramref name="item"/> with <paramref name="priority"/>, waiting greenly at most <paramref name="timeout"/> for room.</summary>
    /// <exception cref="QueueFullException">The queue stayed full for the whole timeout.</exception>
    public void Put(TItem item, TPriority priority, TimeSpan timeout) => Put((item, priority), timeout);

    /// <summary>Adds <paramref name="item"/> with <paramref name="priority"/> if there is room now; false if the queue is full.</summary>
    public bool TryPut(TItem item, TPriority priority) => TryPut((item, priority));

    private protected override int StoredCount => _heap.Count;

    private protected override void StoreItem((TItem Item, TPriority Priority) entry) => _heap.Enqueue(entry, (entry.Priority, _nextSeq++));

    private protected override (TItem Item, TPriority Priority) TakeItem() => _heap.Dequeue();

    private protected override void ReturnItem((TItem Item, TPriority Priority) entry) => _heap.Enqueue(entry, (entry.Priority, _frontSeq--));
}
