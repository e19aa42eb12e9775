namespace Evergreen.Bugs;

/// <summary>
/// Lost pulse: <see cref="Latch.Wait"/> checks the flag outside the lock, then takes the lock and waits. A
/// <see cref="Latch.Set"/> that runs between the check and the wait pulses nobody, and the waiter waits forever.
/// </summary>
public static class LostPulse
{
    /// <summary>A one-shot latch.</summary>
    public sealed class Latch
    {
        private readonly object _gate = new();
        private bool _set;

        /// <summary>The bug: the fast-path check is not repeated under the lock.</summary>
        public void Wait()
        {
            if (Volatile.Read(ref _set))
                return;
            lock (_gate)
            {
                Monitor.Wait(_gate);
            }
        }

        /// <summary>Sets the flag and wakes the waiters.</summary>
        public void Set()
        {
            lock (_gate)
            {
                _set = true;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>One thread waits on the latch, another sets it; hangs when the pulse comes before the wait.</summary>
    public static void Body()
    {
        var ready = new Latch();
        var waiter = new Thread(ready.Wait) { Name = "waiter" };
        var setter = new Thread(ready.Set) { Name = "setter" };
        waiter.Start();
        setter.Start();
        waiter.Join();
        setter.Join();
    }
}
