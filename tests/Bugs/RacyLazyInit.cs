namespace Evergreen.Bugs;

/// <summary>
/// Racy lazy initialisation: <see cref="PricingService.Rates"/> is <c>_rates ??= Load()</c>, and loading takes the
/// rate source's lock. Two first callers both see null and both load the table (twice the cost, two instances).
/// </summary>
public static class RacyLazyInit
{
    /// <summary>Where rates come from; counts its loads.</summary>
    public sealed class RateSource
    {
        private readonly object _gate = new();
        private readonly Dictionary<string, decimal> _rates = new() { ["EUR"] = 1.08m, ["GBP"] = 1.27m };
        private int _loads;

        /// <summary>How many times the table was loaded.</summary>
        public int Loads => _loads;

        /// <summary>Copies the table (the expensive step).</summary>
        public Dictionary<string, decimal> Load()
        {
            lock (_gate)
            {
                _loads++;
                return new Dictionary<string, decimal>(_rates);
            }
        }
    }

    /// <summary>Quotes prices from a rate table loaded on first use.</summary>
    public sealed class PricingService(RateSource source)
    {
        private Dictionary<string, decimal>? _rates;

        /// <summary>The bug: check and assign are not atomic.</summary>
        public Dictionary<string, decimal> Rates => _rates ??= source.Load();

        /// <summary>A price in dollars.</summary>
        public decimal Quote(string currency, decimal amount) => amount * Rates[currency];
    }

    /// <summary>Two threads quote at once on a fresh service; throws when the table was loaded twice.</summary>
    public static void Body()
    {
        var source = new RateSource();
        var pricing = new PricingService(source);
        var euro = new Thread(() => pricing.Quote("EUR", 100m)) { Name = "quote-EUR" };
        var pound = new Thread(() => pricing.Quote("GBP", 100m)) { Name = "quote-GBP" };
        euro.Start();
        pound.Start();
        euro.Join();
        pound.Join();
        if (source.Loads != 1)
            throw new InvalidOperationException($"racy lazy init: the rate table was loaded {source.Loads} times");
    }
}
