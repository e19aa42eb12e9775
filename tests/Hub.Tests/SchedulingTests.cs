namespace Evergreen.HubTests;

/// <summary>Core scheduling: spawn order, yields, results, delays, fairness, and the edges of the green world.</summary>
public class SchedulingTests
{
    [Fact]
    public void Spawned_threads_run_in_spawn_order_when_the_spawner_yields()
    {
        var order = Hub.Run(() =>
        {
            var seen = new List<int>();
            var threads = Enumerable.Range(0, 5).Select(i => Green.Spawn(() => seen.Add(i))).ToList();
            Assert.Empty(seen); // nothing runs until the spawner blocks or yields
            foreach (var t in threads) t.Wait();
            return seen;
        });
        Assert.Equal([0, 1, 2, 3, 4], order);
    }

    [Fact]
    public void Sleep_zero_round_robins_between_threads()
    {
        var trace = Hub.Run(() =>
        {
            var seen = new List<string>();
            GreenThread Worker(string name) => Green.Spawn(() =>
            {
                for (int i = 0; i < 3; i++)
                {
                    seen.Add($"{name}{i}");
                    Green.Sleep(0);
                }
            });
            var a = Worker("a");
            var b = Worker("b");
            var c = Worker("c");
            a.Wait();
            b.Wait();
            c.Wait();
            return seen;
        });
        Assert.Equal(["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"], trace);
    }

    [Fact]
    public void Wait_returns_the_result()
    {
        Assert.Equal(42, Hub.Run(() => Green.Spawn(() => 6 * 7).Wait()));
    }

    [Fact]
    public void Wait_rethrows_the_exception_and_the_hub_keeps_running()
    {
        Hub.Run(() =>
        {
            var g = Green.Spawn<int>(() => throw new ArithmeticException("boom"));
            var ex = Assert.Throws<ArithmeticException>(() => g.Wait());
            Assert.Equal("boom", ex.Message);
            Assert.True(g.IsDead);
            Assert.Same(ex, g.Exception);
            // The hub survived the failure: more threads run and finish.
            Assert.Equal(3, Green.Spawn(() => 1 + 2).Wait());
        });
    }

    [Fact]
    public void SpawnAfter_runs_in_order_of_delay_not_of_spawning()
    {
        var order = Hub.Run(() =>
        {
            var seen = new List<string>();
            var late = Green.SpawnAfter(TimeSpan.FromMilliseconds(60), () => seen.Add("60ms"));
            var early = Green.SpawnAfter(TimeSpan.FromMilliseconds(10), () => seen.Add("10ms"));
            var middle = Green.SpawnAfter(TimeSpan.FromMilliseconds(30), () => seen.Add("30ms"));
            var now = Green.Spawn(() => seen.Add("now"));
            late.Wait();
            early.Wait();
            middle.Wait();
            now.Wait();
            return seen;
        });
        Assert.Equal(["now", "10ms", "30ms", "60ms"], order);
    }

    [Fact]
    public void SpawnAfter_returns_a_result()
    {
        Assert.Equal("late", Hub.Run(() => Green.SpawnAfter(TimeSpan.FromMilliseconds(5), () => "late").Wait()));
    }

    [Fact]
    public void A_thread_looping_on_sleep_zero_does_not_starve_a_timer()
    {
        Hub.Run(() =>
        {
            bool timerRan = false;
            var timed = Green.SpawnAfter(TimeSpan.FromMilliseconds(10), () => timerRan = true);
            int spins = 0;
            var spinner = Green.Spawn(() =>
            {
                while (!timerRan)
                {
                    spins++;
                    Green.Sleep(0);
                }
            });
            spinner.Wait();
            timed.Wait();
            Assert.True(timerRan);
            Assert.True(spins > 0);
        });
    }

    [Fact]
    public void A_thread_looping_on_sleep_zero_does_not_starve_other_threads()
    {
        Hub.Run(() =>
        {
            bool stop = false;
            int otherRuns = 0;
            var spinner = Green.Spawn(() => { while (!stop) Green.Sleep(0); });
            var other = Green.Spawn(() =>
            {
                for (int i = 0; i < 10; i++)
                {
                    otherRuns++;
                    Green.Sleep(0);
                }
                stop = true;
            });
            other.Wait();
            spinner.Wait();
            Assert.Equal(10, otherRuns);
        });
    }

    [Fact]
    public void Timed_sleeps_wake_in_deadline_order()
    {
        var order = Hub.Run(() =>
        {
            var seen = new List<int>();
            // The three timers are armed together once `go` is sent (the threads run one after another without a
            // switch), so their order cannot depend on how long each spawn took on a loaded machine.
            var go = new Event();
            var a = Green.Spawn(() => { go.Wait(); Green.Sleep(40); seen.Add(40); });
            var b = Green.Spawn(() => { go.Wait(); Green.Sleep(10); seen.Add(10); });
            var c = Green.Spawn(() => { go.Wait(); Green.Sleep(TimeSpan.FromMilliseconds(25)); seen.Add(25); });
            Green.Sleep(0); // let all three reach go.Wait()
            go.Send();
            a.Wait();
            b.Wait();
            c.Wait();
            return seen;
        });
        Assert.Equal([10, 25, 40], order);
    }

    [Fact]
    public void A_wait_that_can_never_end_throws_GreenDeadlockException()
    {
        Hub.Run(() =>
        {
            var ev = new Event();
            var ex = Assert.Throws<GreenDeadlockException>(() => ev.Wait());
            Assert.Contains("block forever", ex.Message);
        });
    }

    [Fact]
    public void A_spawned_thread_whose_wait_can_never_end_gets_GreenDeadlockException()
    {
        Hub.Run(() =>
        {
            var never = new Event();
            var stuck = Green.Spawn(() => never.Wait());
            Assert.Throws<GreenDeadlockException>(() => stuck.Wait());
            Assert.IsType<GreenDeadlockException>(stuck.Exception);
        });
    }

    [Fact]
    public void When_the_last_runnable_thread_ends_a_blocked_root_gets_GreenDeadlockException()
    {
        Hub.Run(() =>
        {
            var never = new Event();
            var finisher = Green.Spawn(() => { });
            Assert.Throws<GreenDeadlockException>(() => never.Wait());
            Assert.True(finisher.IsDead);
        });
    }

    [Fact]
    public void Green_only_operations_throw_NotGreenThreadException_off_green_threads()
    {
        Assert.False(Hub.IsGreenThread);
        var ex = Assert.Throws<NotGreenThreadException>(() => new Event().Wait());
        Assert.Contains("Event.Wait", ex.Message);
        Assert.Throws<NotGreenThreadException>(() => new GreenQueue<int>().Put(1));
        Assert.Throws<NotGreenThreadException>(() => new GreenQueue<int>().Get());
        Assert.Throws<NotGreenThreadException>(() => new GreenSemaphore(0).Acquire());
        Assert.Throws<NotGreenThreadException>(() => new GreenPool(1).Spawn(() => 1));
        Assert.Throws<NotGreenThreadException>(() => new GreenTimeout(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void IsGreenThread_and_Current_inside_and_outside()
    {
        Assert.Null(GreenThread.Current);
        Hub.Run(() =>
        {
            Assert.True(Hub.IsGreenThread);
            var root = GreenThread.Current;
            Assert.NotNull(root);
            var inner = Green.Spawn(() => GreenThread.Current);
            Assert.Same(inner, inner.Wait());
            Assert.NotSame(root, inner);
        });
    }

    [Fact]
    public async Task Spawn_from_a_non_green_thread_and_Wait_from_it()
    {
        int result = await Task.Run(() =>
        {
            Assert.False(Hub.IsGreenThread);
            var g = Green.Spawn(() =>
            {
                Green.Sleep(0);
                return Hub.IsGreenThread ? 7 : -1;
            });
            return g.Wait(); // blocks this pool thread, not the hub
        });
        Assert.Equal(7, result);
    }

    [Fact]
    public void Kill_from_a_non_green_thread_interrupts_the_thread_that_polls()
    {
        // Regression: a kill posted from outside re-ran Kill() on the thread draining the posts. When that was
        // the target itself (the only thread left, so the poller), it threw the kill out of the scheduler, where
        // it was only logged, and the target slept on.
        Hub.Run(() =>
        {
            var sleeper = Green.Spawn(() =>
            {
                var self = GreenThread.Current!;
                Task.Run(() => self.Kill());
                Green.Sleep(TimeSpan.FromSeconds(30));
            });
            Assert.Throws<GreenThreadExitException>(() => sleeper.Wait());
        });
    }

    [Fact]
    public void Kill_from_a_non_green_thread_interrupts_a_thread_another_one_waits_for()
    {
        Hub.Run(() =>
        {
            var started = new Event();
            var sleeper = Green.Spawn(() =>
            {
                started.Send();
                Green.Sleep(TimeSpan.FromSeconds(30));
            });
            started.Wait();
            Task.Run(() => sleeper.Kill());
            Assert.Throws<GreenThreadExitException>(() => sleeper.Wait());
        });
    }

    [Fact]
    public void Waiting_on_oneself_is_refused()
    {
        Hub.Run(() =>
        {
            var box = new Event<GreenThread>();
            var g = Green.Spawn(() =>
            {
                var self = box.Wait();
                Assert.Throws<InvalidOperationException>(() => self.Wait());
            });
            box.Send(g);
            g.Wait();
        });
    }

    [Fact]
    public void Many_threads_and_many_switches_complete()
    {
        int total = Hub.Run(() =>
        {
            int sum = 0;
            var threads = Enumerable.Range(1, 200).Select(i => Green.Spawn(() =>
            {
                Green.Sleep(0);
                sum += i;
            })).ToList();
            foreach (var t in threads) t.Wait();
            return sum;
        });
        Assert.Equal(200 * 201 / 2, total);
    }
}
