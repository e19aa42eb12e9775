using Evergreen.Internal;

namespace Evergreen;

/// <summary>
/// A FIFO queue for green threads, optionally bounded (eventlet.queue.LightQueue): <see cref="Get()"/> waits greenly
/// while it is empty and <see cref="Put(T)"/> waits greenly while it is full. Items go straight to the longest-waiting
/// getter, and a getter that makes room admits the longest-waiting putter's item, so both sides are served FIFO and
/// nobody barges in ahead of a waiter. No <c>task_done</c>/<c>join</c>: see <see cref="GreenQueue{T}"/> for those.
/// Every operation except the read-only properties must be called on a green thread.
/// </summary>
public class GreenLightQueue<T>
{
    private readonly WaitList _getters = new();
    private readonly WaitList _putters = new();
    private Action<object?>? _giveBack; // cached: one delegate per blocking Get otherwise
    // A LinkedList, not a Queue<T>, so an item granted to a getter that is then killed can go back to the front.
    private readonly LinkedList<T> _items = new();
    private int? _maxSize;

    /// <summary>
    /// Creates a queue holding at most <paramref name="maxSize"/> items; null, zero or negative means unbounded
    /// (Python's <c>queue</c> convention; eventlet's <c>Queue(0)</c> channel is not offered).
    /// </summary>
    public GreenLightQueue(int? maxSize = null) => _maxSize = Normalize(maxSize);

    /// <summary>The capacity, or null when unbounded.</summary>
    public int? MaxSize => _maxSize;

    /// <summary>Items in the queue now (not counting items blocked putters still hold).</summary>
    public int Count => StoredCount;

    /// <summary>True when the queue holds no item.</summary>
    public bool Empty => StoredCount == 0;

    /// <summary>True when the queue is bounded and holds <see cref="MaxSize"/> items (or more, after a <see cref="Resize"/> down).</summary>
    public bool Full => _maxSize is { } max && StoredCount >= max;

    /// <summary>Green threads waiting in <see cref="Get()"/>.</summary>
    public int Getting => _getters.Count;

    /// <summary>Green threads waiting in <see cref="Put(T)"/> for room.</summary>
    public int Putting => _putters.Count;

    /// <summary>Adds <paramref name="item"/>, waiting greenly while the queue is full.</summary>
    public void Put(T item) => PutCore(item, -1);

    /// <summary>
    /// Adds <paramref name="item"/>, waiting greenly at most <paramref name="timeout"/> for room
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: forever).
    /// </summary>
    /// <exception cref="QueueFullException">The queue stayed full for the whole timeout.</exception>
    public void Put(T item, TimeSpan timeout) => PutCore(item, TimeoutTicks(timeout));

    /// <summary>Adds <paramref name="item"/> if there is room now; false (and nothing changes) if the queue is full.</summary>
    public bool TryPut(T item)
    {
        using var entry = Hub.Instance.EnterGreen("GreenQueue.TryPut", out var self);
        return TryPutNow(self.Hub, item);
    }

    /// <summary>Adds <paramref name="item"/> without waiting.</summary>
    /// <exception cref="QueueFullException">The queue is full.</exception>
    public void PutNowait(T item)
    {
        if (!TryPut(item)) throw new QueueFullException($"The queue is full ({_maxSize} items).");
    }

    /// <summary>Removes and returns the next item, waiting greenly while the queue is empty.</summary>
    public T Get() => GetCore(-1);

    /// <summary>
    /// Removes and returns the next item, waiting greenly at most <paramref name="timeout"/>
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: forever).
    /// </summary>
    /// <exception cref="QueueEmptyException">No item arrived within the timeout.</exception>
    public T Get(TimeSpan timeout) => GetCore(TimeoutTicks(timeout));

    /// <summary>Removes the next item if there is one now; false if the queue is empty.</summary>
    public bool TryGet(out T item)
    {
        using var entry = Hub.Instance.EnterGreen("GreenQueue.TryGet", out var self);
        return TryTakeNow(self.Hub, out item);
    }

    /// <summary>Removes and returns the next item without waiting.</summary>
    /// <exception cref="QueueEmptyException">The queue is empty.</exception>
    public T GetNowait() => TryGet(out var item) ? item : throw new QueueEmptyException();

    /// <summary>
    /// Changes the capacity (null, zero or negative: unbounded). Growing admits waiting putters at once;
    /// shrinking keeps the items already queued and makes puts wait until the queue drains below the new size.
    /// </summary>
    public void Resize(int? maxSize)
    {
        using var entry = Hub.Instance.EnterGreen("GreenQueue.Resize", out var self);
        _maxSize = Normalize(maxSize);
        AdmitPutters(self.Hub);
    }

    // --- storage: the ordering policy, overridden by GreenLifoQueue and GreenPriorityQueue ----------------

    private protected virtual int StoredCount => _items.Count;

    private protected virtual void StoreItem(T item) => _items.AddLast(item);

    private protected virtual T TakeItem()
    {
        var item = _items.First!.Value;
        _items.RemoveFirst();
        return item;
    }

    /// <summary>Puts back an item just taken (its getter was killed) so that it is the next one taken.</summary>
    private protected virtual void ReturnItem(T item) => _items.AddFirst(item);

    /// <summary>Called once for every item accepted by a put (GreenQueue counts unfinished tasks here).</summary>
    private protected virtual void OnPut() { }

    // --- the protocol ----------------------------------------------------------------------------

    private void PutCore(T item, long ticks)
    {
        using var entry = Hub.Instance.EnterGreen("GreenQueue.Put", out var self);
        if (TryPutNow(self.Hub, item)) return;
        if (ticks == 0) throw new QueueFullException($"The queue is full ({_maxSize} items).");
        // The getter that makes room stores the item itself and then wakes us, so once woken the put is done.
        // If we are killed after that, the item stays queued: it was accepted, like a put that returned.
        self.NoteWait(ticks < 0 ? WaitKind.Queue : WaitKind.Queue | WaitKind.Timed, this, "Put: full");
        if (!_putters.Wait(self.Hub, self, ticks, out _, tag: new Box(item)))
            throw new QueueFullException($"The queue stayed full ({_maxSize} items) for the whole timeout.");
    }

    private bool TryPutNow(Hub hub, T item)
    {
        // Live getters exist only while the queue is empty, and live putters only while it is full, so
        // storing here never jumps ahead of a waiter.
        if (_getters.Count > 0 && _getters.WakeOne(hub, new Box(item)))
        {
            OnPut();
            return true;
        }
        if (Full) return false;
        StoreItem(item);
        OnPut();
        return true;
    }

    private T GetCore(long ticks)
    {
        using var entry = Hub.Instance.EnterGreen("GreenQueue.Get", out var self);
        if (TryTakeNow(self.Hub, out var item)) return item;
        if (ticks == 0) throw new QueueEmptyException();
        // The item comes with the wake; a kill or GreenTimeout scope landing after that hands it on (giveBack).
        self.NoteWait(ticks < 0 ? WaitKind.Queue : WaitKind.Queue | WaitKind.Timed, this, "Get: empty");
        if (!_getters.Wait(self.Hub, self, ticks, out var granted, giveBack: _giveBack ??= g => GiveBack(((Box)g!).Value)))
            throw new QueueEmptyException("No item arrived within the timeout.");
        return ((Box)granted!).Value;
    }

    private bool TryTakeNow(Hub hub, out T item)
    {
        if (StoredCount == 0)
        {
            item = default!;
            return false;
        }
        item = TakeItem();
        AdmitPutters(hub);
        return true;
    }

    /// <summary>Moves blocked putters' items in, oldest first, while there is room, and wakes those putters.</summary>
    private void AdmitPutters(Hub hub)
    {
        while (!Full && _putters.PeekLive() is { } node)
        {
            var item = ((Box)node.Tag!).Value;
            _putters.WakeOne(hub, this);
            if (!(_getters.Count > 0 && _getters.WakeOne(hub, new Box(item)))) StoreItem(item);
            OnPut();
        }
    }

    /// <summary>An item granted to a getter that was killed before it ran: to the next getter, else back to the front.</summary>
    private void GiveBack(T item)
    {
        // This may leave a bounded queue one over its size for a moment; losing the item would be worse.
        if (_getters.Count > 0 && _getters.WakeOne(Hub.Instance, new Box(item))) return;
        ReturnItem(item);
    }

    /// <summary>Carries an item through a wake or a waiter's tag, which must be non-null even when the item is null.</summary>
    private sealed class Box(T value)
    {
        public readonly T Value = value;
    }

    private static int? Normalize(int? maxSize) => maxSize is > 0 ? maxSize : null;

    private static long TimeoutTicks(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? -1 : Hub.ToTicks(timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout);
}
