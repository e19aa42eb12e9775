namespace Evergreen.Bugs;

/// <summary>
/// Check-then-act: <see cref="Venue.TryBuy"/> checks for a free seat under the lock, releases it, then takes the
/// seat under the lock again. Each step is locked; the pair is not. Two buyers of the last seat both see it free.
/// </summary>
public static class CheckThenAct
{
    /// <summary>A venue selling its seats.</summary>
    public sealed class Venue(int seats)
    {
        private readonly object _gate = new();
        private int _seats = seats;
        private int _sold;

        /// <summary>Seats left (negative: oversold).</summary>
        public int Seats => _seats;

        /// <summary>Tickets sold.</summary>
        public int Sold => _sold;

        /// <summary>The bug: the check and the act are two critical sections.</summary>
        public bool TryBuy()
        {
            bool available;
            lock (_gate)
            {
                available = _seats > 0;
            }
            if (!available)
                return false;
            lock (_gate)
            {
                _seats--;
                _sold++;
            }
            return true;
        }
    }

    /// <summary>Two buyers, one seat; throws when both got a ticket.</summary>
    public static void Body()
    {
        var venue = new Venue(seats: 1);
        var alice = new Thread(() => venue.TryBuy()) { Name = "buyer-alice" };
        var bob = new Thread(() => venue.TryBuy()) { Name = "buyer-bob" };
        alice.Start();
        bob.Start();
        alice.Join();
        bob.Join();
        if (venue.Seats < 0)
            throw new InvalidOperationException($"oversold: {venue.Sold} tickets sold for 1 seat (seats left {venue.Seats})");
    }
}
