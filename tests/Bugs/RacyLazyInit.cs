namespace Evergreen.Bugs;

/// <summary>
/// Racy lazy initialisation: <see cref="PricingService.Rates"/> is <c>_rates ??= source.Subscribe()</c>, and
/// subscribing takes the rate feed's lock. Two first callers both see null and both subscribe: one subscription
/// leaks (it is never disposed, and the feed keeps pushing to it).
/// </summary>
public static class RacyLazyInit
{
    /// <summary>Live rates; a subscription receives every update.</summary>
    public sealed class RateFeed
    {
        private readonly object _gate = new();
        private readonly List<RateTable> _subscribers = [];

        /// <summary>How many subscriptions are open.</summary>
        public int Subscriptions
        {
            get
            {
                lock (_gate)
                {
                    return _subscribers.Count;
                }
            }
        }

        /// <summary>Opens a subscription: a table the feed keeps up to date.</summary>
        public RateTable Subscribe()
        {
            var table = new RateTable();
            lock (_gate)
            {
                _subscribers.Add(table);
            }
            return table;
        }
    }

    /// <summary>Rates by currency, kept current by the feed.</summary>
    public sealed class RateTable
    {
        /// <summary>The euro's rate in dollars.</summary>
        public double Euro = 1.08;

        /// <summary>The pound's rate in dollars.</summary>
        public double Pound = 1.27;
    }

    /// <summary>Quotes prices from a rate subscription opened on first use.</summary>
    public sealed class PricingService(RateFeed feed)
    {
        private RateTable? _rates;

        /// <summary>The bug: check and assign are not atomic.</summary>
        public RateTable Rates => _rates ??= feed.Subscribe();

        /// <summary>A price in dollars.</summary>
        public double Quote(string currency, double amount) => amount * (currency == "EUR" ? Rates.Euro : Rates.Pound);
    }

    /// <summary>Two threads quote at once on a fresh service; throws when it subscribed twice.</summary>
    public static void Body()
    {
        var feed = new RateFeed();
        var pricing = new PricingService(feed);
        var euro = new Thread(() => pricing.Quote("EUR", 100)) { Name = "quote-EUR" };
        var pound = new Thread(() => pricing.Quote("GBP", 100)) { Name = "quote-GBP" };
        euro.Start();
        pound.Start();
        euro.Join();
        pound.Join();
        if (feed.Subscriptions != 1)
            throw new InvalidOperationException($"racy lazy init: {feed.Subscriptions} rate subscriptions opened, one leaks");
    }
}
