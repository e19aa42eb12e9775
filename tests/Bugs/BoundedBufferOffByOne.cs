namespace Evergreen.Bugs;

/// <summary>
/// A bounded buffer off by one: <see cref="BoundedBuffer.Put"/> waits while <c>count &gt; capacity</c> instead of
/// <c>count == capacity</c>, so a put into a full buffer overwrites the oldest item. Three producers into a buffer of
/// two: when all three put before the consumer takes, one item is lost and another delivered twice.
/// </summary>
public static class BoundedBufferOffByOne
{
    /// <summary>A ring buffer of fixed capacity.</summary>
    public sealed class BoundedBuffer(int capacity)
    {
        private readonly object _gate = new();
        private readonly int[] _slots = new int[capacity];
        private int _head;
        private int _tail;
        private int _count;

        /// <summary>The bug: the "full" test lets one put too many through.</summary>
        public void Put(int item)
        {
            lock (_gate)
            {
                while (_count > _slots.Length)
                    Monitor.Wait(_gate);
                _slots[_tail] = item;
                _tail = (_tail + 1) % _slots.Length;
                _count++;
                Monitor.PulseAll(_gate);
            }
        }

        /// <summary>Takes the oldest item, waiting while the buffer is empty.</summary>
        public int Take()
        {
            lock (_gate)
            {
                while (_count == 0)
                    Monitor.Wait(_gate);
                int item = _slots[_head];
                _head = (_head + 1) % _slots.Length;
                _count--;
                Monitor.PulseAll(_gate);
                return item;
            }
        }
    }

    /// <summary>Producers of 1, 2 and 3, one consumer of three items; throws when an item was lost.</summary>
    public static void Body()
    {
        var buffer = new BoundedBuffer(capacity: 2);
        var taken = new List<int>();
        var consumer = new Thread(() =>
        {
            for (int i = 0; i < 3; i++)
                taken.Add(buffer.Take());
        })
        { Name = "consumer" };
        consumer.Start();
        var producers = new List<Thread>();
        for (int item = 1; item <= 3; item++)
        {
            int value = item;
            var producer = new Thread(() => buffer.Put(value)) { Name = $"producer-{value}" };
            producers.Add(producer);
            producer.Start();
        }
        foreach (var producer in producers)
            producer.Join();
        consumer.Join();
        if (!taken.Order().SequenceEqual([1, 2, 3]))
            throw new InvalidOperationException($"bounded buffer lost an item: took {string.Join(",", taken)}");
    }
}
