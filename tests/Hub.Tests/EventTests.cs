namespace Evergreen.HubTests;

/// <summary>Event and Event&lt;T&gt;: send/wait, timeouts, reset, exceptions, wake order, sends from outside.</summary>
public class EventTests
{
    [Fact]
    public void Send_wakes_a_waiter_with_the_value()
    {
        Hub.Run(() =>
        {
            var ev = new Event<string>();
            var waiter = Green.Spawn(() => ev.Wait());
            Green.Sleep(0);
            Assert.Equal(1, ev.Waiting);
            ev.Send("hello");
            Assert.True(ev.Ready);
            Assert.Equal("hello", waiter.Wait());
            Assert.Equal("hello", ev.Wait()); // a sent event returns at once
        });
    }

    [Fact]
    public void Waiters_wake_in_the_order_they_began_waiting()
    {
        var order = Hub.Run(() =>
        {
            var seen = new List<int>();
            var ev = new Event();
            var threads = Enumerable.Range(0, 5).Select(i => Green.Spawn(() => { ev.Wait(); seen.Add(i); })).ToList();
            Green.Sleep(0);
            ev.Send();
            foreach (var t in threads) t.Wait();
            return seen;
        });
        Assert.Equal([0, 1, 2, 3, 4], order);
    }

    [Fact]
    public void Wait_with_timeout_returns_false_when_nothing_is_sent()
    {
        Hub.Run(() =>
        {
            var ev = new Event<int>();
            Assert.False(ev.Wait(TimeSpan.FromMilliseconds(5), out int v));
            Assert.Equal(0, v);
            Assert.False(new Event().Wait(TimeSpan.Zero));
            Assert.Equal(0, ev.Waiting);
        });
    }

    [Fact]
    public void Wait_with_timeout_returns_the_value_when_sent_in_time()
    {
        Hub.Run(() =>
        {
            var ev = new Event<int>();
            Green.Spawn(() => ev.Send(11));
            Assert.True(ev.Wait(TimeSpan.FromSeconds(30), out int v));
            Assert.Equal(11, v);
        });
    }

    [Fact]
    public void Reset_makes_the_event_waitable_and_sendable_again()
    {
        Hub.Run(() =>
        {
            var ev = new Event<int>();
            ev.Send(1);
            Assert.Equal(1, ev.Wait());
            ev.Reset();
            Assert.False(ev.Ready);
            var waiter = Green.Spawn(() => ev.Wait());
            Green.Sleep(0);
            Assert.False(waiter.IsDead);
            ev.Send(2);
            Assert.Equal(2, waiter.Wait());
        });
    }

    [Fact]
    public void SendException_is_thrown_from_every_Wait()
    {
        Hub.Run(() =>
        {
            var ev = new Event<int>();
            var a = Green.Spawn(() => ev.Wait());
            var b = Green.Spawn(() => ev.Wait());
            Green.Sleep(0);
            ev.SendException(new TimeZoneNotFoundException("nope"));
            Assert.True(ev.HasException);
            Assert.Throws<TimeZoneNotFoundException>(() => a.Wait());
            Assert.Throws<TimeZoneNotFoundException>(() => b.Wait());
            Assert.Throws<TimeZoneNotFoundException>(() => ev.Wait());
        });
    }

    [Fact]
    public void Sending_twice_is_an_error()
    {
        Hub.Run(() =>
        {
            var ev = new Event();
            ev.Send();
            var ex = Assert.Throws<InvalidOperationException>(() => ev.Send());
            Assert.Contains("Reset", ex.Message);
            Assert.Throws<InvalidOperationException>(() => ev.SendException(new Exception()));
        });
    }

    [Fact]
    public void Send_from_a_non_green_thread_wakes_a_green_waiter()
    {
        Hub.Run(() =>
        {
            var ev = new Event<int>();
            var sender = Task.Run(() => ev.Send(99));
            // The timeout is only a safety net (it also tells the hub an outside wake-up is possible).
            Assert.True(ev.Wait(TimeSpan.FromSeconds(30), out int v));
            Assert.Equal(99, v);
            sender.Wait();
        });
    }

    [Fact]
    public void Send_from_a_non_green_thread_is_delivered_when_a_worker_polls()
    {
        // Regression: the posted send re-checked IsGreenThread, found a worker (no current green thread)
        // draining the posts, and re-posted itself forever instead of delivering.
        Hub.Run(() =>
        {
            var ev = new Event<int>();
            Green.Spawn(() => { Task.Run(() => ev.Send(5)); }); // ends at once, so its worker becomes the poller
            Assert.True(ev.Wait(TimeSpan.FromSeconds(30), out int v));
            Assert.Equal(5, v);
        });
    }
}
