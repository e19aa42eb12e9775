namespace Evergreen.HubTests;

/// <summary>GreenTimeout scopes: interrupting waits, nesting, cancellation, WithTimeout.</summary>
public class TimeoutTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public void Scope_interrupts_Sleep()
    {
        Hub.Run(() =>
        {
            using var t = new GreenTimeout(Short);
            var ex = Assert.Throws<GreenTimeoutException>(() => Green.Sleep(Long));
            Assert.Same(t, ex.Timeout);
            Assert.IsAssignableFrom<TimeoutException>(ex);
            Assert.False(t.Pending);
        });
    }

    [Fact]
    public void Scope_interrupts_Event_wait()
    {
        Hub.Run(() =>
        {
            var ev = new Event();
            using var t = new GreenTimeout(Short);
            Assert.Throws<GreenTimeoutException>(() => ev.Wait());
            Assert.Equal(0, ev.Waiting);
        });
    }

    [Fact]
    public void Scope_interrupts_Queue_get_and_put()
    {
        Hub.Run(() =>
        {
            var q = new GreenQueue<int>(1);
            using (new GreenTimeout(Short)) Assert.Throws<GreenTimeoutException>(() => q.Get());
            q.Put(1);
            using (new GreenTimeout(Short)) Assert.Throws<GreenTimeoutException>(() => q.Put(2));
            Assert.Equal(1, q.Count);
            Assert.Equal(1, q.Get());
        });
    }

    [Fact]
    public void Scope_interrupts_Semaphore_acquire_and_Join()
    {
        Hub.Run(() =>
        {
            var sem = new GreenSemaphore(0);
            using (new GreenTimeout(Short)) Assert.Throws<GreenTimeoutException>(() => sem.Acquire());
            var gate = new Event();
            var g = Green.Spawn(() => gate.Wait());
            using (new GreenTimeout(Short)) Assert.Throws<GreenTimeoutException>(() => g.Wait());
            gate.Send();
            g.Wait();
        });
    }

    [Fact]
    public void Cancelled_scope_never_fires()
    {
        Hub.Run(() =>
        {
            var t = new GreenTimeout(TimeSpan.FromMilliseconds(5));
            Assert.True(t.Pending);
            t.Cancel();
            Assert.False(t.Pending);
            Green.Sleep(20); // longer than the cancelled scope: nothing is thrown
        });
    }

    [Fact]
    public void Work_finished_inside_the_scope_is_not_interrupted()
    {
        Hub.Run(() =>
        {
            using var t = new GreenTimeout(Long);
            Green.Sleep(1);
            Assert.True(t.Pending);
        });
    }

    [Fact]
    public void Nested_scopes_report_the_inner_one_when_it_expires_first()
    {
        Hub.Run(() =>
        {
            using var outer = new GreenTimeout(Long);
            using var inner = new GreenTimeout(Short);
            var ex = Assert.Throws<GreenTimeoutException>(() => Green.Sleep(Long));
            Assert.Same(inner, ex.Timeout);
            Assert.True(outer.Pending);
        });
    }

    [Fact]
    public void Nested_scopes_report_the_outer_one_when_it_expires_first()
    {
        Hub.Run(() =>
        {
            using var outer = new GreenTimeout(Short);
            using var inner = new GreenTimeout(Long);
            var ex = Assert.Throws<GreenTimeoutException>(() => Green.Sleep(Long));
            Assert.Same(outer, ex.Timeout);
            Assert.True(inner.Pending);
        });
    }

    [Fact]
    public void Scope_with_a_custom_exception_throws_it()
    {
        Hub.Run(() =>
        {
            using var t = new GreenTimeout(Short, new OperationCanceledException("custom"));
            var ex = Assert.Throws<OperationCanceledException>(() => Green.Sleep(Long));
            Assert.Equal("custom", ex.Message);
        });
    }

    [Fact]
    public void WithTimeout_returns_the_timeout_value_or_the_result()
    {
        Hub.Run(() =>
        {
            Assert.Equal("timed out", GreenTimeout.WithTimeout(Short, () => { Green.Sleep(Long); return "done"; }, "timed out"));
            Assert.Equal("done", GreenTimeout.WithTimeout(Long, () => { Green.Sleep(0); return "done"; }, "timed out"));
            Assert.Throws<GreenTimeoutException>(() => GreenTimeout.WithTimeout(Short, () => { Green.Sleep(Long); return 1; }));
        });
    }

    [Fact]
    public void WithTimeout_does_not_swallow_an_outer_scope()
    {
        Hub.Run(() =>
        {
            using var outer = new GreenTimeout(Short);
            var ex = Assert.Throws<GreenTimeoutException>(() => GreenTimeout.WithTimeout(Long, () => { Green.Sleep(Long); return 1; }, -1));
            Assert.Same(outer, ex.Timeout);
        });
    }

    [Fact]
    public void Infinite_scope_never_expires()
    {
        Hub.Run(() =>
        {
            using var t = new GreenTimeout(Timeout.InfiniteTimeSpan);
            Assert.False(t.Pending);
            Green.Sleep(1);
        });
    }

    [Fact]
    public void A_duration_beyond_the_clock_waits_instead_of_ending_at_once()
    {
        Hub.Run(() =>
        {
            var ev = new Event();
            var sleeper = Green.Spawn(() => Green.Sleep(TimeSpan.MaxValue));
            var waiter = Green.Spawn(() => ev.Wait(TimeSpan.MaxValue));
            Green.Sleep(Short);
            Assert.False(sleeper.IsDead); // the deadline overflowed into the past: both ended at the first pick
            Assert.False(waiter.IsDead);
            ev.Send();
            Assert.True(waiter.Wait());
            sleeper.Kill();
        });
    }
}
