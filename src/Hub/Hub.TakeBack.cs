using Evergreen.Internal;

namespace Evergreen;

public sealed partial class Hub
{
    // ------------------------------------------------------------------------------------------
    // Taking the baton back from a green thread blocked in a native call (issue 11.2)
    // ------------------------------------------------------------------------------------------
    // A green thread that blocks in a call nobody made green (a P/Invoke, a native driver, an unpatched wait) would
    // hold the baton, and so every other green thread, until the call returns. The watchdog (BlockingDetector) takes the
    // baton back instead, as Go's sysmon retakes the P of a thread stuck in a syscall: once the holder has been blocked
    // in the kernel for TakeBackMs with the hub making no progress, it revokes the holder's lease and runs the scheduler
    // on its behalf, so the other green threads go on. The blocked thread runs natively, beside the hub, from the moment
    // its call returns until its next green call, where it queues for the baton like any other thread (Rejoin).
    //
    // The lease makes that safe: a green thread's GreenThread.Lease is LeaseRunning only while it holds the baton and
    // runs its own code. Every entry into Evergreen that touches hub state (a wait, a wake, a spawn, a post's shortcut)
    // opens a HubEntry, which moves the lease to LeaseInHub with one CAS, and back to LeaseRunning when it returns to the
    // caller's code. The watchdog revokes only by CAS from LeaseRunning, so it can never take the baton from a thread
    // inside the hub, and a thread whose lease was revoked fails its entry CAS and rejoins before it touches anything.

    internal const int LeaseRunning = 0;   // holds the baton and runs its own code: the watchdog may revoke
    internal const int LeaseInHub = 1;     // inside Evergreen, parked in a green wait, not yet started, or ended
    internal const int LeaseRevoked = 2;   // the watchdog took the baton back while it was blocked natively

    /// <summary>
    /// Marks the calling thread, if green, as inside the hub until the entry is disposed (<c>using var entry = …</c>).
    /// A green thread whose lease the watchdog revoked first queues for the baton and waits for it. Nested entries
    /// are free: only the outermost one changes the lease.
    /// </summary>
    internal static HubEntry Enter(out GreenThread? self)
    {
        self = t_current;
        if (self == null || self.Lease == LeaseInHub) return default;
        self.Hub.TakeLease(self);
        return new HubEntry(self);
    }

    /// <summary><see cref="Enter"/> for an operation only a green thread may call: throws <see cref="NotGreenThreadException"/> elsewhere.</summary>
    internal HubEntry EnterGreen(string operation, out GreenThread self)
    {
        var entry = Enter(out var current);
        self = current ?? throw new NotGreenThreadException(operation);
        return entry;
    }

    /// <summary>
    /// Moves <paramref name="g"/>'s lease (the calling thread's own) to <see cref="LeaseInHub"/>, rejoining first if the
    /// watchdog revoked it; without a <see cref="HubEntry"/> to undo it for a thread leaving its own code for good (its
    /// body ended, or it leaves the hub).
    /// </summary>
    private void TakeLease(GreenThread g)
    {
        if (g.Lease == LeaseInHub) return;
        if (Interlocked.CompareExchange(ref g.Lease, LeaseInHub, LeaseRunning) != LeaseRunning) Rejoin(g);
    }

    /// <summary>
    /// The watchdog's move: if <paramref name="g"/> still runs its own code with the baton, revokes its lease and hands
    /// the baton on from the calling (native) thread. False if <paramref name="g"/> entered the hub meanwhile.
    /// <paramref name="announce"/> runs once the lease is revoked and before any other green thread runs, so what it logs
    /// comes before anything they do.
    /// </summary>
    internal bool TryTakeBack(GreenThread g, Action announce)
    {
        if (Interlocked.CompareExchange(ref g.Lease, LeaseRevoked, LeaseRunning) != LeaseRunning) return false;
        announce();
        // g counts as a wait an outside thread will end until it rejoins: with every other green thread blocked, the
        // scheduler must not call the program deadlocked while g's call may still return.
        BeginExternalWait();
        Interlocked.Increment(ref _takeBacks);
        TookBaton();
        NoteNativeHolder();
        Guard(() => HandOffLeaving());
        return true;
    }

    /// <summary>A revoked green thread, back from its native call at its next green call: queues for the baton and parks.</summary>
    private void Rejoin(GreenThread g)
    {
        Volatile.Write(ref g.Lease, LeaseInHub); // g alone writes its lease once revoked
        if (TryTakeIdleBaton())
        {
            EndExternalWait();
        }
        else
        {
            Post(() => { EndExternalWait(); _runq.PushBack(g); });
            g.Parker.Park();
            TookBaton();
        }
        NoteRunning(g);
        _detector.NoteRejoined(g);
    }

    private long _takeBacks;

    /// <summary>How often the watchdog has taken the baton back from a green thread blocked natively.</summary>
    public long TakeBacks => Interlocked.Read(ref _takeBacks);
}

/// <summary>An open entry into the hub (<see cref="Hub.Enter"/>): disposing it returns the lease to the thread's own code.</summary>
internal readonly ref struct HubEntry
{
    private readonly GreenThread? _owner;

    internal HubEntry(GreenThread owner) => _owner = owner;

    public void Dispose()
    {
        if (_owner != null) Volatile.Write(ref _owner.Lease, Hub.LeaseRunning);
    }
}
