using Evergreen.Internal;

namespace Evergreen;

/// <summary>
/// A counting semaphore for green threads (eventlet.semaphore.Semaphore). <see cref="Release"/> hands a
/// permit straight to the longest waiter, so waiters are served strictly FIFO and a releasing thread
/// cannot barge back in ahead of them. Green threads only.
/// </summary>
public class GreenSemaphore
{
    private readonly WaitList _waiters = new();
    private int _count;
    private Action<object?>? _giveBack; // cached: a new delegate per blocking Acquire was 64 B a switch

    /// <summary>Creates a semaphore with <paramref name="count"/> permits.</summary>
    public GreenSemaphore(int count = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        _count = count;
    }

    /// <summary>Permits available now.</summary>
    public int Count => _count;

    /// <summary>Permits minus waiters (negative when threads wait), eventlet's balance.</summary>
    public int Balance => _count - _waiters.Count;

    /// <summary>True when no permit is available.</summary>
    public bool Locked => _count <= 0;

    /// <summary>Takes a permit without waiting; false if none is free or others are already waiting.</summary>
    public bool TryAcquire()
    {
        using var entry = Hub.Enter(out _);
        if (_count > 0 && _waiters.PeekLive() == null) { _count--; return true; }
        return false;
    }

    /// <summary>Takes a permit, waiting greenly for one.</summary>
    public void Acquire() => Acquire(Timeout.InfiniteTimeSpan);

    /// <summary>Takes a permit, waiting greenly at most <paramref name="timeout"/> (infinite: <see cref="Timeout.InfiniteTimeSpan"/>); false on timeout.</summary>
    public bool Acquire(TimeSpan timeout)
    {
        if (TryAcquire()) return true;
        using var entry = Hub.Instance.EnterGreen("GreenSemaphore.Acquire", out var self);
        long ticks = timeout == Timeout.InfiniteTimeSpan ? -1 : Hub.ToTicks(timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout);
        if (ticks == 0) return false;
        // A granted permit is transferred with the wake (the count never rises), so it cannot be stolen.
        self.NoteWait(ticks < 0 ? WaitKind.Semaphore : WaitKind.Semaphore | WaitKind.Timed, this, "to be released");
        return _waiters.Wait(self.Hub, self, ticks, out _, giveBack: _giveBack ??= _ => Release());
    }

    /// <summary>Returns a permit: to the first waiter if any, else to the count.</summary>
    public virtual void Release()
    {
        var hub = Hub.Instance;
        using var entry = Hub.Enter(out _);
        if (_waiters.Count > 0 && _waiters.WakeOne(hub, this)) return;
        _count++;
    }

    /// <summary>Acquires and returns a scope whose <see cref="IDisposable.Dispose"/> releases (for <c>using</c>).</summary>
    public Releaser Lock()
    {
        Acquire();
        return new Releaser(this);
    }

    /// <summary>Releases its semaphore once when disposed.</summary>
    public readonly struct Releaser : IDisposable
    {
        private readonly GreenSemaphore _sem;
        internal Releaser(GreenSemaphore sem) => _sem = sem;

        /// <inheritdoc/>
        public void Dispose() => _sem?.Release();
    }
}
