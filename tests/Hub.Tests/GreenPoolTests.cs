namespace Evergreen.HubTests;

/// <summary>GreenPool and GreenPile.</summary>
public class GreenPoolTests
{
    [Fact]
    public void Never_more_than_size_run_at_once()
    {
        Hub.Run(() =>
        {
            var pool = new GreenPool(3);
            int now = 0, max = 0, done = 0;
            for (int i = 0; i < 20; i++)
            {
                pool.Spawn(() =>
                {
                    now++;
                    max = Math.Max(max, now);
                    Green.Sleep(0);
                    Green.Sleep(0);
                    now--;
                    done++;
                });
                Assert.True(pool.Running <= 3);
            }
            pool.WaitAll();
            Assert.Equal(20, done);
            Assert.Equal(3, max);
            Assert.Equal(0, pool.Running);
            Assert.Equal(3, pool.Free());
        });
    }

    [Fact]
    public void Spawn_blocks_while_full_and_Free_Running_Waiting_report_it()
    {
        Hub.Run(() =>
        {
            var pool = new GreenPool(2);
            var gate = new Event();
            var a = pool.Spawn(() => gate.Wait());
            var b = pool.Spawn(() => gate.Wait());
            Assert.Equal(0, pool.Free());
            Assert.Equal(2, pool.Running);
            bool spawned = false;
            var blocked = Green.Spawn(() => { pool.Spawn(() => { }); spawned = true; });
            Green.Sleep(0);
            Assert.False(spawned);                 // waiting for a slot
            Assert.Equal(1, pool.Waiting);
            gate.Send();
            blocked.Wait();
            Assert.True(spawned);
            Assert.Equal(0, pool.Waiting);
            pool.WaitAll();
            a.Wait();
            b.Wait();
            Assert.Equal(2, pool.Free());
        });
    }

    [Fact]
    public void Waiting_spawners_get_slots_in_FIFO_order()
    {
        var order = Hub.Run(() =>
        {
            var seen = new List<int>();
            var pool = new GreenPool(1);
            var gate = new Event();
            pool.Spawn(() => gate.Wait());
            var spawners = Enumerable.Range(0, 4).Select(i => Green.Spawn(() => pool.Spawn(() => seen.Add(i)))).ToList();
            Green.Sleep(0);
            Assert.Equal(4, pool.Waiting);
            gate.Send();
            foreach (var s in spawners) s.Wait();
            pool.WaitAll();
            return seen;
        });
        Assert.Equal([0, 1, 2, 3], order);
    }

    [Fact]
    public void Spawn_returns_the_thread_with_its_result()
    {
        Hub.Run(() =>
        {
            var pool = new GreenPool(2);
            var g = pool.Spawn(() => "r");
            Assert.Equal("r", g.Wait());
            GreenThread plain = pool.Spawn(() => { });
            plain.Wait();
        });
    }

    [Fact]
    public void Exception_in_a_SpawnN_function_does_not_break_the_pool()
    {
        Hub.Run(() =>
        {
            var pool = new GreenPool(1);
            pool.SpawnN(() => throw new InvalidOperationException("logged by the hub"));
            int ran = 0;
            pool.SpawnN(() => ran++);
            pool.SpawnN(() => ran++);
            pool.WaitAll();
            Assert.Equal(2, ran);
            Assert.Equal(1, pool.Free());
        });
    }

    [Fact]
    public void Exception_in_a_spawned_function_comes_back_through_Wait_and_frees_the_slot()
    {
        Hub.Run(() =>
        {
            var pool = new GreenPool(1);
            var g = pool.Spawn<int>(() => throw new FormatException());
            Assert.Throws<FormatException>(() => g.Wait());
            Assert.Equal(1, pool.Free());
            Assert.Equal(4, pool.Spawn(() => 4).Wait());
        });
    }

    [Fact]
    public void Killed_pool_thread_frees_its_slot()
    {
        Hub.Run(() =>
        {
            var pool = new GreenPool(1);
            var g = pool.Spawn(() => Green.Sleep(TimeSpan.FromSeconds(30)));
            Green.Sleep(0);
            g.Kill();
            Assert.Equal(1, pool.Free());
            Assert.Equal(0, pool.Running);
            pool.WaitAll();
        });
    }

    [Fact]
    public void Slot_granted_to_a_spawner_killed_before_it_ran_goes_to_the_next_one()
    {
        Hub.Run(() =>
        {
            var pool = new GreenPool(1);
            var gate = new Event();
            var holder = pool.Spawn(() => gate.Wait());
            bool secondSpawned = false;
            var first = Green.Spawn(() => pool.Spawn(() => { }));
            var second = Green.Spawn(() => { pool.Spawn(() => { }); secondSpawned = true; });
            Green.Sleep(0);
            Assert.Equal(2, pool.Waiting);
            gate.Send();
            holder.Wait();               // its slot was handed to `first`, which has not run yet
            first.Kill();
            second.Wait();
            Assert.True(secondSpawned);
            pool.WaitAll();
            Assert.Equal(1, pool.Free());
        });
    }

    [Fact]
    public void Imap_yields_results_in_input_order_with_bounded_concurrency()
    {
        Hub.Run(() =>
        {
            var pool = new GreenPool(4);
            int now = 0, max = 0;
            var results = pool.Imap((int i) =>
            {
                now++;
                max = Math.Max(max, now);
                // Later items finish sooner, so completion order differs from input order.
                for (int k = 0; k < 10 - i; k++) Green.Sleep(0);
                now--;
                return i * i;
            }, Enumerable.Range(0, 10)).ToList();
            Assert.Equal(Enumerable.Range(0, 10).Select(i => i * i), results);
            Assert.True(max <= 4);
            Assert.True(max > 1);
        });
    }

    [Fact]
    public void Imap_is_lazy()
    {
        Hub.Run(() =>
        {
            var pool = new GreenPool(2);
            int pulled = 0;
            IEnumerable<int> Source()
            {
                for (int i = 0; ; i++)
                {
                    pulled++;
                    yield return i;
                }
            }
            var firstThree = pool.Imap((int i) => i + 1, Source()).Take(3).ToList();
            Assert.Equal([1, 2, 3], firstThree);
            Assert.True(pulled <= 5); // an infinite source is read only a pool's worth ahead
            pool.WaitAll();
        });
    }

    [Fact]
    public void Imap_rethrows_a_function_exception_at_its_position()
    {
        Hub.Run(() =>
        {
            var pool = new GreenPool(2);
            var seen = new List<int>();
            Assert.Throws<DivideByZeroException>(() =>
            {
                foreach (var r in pool.Imap((int i) => 10 / i, new[] { 5, 2, 0, 1 })) seen.Add(r);
            });
            Assert.Equal([2, 5], seen);
            pool.WaitAll();
        });
    }

    [Fact]
    public void Resize_up_lets_waiting_spawners_in_and_down_limits_new_spawns()
    {
        Hub.Run(() =>
        {
            var pool = new GreenPool(1);
            var gate = new Event();
            pool.Spawn(() => gate.Wait());
            var spawner = Green.Spawn(() => pool.Spawn(() => gate.Wait()));
            Green.Sleep(0);
            Assert.Equal(1, pool.Waiting);
            pool.Resize(2);
            spawner.Wait();
            Assert.Equal(2, pool.Running);
            Assert.Equal(0, pool.Waiting);
            pool.Resize(1);
            Assert.Equal(-1, pool.Free());
            Assert.Equal(1, pool.Size);
            gate.Send();
            pool.WaitAll();
            Assert.Equal(1, pool.Free());
        });
    }

    [Fact]
    public void Spawn_from_inside_a_full_pool_runs_inline_instead_of_deadlocking()
    {
        Hub.Run(() =>
        {
            var pool = new GreenPool(1);
            var outer = pool.Spawn(() =>
            {
                var inner = pool.Spawn(() => GreenThread.Current);
                Assert.True(inner.IsDead);
                return inner.Wait();
            });
            Assert.Same(outer, outer.Wait()); // the inner function ran on the outer green thread
        });
    }

    [Fact]
    public void WaitAll_from_a_pool_thread_is_refused()
    {
        Hub.Run(() =>
        {
            var pool = new GreenPool(2);
            var g = pool.Spawn(() => pool.WaitAll());
            Assert.Throws<InvalidOperationException>(() => g.Wait());
        });
    }

    [Fact]
    public void GreenPile_yields_results_in_spawn_order()
    {
        Hub.Run(() =>
        {
            var pile = new GreenPile<int>(3);
            Assert.False(pile.Used);
            for (int i = 0; i < 8; i++)
            {
                int n = i;
                pile.Spawn(() =>
                {
                    for (int k = 0; k < 8 - n; k++) Green.Sleep(0); // finish in reverse order
                    return n;
                });
            }
            Assert.True(pile.Used);
            Assert.Equal(8, pile.Count);
            Assert.Equal(Enumerable.Range(0, 8), pile.ToList());
            Assert.Equal(0, pile.Count);
            Assert.Empty(pile); // consumed
        });
    }

    [Fact]
    public void GreenPile_shares_a_pool_and_rethrows_in_place()
    {
        Hub.Run(() =>
        {
            var pool = new GreenPool(1);
            var pile = new GreenPile<string>(pool);
            Assert.Same(pool, pile.Pool);
            pile.Spawn(() => "a");
            pile.Spawn(() => throw new ArgumentException("b"));
            using var e = pile.GetEnumerator();
            Assert.True(e.MoveNext());
            Assert.Equal("a", e.Current);
            Assert.Throws<ArgumentException>(() => e.MoveNext());
            pool.WaitAll();
        });
    }

    [Fact]
    public void GreenPile_consumer_waits_for_a_spawner_blocked_on_the_pool()
    {
        Hub.Run(() =>
        {
            var pile = new GreenPile<int>(1);
            var feeder = Green.Spawn(() => { for (int i = 0; i < 5; i++) { int n = i; pile.Spawn(() => n * 10); } });
            Green.Sleep(0);
            var got = pile.ToList();
            feeder.Wait();
            Assert.Equal([0, 10, 20, 30, 40], got);
        });
    }
}
