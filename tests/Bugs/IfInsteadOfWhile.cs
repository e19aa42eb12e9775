namespace Evergreen.Bugs;

/// <summary>
/// <c>if</c> instead of <c>while</c> around <see cref="Monitor.Wait(object)"/>: a consumer woken by a put assumes
/// the item is still there. A second consumer that takes the lock first (it was not waiting) takes it, and the woken
/// one dequeues from an empty queue.
/// </summary>
public static class IfInsteadOfWhile
{
    /// <summary>A blocking work queue.</summary>
    public sealed class WorkQueue
    {
        private readonly object _gate = new();
        private readonly Queue<int> _items = new();

        /// <summary>Adds an item and wakes one waiting consumer.</summary>
        public void Put(int item)
        {
            lock (_gate)
            {
                _items.Enqueue(item);
                Monitor.Pulse(_gate);
            }
        }

        /// <summary>The bug: <c>if</c> where the condition must be checked again after every wake.</summary>
        public int Take()
        {
            lock (_gate)
            {
                if (_items.Count == 0)
                    Monitor.Wait(_gate);
                return _items.Dequeue(); // "Queue empty." when the woken consumer's item was taken meanwhile
            }
        }

        /// <summary>The fix: <c>while</c>.</summary>
        public int TakeFixed()
        {
            lock (_gate)
            {
                while (_items.Count == 0)
                    Monitor.Wait(_gate);
                return _items.Dequeue();
            }
        }
    }

    /// <summary>Two consumers, a producer of two items; a consumer's thread throws when the bug shows.</summary>
    public static void Body() => Run(fixedCode: false);

    /// <summary>The same with <c>while</c>.</summary>
    public static void Fixed() => Run(fixedCode: true);

    private static void Run(bool fixedCode)
    {
        var queue = new WorkQueue();
        Func<int> take = fixedCode ? queue.TakeFixed : queue.Take;
        var first = new Thread(() => take()) { Name = "consumer-1" };
        var second = new Thread(() => take()) { Name = "consumer-2" };
        var producer = new Thread(() =>
        {
            queue.Put(1);
            queue.Put(2);
        })
        { Name = "producer" };
        first.Start();
        second.Start();
        producer.Start();
        first.Join();
        second.Join();
        producer.Join();
    }
}
