using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Evergreen.IO.Tests;

public class TpoolTests
{
    [Fact]
    public void Execute_returns_the_result_computed_on_a_pool_thread()
    {
        Hub.Run(() =>
        {
            int caller = Environment.CurrentManagedThreadId;
            var (value, worker) = Tpool.Execute(() => (6 * 7, Environment.CurrentManagedThreadId));
            Assert.Equal(42, value);
            Assert.NotEqual(caller, worker);
            int ran = 0;
            Tpool.Execute(() => { ran++; });
            Assert.Equal(1, ran);
        });
    }

    [Fact]
    public void Execute_rethrows_the_exception_with_its_original_stack()
    {
        Hub.Run(() =>
        {
            var e = Assert.Throws<FormatException>(() => Tpool.Execute<int>(ThrowsFromAPoolThread));
            Assert.Equal("bad input", e.Message);
            Assert.Contains(nameof(ThrowsFromAPoolThread), e.StackTrace);
        });
    }

    private static int ThrowsFromAPoolThread() => throw new FormatException("bad input");

    [Fact]
    public void Execute_off_green_threads_runs_inline()
    {
        int caller = Environment.CurrentManagedThreadId;
        Assert.Equal(caller, Tpool.Execute(() => Environment.CurrentManagedThreadId));
    }

    [Fact]
    public void Other_green_threads_run_while_a_job_blocks()
    {
        Hub.Run(() =>
        {
            using var release = new ManualResetEventSlim();
            var waiter = Green.Spawn(() => Tpool.Execute(() => { release.Wait(); return "released"; }));
            // This green thread keeps running (and finishing work) while the job holds its pool thread.
            var other = Green.Spawn(() => Enumerable.Range(1, 100).Sum());
            Assert.Equal(5050, other.Wait());
            Assert.False(waiter.IsDead);
            release.Set();
            Assert.Equal("released", waiter.Wait());
        });
    }

    [Fact]
    public void Killing_the_waiter_drops_the_result_and_the_worker_comes_back()
    {
        Hub.Run(() =>
        {
            using var release = new ManualResetEventSlim();
            var started = new Event();
            var completed = new Event<bool>();
            long droppedBefore = Tpool.DroppedResults;
            Tpool.s_onCompleted = delivered => completed.Send(delivered);
            try
            {
                var victim = Green.Spawn(() => Tpool.Execute(() =>
                {
                    started.Send();   // posted to the hub from the pool thread
                    release.Wait();
                    return 42;
                }));
                started.Wait();
                Assert.Equal(1, Tpool.Busy);
                victim.Kill();
                Assert.True(victim.IsDead);
                Assert.Throws<GreenThreadExitException>(() => victim.Wait());
                release.Set();
                Assert.False(completed.Wait()); // the job finished and its result went nowhere
                Assert.Equal(droppedBefore + 1, Tpool.DroppedResults);
                Assert.Equal(0, Tpool.Busy);
                // The worker is reusable.
                Assert.Equal(7, Tpool.Execute(() => 7));
            }
            finally
            {
                Tpool.s_onCompleted = null;
            }
        });
    }

    [Fact]
    public void Timeout_scope_abandons_a_slow_job()
    {
        Hub.Run(() =>
        {
            using var release = new ManualResetEventSlim();
            var completed = new Event<bool>();
            Tpool.s_onCompleted = delivered => completed.Send(delivered);
            try
            {
                Assert.Throws<GreenTimeoutException>(() =>
                {
                    using var t = new GreenTimeout(TimeSpan.FromMilliseconds(20));
                    Tpool.Execute(() => { release.Wait(); return 1; });
                });
                release.Set();
                Assert.False(completed.Wait());
            }
            finally
            {
                Tpool.s_onCompleted = null;
            }
        });
    }

    [Fact]
    public void Size_defaults_to_twenty_and_reads_EVERGREEN_TPOOL_SIZE()
    {
        Assert.Equal(20, Tpool.DefaultSize); // eventlet's EVENTLET_THREADPOOL_SIZE default
        Assert.Equal(20, Tpool.SizeFrom(null));
        Assert.Equal(5, Tpool.SizeFrom("5"));
        Assert.Equal(20, Tpool.SizeFrom("0"));
        Assert.Equal(20, Tpool.SizeFrom("many"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tpool.Size = 0);
    }

    [Fact]
    public void Size_bounds_the_threads_started()
    {
        int saved = Tpool.Size;
        int bound = Tpool.Threads + 2;
        Tpool.Size = bound;
        try
        {
            Hub.Run(() =>
            {
                using var release = new ManualResetEventSlim();
                var jobs = Enumerable.Range(0, bound + 4).Select(_ => Green.Spawn(() => Tpool.Execute(() => release.Wait(5_000)))).ToList();
                Green.Sleep(TimeSpan.FromMilliseconds(50));
                Assert.Equal(bound, Tpool.Threads);
                release.Set();
                foreach (var j in jobs) Assert.True(j.Wait());
            });
        }
        finally
        {
            Tpool.Size = saved;
        }
    }
}

public class GreenDnsTests
{
    [Fact]
    public void Localhost_and_literals_resolve_without_a_pool_thread()
    {
        Hub.Run(() =>
        {
            var completed = 0;
            Tpool.s_onCompleted = _ => completed++;
            try
            {
                var local = GreenDns.GetHostAddresses("localhost");
                Assert.Contains(IPAddress.Loopback, local);
                Assert.All(local, a => Assert.True(IPAddress.IsLoopback(a)));
                Assert.Equal([IPAddress.Parse("10.1.2.3")], GreenDns.GetHostAddresses("10.1.2.3"));
                Assert.Equal([IPAddress.IPv6Loopback], GreenDns.GetHostAddresses("::1"));
                Assert.Equal(0, completed);
            }
            finally
            {
                Tpool.s_onCompleted = null;
            }
        });
    }

    [Fact]
    public void A_name_from_etc_hosts_resolves_through_the_system_resolver()
    {
        var name = File.ReadLines("/etc/hosts")
            .Select(l => l.Split('#')[0].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 2 && IPAddress.TryParse(f[0], out _))
            .SelectMany(f => f.Skip(1))
            .FirstOrDefault(n => !n.Contains("localhost", StringComparison.OrdinalIgnoreCase));
        Assert.NotNull(name);
        var expected = Dns.GetHostAddresses(name).Select(a => a.ToString()).Order().ToArray();
        var green = Hub.Run(() => GreenDns.GetHostAddresses(name)).Select(a => a.ToString()).Order().ToArray();
        Assert.Equal(expected, green);
        Assert.Equal(SocketError.HostNotFound,
            Hub.Run(() => Assert.Throws<SocketException>(() => GreenDns.GetHostAddresses("no-such-host.invalid"))).SocketErrorCode);
    }
}
