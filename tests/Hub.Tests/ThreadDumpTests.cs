using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Evergreen.HubTests;

/// <summary>
/// Green.DumpThreads (issue 12.1) and the deadlock reports that reuse it (12.2) with the green API alone: what each
/// green thread waits on, named; a join cycle named as it closes; a program that can never run again reported thread by
/// thread.
/// </summary>
public class ThreadDumpTests
{
    private sealed class Capture(Action<LogEvent> onEvent) : ILogEventSink
    {
        public void Emit(LogEvent logEvent) => onEvent(logEvent);
    }

    private static string Dump()
    {
        var w = new StringWriter();
        Green.DumpThreads(w);
        return w.ToString();
    }

    private static string LineOf(string dump, string name) =>
        dump.Split('\n').SingleOrDefault(l => System.Text.RegularExpressions.Regex.IsMatch(l, $"^  green thread #\\d+ \"{name}\""))
        ?? throw new Xunit.Sdk.XunitException($"no line for {name} in:\n{dump}");

    [Fact]
    public void The_dump_names_what_each_green_thread_waits_on()
    {
        var dump = Hub.Run(() =>
        {
            var ev = new Event();
            var sem = new GreenSemaphore(0);
            var queue = new GreenQueue<int>();
            var eventWaiter = Green.Spawn(() => ev.Wait(), "event-waiter");
            var sleeper = Green.Spawn(() => Green.Sleep(TimeSpan.FromMinutes(10)), "sleeper");
            var joiner = Green.Spawn(() => eventWaiter.Wait(), "joiner");
            var semWaiter = Green.Spawn(() => sem.Acquire(), "sem-waiter");
            var getter = Green.Spawn(() => queue.Get(), "getter");
            Green.Sleep(0); // each runs until it parks
            var fresh = Green.Spawn(() => { }, "fresh");
            string d = Dump();
            ev.Send();
            sem.Release();
            queue.Put(1);
            sleeper.Kill();
            foreach (var g in new[] { eventWaiter, joiner, semWaiter, getter, fresh }) g.Wait();
            return d;
        });
        Assert.DoesNotContain("racy", dump.Split('\n')[0]);
        Assert.Contains("waiting", LineOf(dump, "event-waiter"));
        Assert.Contains("for Evergreen.Event to be sent", LineOf(dump, "event-waiter"));
        Assert.Matches(@"for a sleep until \d\d:\d\d:\d\d\.\d\d\d UTC \(in 10\.0 min\)", LineOf(dump, "sleeper"));
        Assert.Matches(@"for the end of green thread #\d+ ""event-waiter"" \(join\)", LineOf(dump, "joiner"));
        Assert.Contains("for Evergreen.GreenSemaphore to be released", LineOf(dump, "sem-waiter"));
        Assert.Contains("(Get: empty)", LineOf(dump, "getter"));
        Assert.EndsWith(": runnable, not started yet", LineOf(dump, "fresh"));
        Assert.Contains("=== end of green threads ===", dump);
    }

    [Fact]
    public void Off_the_hub_the_dump_is_a_racy_snapshot_with_the_same_threads()
    {
        var (green, racy) = Hub.Run(() =>
        {
            var ev = new Event();
            var waiter = Green.Spawn(() => ev.Wait(), "racy-waiter");
            Green.Sleep(0);
            string g = Dump();
            string r = "";
            var native = new Thread(() => r = Dump()); // not green: reads without the baton (the green caller holds it)
            native.Start();
            native.Join();
            ev.Send();
            waiter.Wait();
            return (g, r);
        });
        Assert.Contains("(racy snapshot", racy.Split('\n')[0]);
        Assert.Equal(LineOf(green, "racy-waiter").Split(" waiting ")[0], LineOf(racy, "racy-waiter").Split(" waiting ")[0]);
        Assert.Contains("for Evergreen.Event to be sent", LineOf(racy, "racy-waiter"));
    }

    [Fact]
    public void A_join_cycle_is_logged_naming_both_threads_as_it_closes()
    {
        var reports = new List<string>();
        var previousLogger = Hub.Logger;
        Event? found = null;
        Hub.Logger = new LoggerConfiguration().WriteTo.Sink(new Capture(e =>
        {
            if (!e.RenderMessage().StartsWith("Green deadlock", StringComparison.Ordinal)) return;
            reports.Add(e.RenderMessage());
            found?.Send(); // on the green thread whose wait closed the cycle, under the baton
        })).CreateLogger();
        try
        {
            Hub.Run(() =>
            {
                found = new Event();
                GreenThread? a = null, b = null;
                a = Green.Spawn(() => b!.Wait(), "cycle-a");
                b = Green.Spawn(() => a.Wait(), "cycle-b");
                found.Wait();
                foreach (var g in new[] { a, b })
                {
                    g.Kill();
                    Assert.IsType<GreenThreadExitException>(Record.Exception(g.Wait));
                }
                Assert.Single(reports);
                Assert.Contains($"green thread #{b.Id} \"cycle-b\" waits for the end of green thread #{a.Id} \"cycle-a\" (join)", reports[0]);
                Assert.Contains($"green thread #{a.Id} \"cycle-a\" waits for the end of green thread #{b.Id} \"cycle-b\" (join)", reports[0]);
                Assert.Contains($"#{b.Id} \"cycle-b\"'s wait closed the cycle", reports[0]);
                Assert.Contains("ThreadDumpTests", reports[0]); // the closing thread's stack
            });
        }
        finally
        {
            Hub.Logger = previousLogger;
        }
    }

    [Fact]
    public void A_wait_that_can_never_end_throws_with_every_thread_and_its_wait_named()
    {
        var message = Hub.Run(() =>
        {
            var never = new Event();
            var stuck = Green.Spawn(() => never.Wait(), "stuck-on-event");
            Green.Sleep(0);
            var e = Assert.Throws<GreenDeadlockException>(() => stuck.Wait());
            never.Send();
            stuck.Wait();
            return e.Message;
        });
        Assert.Contains("would block forever", message);
        Assert.Contains("for Evergreen.Event to be sent", LineOf(message, "stuck-on-event"));
        Assert.Matches(@"waiting \d+ ms for the end of green thread #\d+ ""stuck-on-event"" \(join\)", message);
    }
}
