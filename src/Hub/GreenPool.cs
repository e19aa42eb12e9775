using System.Runtime.ExceptionServices;
using Evergreen.Internal;

namespace Evergreen;

/// <summary>
/// A pool that keeps at most <see cref="Size"/> green threads running at once (eventlet.greenpool.GreenPool).
/// <see cref="Spawn{T}(Func{T}, string?)"/> waits greenly while the pool is full, and slots are handed to waiting
/// spawners in the order they began waiting. An exception in a pooled function is logged by the hub like any
/// green thread's and frees the slot as usual. Green threads only.
/// </summary>
public sealed class GreenPool
{
    private readonly WaitList _slotWaiters = new();
    private readonly WaitList _idleWaiters = new();
    private readonly HashSet<GreenThread> _running = new();
    private readonly Action<GreenThread> _onDone;
    private int _size;
    private int _taken;   // slots held: running threads plus slots granted to waiting spawners that have not spawned yet

    /// <summary>Creates a pool of <paramref name="size"/> slots (0 is allowed: every spawn waits for a <see cref="Resize"/>).</summary>
    public GreenPool(int size = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        _size = size;
        _onDone = Finished;
    }

    /// <summary>The most green threads the pool runs at once.</summary>
    public int Size => _size;

    /// <summary>Green threads of the pool that are running (spawned and not yet finished).</summary>
    public int Running => _running.Count;

    /// <summary>Green threads waiting in <c>Spawn</c> for a free slot.</summary>
    public int Waiting => _slotWaiters.Count;

    /// <summary>Slots free now (negative after a <see cref="Resize"/> below <see cref="Running"/>).</summary>
    public int Free() => _size - _taken;

    /// <summary>
    /// Runs <paramref name="func"/> in a new green thread of the pool and returns it, first waiting greenly for a
    /// free slot. Called from one of the pool's own threads while the pool is full, it runs <paramref name="func"/>
    /// inline instead (waiting for a slot there could deadlock, as eventlet notes) and returns a finished thread;
    /// then an exception from <paramref name="func"/> propagates to the caller as well.
    /// </summary>
    public GreenThread<T> Spawn<T>(Func<T> func, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(func);
        GreenThread self;
        using (Hub.Instance.EnterGreen("GreenPool.Spawn", out self))
        {
            if (Free() > 0 || !_running.Contains(self)) return SpawnInSlot(self, func, name);
        }
        return RunInline(self, func, name); // outside the entry: it runs the caller's code
    }

    private GreenThread<T> SpawnInSlot<T>(GreenThread self, Func<T> func, string? name)
    {
        AcquireSlot(self);
        GreenThread<T> g;
        try
        {
            g = self.Hub.Spawn(func, name);
        }
        catch
        {
            ReleaseSlot(self.Hub);
            throw;
        }
        Track(g);
        return g;
    }

    /// <summary>Runs <paramref name="action"/> in a new green thread of the pool; see <see cref="Spawn{T}(Func{T}, string?)"/>.</summary>
    public GreenThread Spawn(Action action, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        return Spawn<object?>(() => { action(); return null; }, name);
    }

    /// <summary>
    /// Runs <paramref name="action"/> in a new green thread of the pool whose result nobody will ask for (eventlet's
    /// spawn_n), waiting greenly for a free slot. An exception it throws is logged by the hub; the pool carries on.
    /// </summary>
    public void SpawnN(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        GreenThread self;
        using (Hub.Instance.EnterGreen("GreenPool.SpawnN", out self))
        {
            if (Free() > 0 || !_running.Contains(self))
            {
                SpawnNInSlot(self, action);
                return;
            }
        }
        action(); // outside the entry: the caller's code
    }

    private void SpawnNInSlot(GreenThread self, Action action)
    {
        AcquireSlot(self);
        GreenThread g;
        try
        {
            g = self.Hub.Spawn(action, null);
        }
        catch
        {
            ReleaseSlot(self.Hub);
            throw;
        }
        Track(g);
    }

    /// <summary>
    /// Applies <paramref name="func"/> to each item of <paramref name="source"/> in the pool's green threads and
    /// yields the results in input order (eventlet's imap). Lazy: items are read and started only as the
    /// results are consumed, at most <see cref="Size"/> ahead of the consumer, and never more than the pool
    /// allows at once. An exception from <paramref name="func"/> is rethrown when its result is reached.
    /// </summary>
    public IEnumerable<TOut> Imap<TIn, TOut>(Func<TIn, TOut> func, IEnumerable<TIn> source)
    {
        ArgumentNullException.ThrowIfNull(func);
        ArgumentNullException.ThrowIfNull(source);
        return ImapIterator(func, source);
    }

    private IEnumerable<TOut> ImapIterator<TIn, TOut>(Func<TIn, TOut> func, IEnumerable<TIn> source)
    {
        var inFlight = new Queue<GreenThread<TOut>>();
        using var items = source.GetEnumerator();
        bool more = true;
        while (true)
        {
            // Start work only into free slots (or when nothing is pending, so the consumer always progresses):
            // finished-but-unconsumed results then stay bounded by the pool size.
            while (more && (inFlight.Count == 0 || (inFlight.Count < _size && Free() > 0)))
            {
                if (!(more = items.MoveNext())) break;
                var item = items.Current;
                inFlight.Enqueue(Spawn(() => func(item)));
            }
            if (inFlight.Count == 0) yield break;
            yield return inFlight.Dequeue().Wait();
        }
    }

    /// <summary>
    /// Waits greenly until every green thread of the pool has finished. Called from one of the pool's own
    /// threads it would never return, so it throws <see cref="InvalidOperationException"/> instead.
    /// </summary>
    public void WaitAll()
    {
        using var entry = Hub.Instance.EnterGreen("GreenPool.WaitAll", out var self);
        if (_running.Contains(self))
            throw new InvalidOperationException("GreenPool.WaitAll() called from one of the pool's own green threads would never return.");
        while (_running.Count > 0)
        {
            self.NoteWait(WaitKind.Semaphore, this, "WaitAll: its threads to finish");
            _idleWaiters.Wait(self.Hub, self, -1, out _);
        }
    }

    /// <summary>
    /// Changes the number of slots. Growing lets waiting spawners in at once; shrinking never stops running
    /// threads, it only makes new spawns wait until <see cref="Running"/> drops below the new size.
    /// </summary>
    public void Resize(int newSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(newSize);
        using var entry = Hub.Instance.EnterGreen("GreenPool.Resize", out var self);
        _size = newSize;
        GrantSlots(self.Hub);
    }

    private void AcquireSlot(GreenThread self)
    {
        if (_taken < _size && _slotWaiters.PeekLive() == null)
        {
            _taken++;
            return;
        }
        // A freed slot is handed over with the wake (already counted in _taken), so no later spawner can take
        // it first; if we are killed after being granted it, it goes to the next waiter.
        self.NoteWait(WaitKind.Semaphore, this, "Spawn: a free slot");
        _slotWaiters.Wait(self.Hub, self, -1, out _, giveBack: _ => ReleaseSlot(self.Hub));
    }

    private void ReleaseSlot(Hub hub)
    {
        _taken--;
        GrantSlots(hub);
    }

    private void GrantSlots(Hub hub)
    {
        while (_taken < _size && _slotWaiters.Count > 0)
        {
            _taken++;
            if (!_slotWaiters.WakeOne(hub, this))
            {
                _taken--;
                return;
            }
        }
    }

    private void Track(GreenThread g)
    {
        _running.Add(g);
        g.Link(_onDone);
    }

    /// <summary>Link callback: runs on the ending green thread, under the baton.</summary>
    private void Finished(GreenThread g)
    {
        _running.Remove(g);
        ReleaseSlot(g.Hub);
        if (_running.Count == 0) _idleWaiters.WakeAll(g.Hub, this);
    }

    private static GreenThread<T> RunInline<T>(GreenThread self, Func<T> func, string? name)
    {
        var g = new GreenThread<T>(self.Hub, func, name) { Started = true };
        Exception? error = null;
        try
        {
            g.RunBody();
        }
        catch (Exception ex)
        {
            error = ex;
        }
        using (Hub.Enter(out _)) g.Complete(error);
        if (error != null) ExceptionDispatchInfo.Capture(error).Throw();
        return g;
    }
}
