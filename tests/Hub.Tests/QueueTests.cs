namespace Evergreen.HubTests;

/// <summary>GreenQueue, GreenLightQueue, GreenLifoQueue, GreenPriorityQueue: blocking, capacity, timeouts, order, task counting.</summary>
public class QueueTests
{
    [Fact]
    public void Fifo_order_and_counts()
    {
        Hub.Run(() =>
        {
            var q = new GreenQueue<int>();
            Assert.True(q.Empty);
            Assert.Null(q.MaxSize);
            for (int i = 0; i < 5; i++) q.Put(i);
            Assert.Equal(5, q.Count);
            Assert.False(q.Full);
            Assert.Equal([0, 1, 2, 3, 4], Enumerable.Range(0, 5).Select(_ => q.Get()).ToArray());
            Assert.True(q.Empty);
        });
    }

    [Fact]
    public void Zero_or_null_or_negative_maxsize_is_unbounded()
    {
        Hub.Run(() =>
        {
            foreach (var q in new[] { new GreenQueue<int>(0), new GreenQueue<int>(null), new GreenQueue<int>(-3) })
            {
                Assert.Null(q.MaxSize);
                for (int i = 0; i < 100; i++) q.PutNowait(i);
                Assert.False(q.Full);
            }
        });
    }

    [Fact]
    public void Get_blocks_until_a_put_and_getters_are_served_FIFO()
    {
        var order = Hub.Run(() =>
        {
            var seen = new List<string>();
            var q = new GreenQueue<string>();
            var getters = Enumerable.Range(0, 3).Select(i => Green.Spawn(() => seen.Add($"{i}:{q.Get()}"))).ToList();
            Green.Sleep(0);
            Assert.Equal(3, q.Getting);
            q.Put("a");
            q.Put("b");
            q.Put("c");
            Assert.True(q.Empty); // handed straight to the waiting getters
            foreach (var g in getters) g.Wait();
            Assert.Equal(0, q.Getting);
            return seen;
        });
        Assert.Equal(["0:a", "1:b", "2:c"], order);
    }

    [Fact]
    public void Put_blocks_on_a_full_queue_until_a_get_makes_room_and_putters_are_served_FIFO()
    {
        Hub.Run(() =>
        {
            var q = new GreenQueue<int>(2);
            q.Put(1);
            q.Put(2);
            Assert.True(q.Full);
            var putters = Enumerable.Range(3, 3).Select(i => Green.Spawn(() => q.Put(i))).ToList();
            Green.Sleep(0);
            Assert.Equal(3, q.Putting);
            Assert.All(putters, p => Assert.False(p.IsDead));
            Assert.Equal(2, q.Count); // never above capacity
            var got = new List<int>();
            for (int i = 0; i < 5; i++)
            {
                got.Add(q.Get());
                Assert.True(q.Count <= 2);
            }
            foreach (var p in putters) p.Wait();
            Assert.Equal([1, 2, 3, 4, 5], got);
            Assert.Equal(0, q.Putting);
        });
    }

    [Fact]
    public void Put_into_a_full_queue_hands_the_item_to_a_waiting_getter()
    {
        Hub.Run(() =>
        {
            var q = new GreenQueue<int>(1);
            var getter = Green.Spawn(() => q.Get());
            Green.Sleep(0);
            q.PutNowait(7);                    // a getter waits: the item goes straight to it
            Assert.True(q.Empty);
            q.PutNowait(8);                    // now it is stored
            Assert.True(q.Full);
            Assert.Equal(7, getter.Wait());
            Assert.Equal(8, q.Get());
        });
    }

    [Fact]
    public void Timeouts_and_nowait_throw_typed_exceptions()
    {
        Hub.Run(() =>
        {
            var q = new GreenQueue<int>(1);
            Assert.Throws<QueueEmptyException>(() => q.GetNowait());
            Assert.Throws<QueueEmptyException>(() => q.Get(TimeSpan.FromMilliseconds(5)));
            Assert.False(q.TryGet(out _));
            q.Put(1);
            Assert.Throws<QueueFullException>(() => q.PutNowait(2));
            Assert.Throws<QueueFullException>(() => q.Put(2, TimeSpan.FromMilliseconds(5)));
            Assert.Throws<QueueFullException>(() => q.Put(2, TimeSpan.Zero));
            Assert.False(q.TryPut(2));
            Assert.Equal(0, q.Putting);
            Assert.Equal(0, q.Getting);
            Assert.True(q.TryGet(out int v));
            Assert.Equal(1, v);
            Assert.IsAssignableFrom<InvalidOperationException>(new QueueFullException());
            Assert.IsAssignableFrom<InvalidOperationException>(new QueueEmptyException());
        });
    }

    [Fact]
    public void Get_and_put_with_timeout_succeed_when_served_in_time()
    {
        Hub.Run(() =>
        {
            var q = new GreenQueue<int>(1);
            Green.Spawn(() => q.Put(3));
            Assert.Equal(3, q.Get(TimeSpan.FromSeconds(30)));
            q.Put(4);
            var getter = Green.Spawn(() => q.Get());
            q.Put(5, TimeSpan.FromSeconds(30));
            Assert.Equal(4, getter.Wait());
            Assert.Equal(5, q.Get());
        });
    }

    [Fact]
    public void Null_items_travel_like_any_other()
    {
        Hub.Run(() =>
        {
            var q = new GreenLightQueue<string?>();
            var getter = Green.Spawn(() => q.Get());
            Green.Sleep(0);
            q.Put(null);
            Assert.Null(getter.Wait());
            q.Put(null);
            Assert.Null(q.Get());
        });
    }

    [Fact]
    public void Item_granted_to_a_killed_getter_is_not_lost()
    {
        Hub.Run(() =>
        {
            var q = new GreenQueue<int>();
            var first = Green.Spawn(() => q.Get());
            var second = Green.Spawn(() => q.Get());
            Green.Sleep(0);
            q.Put(1);          // granted to first, which has not run yet
            first.Kill();      // the item moves on to the next getter
            Assert.Equal(1, second.Wait());

            var only = Green.Spawn(() => q.Get());
            Green.Sleep(0);
            q.Put(2);
            q.Put(3);
            only.Kill();       // no other getter: the item goes back to the front
            Assert.Equal([2, 3], new[] { q.Get(), q.Get() });
        });
    }

    [Fact]
    public void Item_of_a_putter_killed_after_it_was_admitted_stays_queued()
    {
        Hub.Run(() =>
        {
            var q = new GreenQueue<int>(1);
            q.Put(1);
            var putter = Green.Spawn(() => q.Put(2));
            Green.Sleep(0);
            Assert.Equal(1, q.Get());   // makes room: the putter's item is admitted and the putter woken
            putter.Kill();              // killed before it ran: the put had already happened
            Assert.Throws<GreenThreadExitException>(() => putter.Wait());
            Assert.Equal(2, q.Get());
            Assert.Equal(2, q.UnfinishedTasks);
        });
    }

    [Fact]
    public void Resize_up_admits_waiting_putters_and_down_keeps_items()
    {
        Hub.Run(() =>
        {
            var q = new GreenQueue<int>(1);
            q.Put(1);
            var putter = Green.Spawn(() => q.Put(2));
            Green.Sleep(0);
            Assert.Equal(1, q.Putting);
            q.Resize(2);
            Assert.Equal(2, q.MaxSize);
            Assert.Equal(2, q.Count);
            putter.Wait();
            q.Resize(1);
            Assert.Equal(2, q.Count); // shrinking drops nothing
            Assert.True(q.Full);
            Assert.False(q.TryPut(3));
            q.Resize(null);
            Assert.True(q.TryPut(3));
            Assert.Equal([1, 2, 3], new[] { q.Get(), q.Get(), q.Get() });
        });
    }

    [Fact]
    public void TaskDone_and_Join_count_unfinished_tasks()
    {
        Hub.Run(() =>
        {
            var q = new GreenQueue<int>();
            var done = new List<int>();
            var worker = Green.Spawn(() =>
            {
                for (int i = 0; i < 3; i++)
                {
                    done.Add(q.Get());
                    Green.Sleep(0);
                    q.TaskDone();
                }
            });
            q.Put(1);
            q.Put(2);
            q.Put(3);
            Assert.Equal(3, q.UnfinishedTasks);
            q.Join();
            Assert.Equal([1, 2, 3], done);
            Assert.Equal(0, q.UnfinishedTasks);
            Assert.True(q.Join(TimeSpan.Zero));
            worker.Wait();
            Assert.Throws<InvalidOperationException>(() => q.TaskDone());
        });
    }

    [Fact]
    public void Join_with_timeout_returns_false_while_tasks_are_unfinished()
    {
        Hub.Run(() =>
        {
            var q = new GreenQueue<int>();
            q.Put(1);
            Assert.False(q.Join(TimeSpan.FromMilliseconds(5)));
            q.Get();
            q.TaskDone();
            Assert.True(q.Join(TimeSpan.FromMilliseconds(5)));
        });
    }

    [Fact]
    public void LifoQueue_returns_the_newest_first()
    {
        Hub.Run(() =>
        {
            var q = new GreenLifoQueue<int>(3);
            q.Put(1);
            q.Put(2);
            q.Put(3);
            Assert.True(q.Full);
            Assert.Equal([3, 2, 1], new[] { q.Get(), q.Get(), q.Get() });
            q.Put(4);
            q.TaskDone();
            q.TaskDone();
            q.TaskDone();
            q.TaskDone();
            q.Join();
        });
    }

    [Fact]
    public void PriorityQueue_returns_lowest_priority_first_and_equal_priorities_in_put_order()
    {
        Hub.Run(() =>
        {
            var q = new GreenPriorityQueue<string, int>();
            q.Put("c1", 3);
            q.Put("a1", 1);
            q.Put("b1", 2);
            q.Put("a2", 1);
            q.Put(("a3", 1));
            q.Put("c2", 3);
            var items = Enumerable.Range(0, 6).Select(_ => q.Get().Item).ToArray();
            Assert.Equal(["a1", "a2", "a3", "b1", "c1", "c2"], items);
        });
    }

    [Fact]
    public void PriorityQueue_with_a_comparer_and_capacity()
    {
        Hub.Run(() =>
        {
            var q = new GreenPriorityQueue<string, int>(2, Comparer<int>.Create((a, b) => b.CompareTo(a)));
            Assert.True(q.TryPut("low", 1));
            q.Put("high", 9, TimeSpan.FromSeconds(1));
            Assert.False(q.TryPut("x", 5));
            var (item, priority) = q.Get();
            Assert.Equal(("high", 9), (item, priority));
        });
    }

    [Fact]
    public void LightQueue_hands_items_between_threads()
    {
        var got = Hub.Run(() =>
        {
            var q = new GreenLightQueue<int>(1);
            var producer = Green.Spawn(() => { for (int i = 0; i < 20; i++) q.Put(i); });
            var seen = Enumerable.Range(0, 20).Select(_ => q.Get()).ToList();
            producer.Wait();
            return seen;
        });
        Assert.Equal(Enumerable.Range(0, 20), got);
    }
}
