namespace Evergreen.Bugs;

/// <summary>The bugs, in the order the bench reports them.</summary>
public static class Corpus
{
    /// <summary>Every bug of the corpus.</summary>
    public static IReadOnlyList<Bug> All { get; } =
    [
        new("lost-update", "deposit reads the balance, logs under a lock, writes it back: a concurrent deposit is lost",
            Manifestation.Exception, LostUpdate.Body, LostUpdate.Fixed),
        new("check-then-act", "seat check and seat take are two critical sections: the last seat is sold twice",
            Manifestation.Exception, CheckThenAct.Body),
        new("lock-order-deadlock", "transfer locks source then destination: A→B and B→A deadlock",
            Manifestation.Hang, LockOrderDeadlock.Body),
        new("lost-pulse", "latch checks its flag outside the lock: a Set before the Wait is never seen",
            Manifestation.Hang, LostPulse.Body),
        new("if-not-while", "consumer waits under 'if': woken, it dequeues what another consumer took",
            Manifestation.Exception, IfInsteadOfWhile.Body, IfInsteadOfWhile.Fixed),
        new("publish-before-init", "constructor registers 'this' before setting its fields: a reader sees it half-built",
            Manifestation.Exception, PublicationBeforeConstruction.Body),
        new("bounded-buffer-off-by-one", "put waits while count > capacity: a full buffer's oldest item is overwritten",
            Manifestation.Exception, BoundedBufferOffByOne.Body),
        new("racy-lazy-init", "'_rates ??= feed.Subscribe()' from two threads: two subscriptions, one leaks",
            Manifestation.Exception, RacyLazyInit.Body),
    ];

    /// <summary>The bug called <paramref name="name"/>.</summary>
    public static Bug Get(string name) =>
        All.FirstOrDefault(b => b.Name == name) ?? throw new ArgumentException($"no bug '{name}' (known: {string.Join(", ", All.Select(b => b.Name))})", nameof(name));
}
