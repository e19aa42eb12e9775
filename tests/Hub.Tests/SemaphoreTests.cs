namespace Evergreen.HubTests;

/// <summary>GreenSemaphore, GreenBoundedSemaphore and GreenCappedSemaphore.</summary>
public class SemaphoreTests
{
    [Fact]
    public void Semaphore_counts_and_blocks_at_zero()
    {
        Hub.Run(() =>
        {
            var sem = new GreenSemaphore(2);
            Assert.True(sem.TryAcquire());
            sem.Acquire();
            Assert.True(sem.Locked);
            Assert.False(sem.TryAcquire());
            Assert.False(sem.Acquire(TimeSpan.FromMilliseconds(5)));
            bool got = false;
            var g = Green.Spawn(() => { sem.Acquire(); got = true; });
            Green.Sleep(0);
            Assert.False(got);
            Assert.Equal(-1, sem.Balance);
            sem.Release();
            g.Wait();
            Assert.True(got);
            Assert.Equal(0, sem.Count);
        });
    }

    [Fact]
    public void Semaphore_serves_waiters_FIFO_and_a_releaser_cannot_barge()
    {
        var order = Hub.Run(() =>
        {
            var seen = new List<int>();
            var sem = new GreenSemaphore(0);
            var threads = Enumerable.Range(0, 4).Select(i => Green.Spawn(() => { sem.Acquire(); seen.Add(i); sem.Release(); })).ToList();
            Green.Sleep(0);
            sem.Release();
            // The permit went to thread 0 with the wake: we cannot take it back.
            Assert.False(sem.TryAcquire());
            foreach (var t in threads) t.Wait();
            return seen;
        });
        Assert.Equal([0, 1, 2, 3], order);
    }

    [Fact]
    public void Semaphore_permit_granted_to_a_thread_killed_before_it_ran_goes_to_the_next_waiter()
    {
        Hub.Run(() =>
        {
            var sem = new GreenSemaphore(0);
            var first = Green.Spawn(() => sem.Acquire());
            bool secondGot = false;
            var second = Green.Spawn(() => { sem.Acquire(); secondGot = true; });
            Green.Sleep(0);
            sem.Release();   // granted to first, which has not run yet
            first.Kill();    // ... and dies of the kill instead: the permit must move on
            second.Wait();
            Assert.True(secondGot);
            Assert.Equal(0, sem.Count);
        });
    }

    [Fact]
    public void Semaphore_Lock_scope_releases()
    {
        Hub.Run(() =>
        {
            var sem = new GreenSemaphore(1);
            using (sem.Lock()) Assert.True(sem.Locked);
            Assert.False(sem.Locked);
        });
    }

    [Fact]
    public void BoundedSemaphore_refuses_release_beyond_its_initial_count()
    {
        Hub.Run(() =>
        {
            var sem = new GreenBoundedSemaphore(2);
            Assert.Equal(2, sem.Limit);
            var ex = Assert.Throws<SemaphoreOverReleasedException>(() => sem.Release());
            Assert.IsAssignableFrom<InvalidOperationException>(ex);
            Assert.Contains("released too many times", ex.Message);
            Assert.Equal(2, sem.Count);
            sem.Acquire();
            sem.Release();
            Assert.Throws<SemaphoreOverReleasedException>(() => sem.Release());
            Assert.Equal(2, sem.Count);
        });
    }

    [Fact]
    public void BoundedSemaphore_hands_permits_to_waiters_like_a_Semaphore()
    {
        Hub.Run(() =>
        {
            var sem = new GreenBoundedSemaphore(1);
            sem.Acquire();
            var g = Green.Spawn(() => { sem.Acquire(); sem.Release(); });
            Green.Sleep(0);
            sem.Release();
            g.Wait();
            Assert.Equal(1, sem.Count);
            Assert.Throws<SemaphoreOverReleasedException>(() => sem.Release());
        });
    }

    [Fact]
    public void CappedSemaphore_never_rises_above_its_limit_and_release_waits_there()
    {
        Hub.Run(() =>
        {
            var sem = new GreenCappedSemaphore(1, 2);
            Assert.True(sem.TryRelease());
            Assert.Equal(2, sem.Count);
            Assert.False(sem.TryRelease());
            Assert.False(sem.Release(TimeSpan.FromMilliseconds(5)));
            Assert.Equal(2, sem.Count);
            bool released = false;
            var releaser = Green.Spawn(() => { sem.Release(); released = true; });
            Green.Sleep(0);
            Assert.False(released);          // waiting for room below the limit
            Assert.Equal(3, sem.Balance);
            sem.Acquire();                   // makes room: the waiting release completes
            releaser.Wait();
            Assert.True(released);
            Assert.Equal(2, sem.Count);
        });
    }

    [Fact]
    public void CappedSemaphore_acquire_blocks_at_zero()
    {
        Hub.Run(() =>
        {
            var sem = new GreenCappedSemaphore(0, 1);
            Assert.True(sem.Locked);
            Assert.False(sem.TryAcquire());
            Assert.False(sem.Acquire(TimeSpan.FromMilliseconds(5)));
            var g = Green.Spawn(() => sem.Acquire());
            Green.Sleep(0);
            Assert.Equal(-1, sem.Balance);
            sem.Release();
            g.Wait();
            Assert.Equal(0, sem.Count);
            Assert.Throws<ArgumentOutOfRangeException>(() => new GreenCappedSemaphore(3, 2));
        });
    }
}
