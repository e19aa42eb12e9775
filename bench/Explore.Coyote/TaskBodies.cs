using Evergreen.Bugs;
using Microsoft.Coyote.Runtime;

namespace Evergreen.Bench.Explore.Coyote;

/// <summary>
/// The corpus's bugs driven from Tasks (<c>Task.Run</c> where the corpus starts a Thread, <c>await Task.WhenAll</c>
/// where it joins): Coyote's native model. The classes under test are the corpus's own (tests/Bugs, rewritten with
/// this assembly), so every lock, Monitor.Wait and Pulse in them is one Coyote controls; the checks after the joins
/// are the corpus's, word for word.
/// </summary>
internal static class TaskBodies
{
    public static Func<Task>? Get(string bug) => bug switch
    {
        "lost-update" => LostUpdateBody,
        "check-then-act" => CheckThenActBody,
        "lock-order-deadlock" => LockOrderDeadlockBody,
        "lost-pulse" => LostPulseBody,
        "if-not-while" => IfNotWhileBody,
        "publish-before-init" => PublishBeforeInitBody,
        "bounded-buffer-off-by-one" => BoundedBufferBody,
        "racy-lazy-init" => RacyLazyInitBody,
        _ => null,
    };

    /// <summary>
    /// The bugs Coyote misses unaided, with the one-line hint a Coyote user would add to the code under test: none
    /// but publish-before-init, whose window (after the registry lock's release, before the field writes) has no
    /// scheduling point in Coyote 1.7.11 — it schedules at a lock's acquire, not at an uncontended release.
    /// </summary>
    public static Func<Task>? GetHinted(string bug) => bug == "publish-before-init" ? PublishBeforeInitHintedBody : null;

    private static async Task LostUpdateBody()
    {
        var account = new LostUpdate.Account();
        await Task.WhenAll(Task.Run(() => account.Deposit(1)), Task.Run(() => account.Deposit(1)));
        if (account.Balance != 2)
            throw new InvalidOperationException($"lost update: balance {account.Balance} != 2 after two deposits of 1");
    }

    private static async Task CheckThenActBody()
    {
        var venue = new CheckThenAct.Venue(seats: 1);
        await Task.WhenAll(Task.Run(() => venue.TryBuy()), Task.Run(() => venue.TryBuy()));
        if (venue.Seats < 0)
            throw new InvalidOperationException($"oversold: {venue.Sold} tickets sold for 1 seat (seats left {venue.Seats})");
    }

    private static async Task LockOrderDeadlockBody()
    {
        var a = new LockOrderDeadlock.Account("A", 100);
        var b = new LockOrderDeadlock.Account("B", 100);
        await Task.WhenAll(Task.Run(() => LockOrderDeadlock.Bank.Transfer(a, b, 10)), Task.Run(() => LockOrderDeadlock.Bank.Transfer(b, a, 20)));
    }

    private static async Task LostPulseBody()
    {
        var ready = new LostPulse.Latch();
        await Task.WhenAll(Task.Run(ready.Wait), Task.Run(ready.Set));
    }

    private static async Task IfNotWhileBody()
    {
        var queue = new IfInsteadOfWhile.WorkQueue();
        var first = Task.Run(() => queue.Take());
        var second = Task.Run(() => queue.Take());
        var producer = Task.Run(() =>
        {
            queue.Put(1);
            queue.Put(2);
        });
        await Task.WhenAll(first, second, producer);
    }

    private static async Task PublishBeforeInitBody()
    {
        var registry = new PublicationBeforeConstruction.Registry();
        var opener = Task.Run(() => _ = new PublicationBeforeConstruction.Connection(registry, "db.internal", 5432));
        var checker = Task.Run(() =>
        {
            foreach (var connection in registry.Snapshot())
            {
                if (connection.Host is null || connection.Port == 0)
                    throw new InvalidOperationException($"half-built connection: host {connection.Host ?? "null"}, port {connection.Port}");
            }
        });
        await Task.WhenAll(opener, checker);
    }

    private static async Task PublishBeforeInitHintedBody()
    {
        var registry = new HintedRegistry();
        var opener = Task.Run(() => _ = new HintedConnection(registry, "db.internal", 5432));
        var checker = Task.Run(() =>
        {
            foreach (var connection in registry.Snapshot())
            {
                if (connection.Host is null || connection.Port == 0)
                    throw new InvalidOperationException($"half-built connection: host {connection.Host ?? "null"}, port {connection.Port}");
            }
        });
        await Task.WhenAll(opener, checker);
    }

    /// <summary>A copy of <see cref="PublicationBeforeConstruction.Registry"/> for <see cref="HintedConnection"/>.</summary>
    private sealed class HintedRegistry
    {
        private readonly object _gate = new();
        private readonly List<HintedConnection> _open = [];

        public void Add(HintedConnection connection)
        {
            lock (_gate)
            {
                _open.Add(connection);
            }
        }

        public HintedConnection[] Snapshot()
        {
            lock (_gate)
            {
                return [.. _open];
            }
        }
    }

    /// <summary><see cref="PublicationBeforeConstruction.Connection"/> with a Coyote scheduling point after the publish.</summary>
    private sealed class HintedConnection
    {
        public string? Host;
        public int Port;

        public HintedConnection(HintedRegistry registry, string host, int port)
        {
            registry.Add(this);
            SchedulingPoint.Interleave(); // the hint: the only change to the code under test
            Host = host;
            Port = port;
        }
    }

    private static async Task BoundedBufferBody()
    {
        var buffer = new BoundedBufferOffByOne.BoundedBuffer(capacity: 2);
        var taken = new List<int>();
        var consumer = Task.Run(() =>
        {
            for (int i = 0; i < 3; i++)
                taken.Add(buffer.Take());
        });
        var producers = Enumerable.Range(1, 3).Select(value => Task.Run(() => buffer.Put(value))).ToList();
        await Task.WhenAll(producers);
        await consumer;
        if (!taken.Order().SequenceEqual([1, 2, 3]))
            throw new InvalidOperationException($"bounded buffer lost an item: took {string.Join(",", taken)}");
    }

    private static async Task RacyLazyInitBody()
    {
        var feed = new RacyLazyInit.RateFeed();
        var pricing = new RacyLazyInit.PricingService(feed);
        await Task.WhenAll(Task.Run(() => pricing.Quote("EUR", 100)), Task.Run(() => pricing.Quote("GBP", 100)));
        if (feed.Subscriptions != 1)
            throw new InvalidOperationException($"racy lazy init: {feed.Subscriptions} rate subscriptions opened, one leaks");
    }
}
