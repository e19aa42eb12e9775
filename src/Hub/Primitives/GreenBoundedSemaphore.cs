namespace Evergreen;

/// <summary>
/// A <see cref="GreenSemaphore"/> that refuses to be released above its initial count (eventlet.semaphore.BoundedSemaphore):
/// an extra <see cref="Release"/> is a bug in the caller, so it throws instead of silently adding a permit.
/// Green threads only.
/// </summary>
public class GreenBoundedSemaphore : GreenSemaphore
{
    /// <summary>Creates a semaphore with <paramref name="count"/> permits, which is also its ceiling.</summary>
    public GreenBoundedSemaphore(int count = 1) : base(count) => Limit = count;

    /// <summary>The initial count, which <see cref="GreenSemaphore.Count"/> may never exceed.</summary>
    public int Limit { get; }

    /// <summary>
    /// Returns a permit (to the first waiter if any). Throws <see cref="SemaphoreOverReleasedException"/> if every
    /// permit is already free, leaving the semaphore unchanged.
    /// </summary>
    public override void Release()
    {
        // Waiters exist only while Count is 0, so at the ceiling there is nobody to hand a permit to.
        if (Count >= Limit)
            throw new SemaphoreOverReleasedException(
                $"GreenBoundedSemaphore released too many times: all {Limit} permit(s) are already free.");
        base.Release();
    }
}
