namespace Evergreen;

/// <summary>
/// A <see cref="GreenQueue{T}"/> that hands out the most recently put item first (eventlet.queue.LifoQueue).
/// Blocking, capacity and task counting are those of <see cref="GreenQueue{T}"/>.
/// </summary>
public class GreenLifoQueue<T> : GreenQueue<T>
{
    private readonly List<T> _stack = new();

    /// <summary>Creates a stack holding at most <paramref name="maxSize"/> items (null, zero or negative: unbounded).</summary>
    public GreenLifoQueue(int? maxSize = null) : base(maxSize) { }

    private protected override int StoredCount => _stack.Count;

    private protected override void StoreItem(T item) => _stack.Add(item);

    private protected override T TakeItem()
    {
        var item = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return item;
    }

    private protected override void ReturnItem(T item) => _stack.Add(item);
}
