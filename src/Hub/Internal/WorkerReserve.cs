using System.Collections.Concurrent;

namespace Evergreen.Internal;

/// <summary>
/// A few parked workers started ahead of demand by a native thread off the hub's CPU, so that a spawn with no idle
/// worker does not hold the baton while the runtime starts an OS thread. Measured (bench/README.md): a cold spawn held
/// the hub ~230 us each; in the echo bench's C=1000 connection burst, 900 of them stalled every connection ~227 ms and
/// set the p99. <c>EVERGREEN_WORKER_RESERVE=N</c> (default 16; 0 turns it off). The reserve's threads count in
/// <see cref="Hub.OsThreads"/> once started, and against the thread ceiling like any worker.
/// </summary>
internal sealed class WorkerReserve
{
    public const int DefaultSize = 16;

    private readonly Hub _hub;
    private readonly int _target;
    private readonly ConcurrentStack<Worker> _ready = new();   // lock-free: taken under the baton, filled natively
    private readonly Parker _wake = new();                      // futex: no Monitor, so nothing here goes green
    private int _count;
    private int _started;
    private volatile bool _stopped;

    public WorkerReserve(Hub hub, int target)
    {
        _hub = hub;
        _target = target;
    }

    public static int ConfiguredSize =>
        int.TryParse(Environment.GetEnvironmentVariable("EVERGREEN_WORKER_RESERVE"), out int n) && n >= 0 ? n : DefaultSize;

    /// <summary>A pre-started parked worker, or null (the caller then creates one itself). Asks for a refill when low.</summary>
    public Worker? TryTake()
    {
        if (_stopped) return null;
        if (Volatile.Read(ref _started) == 0 && Interlocked.CompareExchange(ref _started, 1, 0) == 0)
        {
            Hub.StartNativeThread(new Thread(Fill, 256 * 1024) { IsBackground = true, Name = "evergreen-reserve" });
        }
        Worker? w = null;
        if (_ready.TryPop(out var taken))
        {
            Interlocked.Decrement(ref _count);
            w = taken;
        }
        if (Volatile.Read(ref _count) <= _target / 2) _wake.Unpark();
        return w;
    }

    private void Fill()
    {
        while (true)
        {
            _wake.Park();
            while (Volatile.Read(ref _count) < _target)
            {
                try
                {
                    _ready.Push(_hub.CreateWorker());
                }
                catch (GreenThreadLimitException)
                {
                    _stopped = true; // at the ceiling: spawns get the typed exception themselves
                    return;
                }
                Interlocked.Increment(ref _count);
            }
        }
    }
}
