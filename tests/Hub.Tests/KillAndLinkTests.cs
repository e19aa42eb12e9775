namespace Evergreen.HubTests;

/// <summary>Kill (during every kind of wait, before start, after death) and link/unlink.</summary>
public class KillAndLinkTests
{
    /// <summary>Spawns <paramref name="wait"/>, lets it reach its wait, kills it, and checks it died of the kill.</summary>
    private static void KillDuringWait(Action wait)
    {
        Hub.Run(() =>
        {
            bool after = false;
            var g = Green.Spawn(() => { wait(); after = true; });
            Green.Sleep(0); // g runs up to its wait
            Assert.False(g.IsDead);
            g.Kill();
            Assert.True(g.IsDead); // kill is synchronous: the target handled it before Kill returned
            Assert.False(after);
            Assert.IsType<GreenThreadExitException>(g.Exception);
            Assert.Throws<GreenThreadExitException>(() => g.Wait());
        });
    }

    [Fact]
    public void Kill_during_Event_wait() => KillDuringWait(() => new Event().Wait());

    [Fact]
    public void Kill_during_Semaphore_acquire() => KillDuringWait(() => new GreenSemaphore(0).Acquire());

    [Fact]
    public void Kill_during_Queue_get() => KillDuringWait(() => new GreenQueue<int>().Get());

    [Fact]
    public void Kill_during_Queue_put_on_a_full_queue()
    {
        var q = new GreenQueue<int>(1);
        KillDuringWait(() => { q.Put(1); q.Put(2); });
    }

    [Fact]
    public void Kill_during_Sleep() => KillDuringWait(() => Green.Sleep(TimeSpan.FromSeconds(30)));

    [Fact]
    public void Kill_during_an_infinite_Sleep() => KillDuringWait(() => Green.Sleep(-1));

    [Fact]
    public void Kill_during_Join_of_another_thread()
    {
        Hub.Run(() =>
        {
            var gate = new Event();
            var target = Green.Spawn(() => gate.Wait());
            var joiner = Green.Spawn(() => target.Wait());
            Green.Sleep(0);
            joiner.Kill();
            Assert.True(joiner.IsDead);
            Assert.False(target.IsDead);
            gate.Send();
            target.Wait();
        });
    }

    [Fact]
    public void Kill_with_a_custom_exception_is_what_Wait_rethrows()
    {
        Hub.Run(() =>
        {
            var g = Green.Spawn(() => Green.Sleep(TimeSpan.FromSeconds(30)));
            Green.Sleep(0);
            Green.Kill(g, new OperationCanceledException("stop"));
            var ex = Assert.Throws<OperationCanceledException>(() => g.Wait());
            Assert.Equal("stop", ex.Message);
        });
    }

    [Fact]
    public void Killed_thread_can_catch_the_exit_and_end_normally()
    {
        Hub.Run(() =>
        {
            var g = Green.Spawn(() =>
            {
                try
                {
                    Green.Sleep(TimeSpan.FromSeconds(30));
                    return "slept";
                }
                catch (GreenThreadExitException)
                {
                    return "caught";
                }
            });
            Green.Sleep(0);
            g.Kill();
            Assert.Equal("caught", g.Wait());
        });
    }

    [Fact]
    public void Kill_before_start_never_runs_the_body_and_links_fire()
    {
        Hub.Run(() =>
        {
            bool ran = false;
            GreenThread? linked = null;
            var g = Green.Spawn(() => ran = true);
            g.Link(t => linked = t);
            g.Kill();
            Assert.True(g.IsDead);
            Assert.False(ran);
            Assert.Same(g, linked);
            Assert.IsType<GreenThreadExitException>(g.Exception);
        });
    }

    [Fact]
    public void Kill_of_a_SpawnAfter_thread_before_its_delay_never_runs_it()
    {
        Hub.Run(() =>
        {
            bool ran = false, linked = false;
            var g = Green.SpawnAfter(TimeSpan.FromSeconds(30), () => ran = true);
            g.Link(_ => linked = true);
            g.Kill();
            Assert.True(g.IsDead);
            Assert.False(ran);
            Assert.True(linked);
        });
    }

    [Fact]
    public void Killing_a_finished_thread_is_a_no_op()
    {
        Hub.Run(() =>
        {
            var g = Green.Spawn(() => 5);
            Assert.Equal(5, g.Wait());
            g.Kill();
            g.Kill(new InvalidOperationException());
            Assert.Null(g.Exception);
            Assert.Equal(5, g.Wait());
        });
    }

    [Fact]
    public void Killing_oneself_throws_the_exit_at_once()
    {
        Hub.Run(() =>
        {
            var g = Green.Spawn(() =>
            {
                GreenThread.Current!.Kill();
                return "not reached";
            });
            Assert.Throws<GreenThreadExitException>(() => g.Wait());
        });
    }

    [Fact]
    public void Links_fire_in_link_order_with_the_thread()
    {
        Hub.Run(() =>
        {
            var seen = new List<string>();
            var g = Green.Spawn(() => 1);
            g.Link(t => seen.Add($"a:{t.IsDead}"));
            g.Link(t => seen.Add($"b:{t.IsDead}"));
            g.Wait();
            Assert.Equal(["a:True", "b:True"], seen);
        });
    }

    [Fact]
    public void Unlink_removes_a_callback()
    {
        Hub.Run(() =>
        {
            var seen = new List<string>();
            var g = Green.Spawn(() => 1);
            Action<GreenThread> a = _ => seen.Add("a");
            Action<GreenThread> b = _ => seen.Add("b");
            g.Link(a);
            g.Link(b);
            Assert.True(g.Unlink(a));
            Assert.False(g.Unlink(a));
            g.Wait();
            Assert.Equal(["b"], seen);
        });
    }

    [Fact]
    public void Link_after_death_fires_at_once_on_the_caller()
    {
        Hub.Run(() =>
        {
            var g = Green.Spawn(() => 1);
            g.Wait();
            GreenThread? on = null;
            GreenThread? linked = null;
            g.Link(t => { linked = t; on = GreenThread.Current; });
            Assert.Same(g, linked);
            Assert.Same(GreenThread.Current, on);
        });
    }

    [Fact]
    public void Links_see_the_exception_and_a_throwing_link_does_not_stop_the_others_or_the_hub()
    {
        Hub.Run(() =>
        {
            Exception? seen = null;
            bool second = false;
            var g = Green.Spawn(() => throw new FormatException("bad"));
            g.Link(_ => throw new InvalidOperationException("link failed"));
            g.Link(t => { seen = t.Exception; second = true; });
            Assert.Throws<FormatException>(() => g.Wait());
            Assert.True(second);
            Assert.IsType<FormatException>(seen);
            Assert.Equal(9, Green.Spawn(() => 9).Wait());
        });
    }
}
