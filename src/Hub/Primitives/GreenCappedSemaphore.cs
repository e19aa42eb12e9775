namespace Evergreen;

/// <summary>
/// A semaphore bounded on both sides (eventlet.semaphore.CappedSemaphore): <see cref="Acquire()"/> waits greenly
/// while the count is zero, and <see cref="Release()"/> waits greenly while the count is at <see cref="Limit"/>,
/// so the count never rises above the limit. Both sides are served FIFO. Green threads only.
/// </summary>
/// <remarks>
/// Built like eventlet's: a lower semaphore holds the free permits and an upper one the room left below the
/// limit; acquiring takes from the lower and gives to the upper, releasing the reverse. Each step is a
/// <see cref="GreenSemaphore"/> with direct handoff, so kills and timeouts never lose a permit.
/// </remarks>
public sealed class GreenCappedSemaphore
{
    private readonly GreenSemaphore _lower;
    private readonly GreenSemaphore _upper;

    /// <summary>Creates a semaphore with <paramref name="count"/> permits that can never hold more than <paramref name="limit"/>.</summary>
    public GreenCappedSemaphore(int count, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, count);
        Limit = limit;
        _lower = new GreenSemaphore(count);
        _upper = new GreenSemaphore(limit - count);
    }

    /// <summary>The ceiling of <see cref="Count"/>.</summary>
    public int Limit { get; }

    /// <summary>Permits available now.</summary>
    public int Count => _lower.Count;

    /// <summary>
    /// Free permits plus releasers waiting for room, minus acquirers waiting: negative means green threads wait in
    /// <see cref="Acquire()"/>, above <see cref="Limit"/> means some wait in <see cref="Release()"/>.
    /// </summary>
    public int Balance => _lower.Balance + (_upper.Count - _upper.Balance);

    /// <summary>True when no permit is available.</summary>
    public bool Locked => _lower.Locked;

    /// <summary>Takes a permit without waiting; false if none is free or others are already waiting.</summary>
    public bool TryAcquire()
    {
        if (!_lower.TryAcquire()) return false;
        _upper.Release();
        return true;
    }

    /// <summary>Takes a permit, waiting greenly while the count is zero.</summary>
    public void Acquire() => Acquire(Timeout.InfiniteTimeSpan);

    /// <summary>Takes a permit, waiting greenly at most <paramref name="timeout"/>; false on timeout.</summary>
    public bool Acquire(TimeSpan timeout)
    {
        if (!_lower.Acquire(timeout)) return false;
        _upper.Release();
        return true;
    }

    /// <summary>Returns a permit without waiting; false if the count is already at <see cref="Limit"/>.</summary>
    public bool TryRelease()
    {
        if (!_upper.TryAcquire()) return false;
        _lower.Release();
        return true;
    }

    /// <summary>Returns a permit, waiting greenly while the count is at <see cref="Limit"/> (eventlet's blocking release).</summary>
    public void Release() => Release(Timeout.InfiniteTimeSpan);

    /// <summary>Returns a permit, waiting greenly at most <paramref name="timeout"/> for room below the limit; false on timeout.</summary>
    public bool Release(TimeSpan timeout)
    {
        if (!_upper.Acquire(timeout)) return false;
        _lower.Release();
        return true;
    }
}
