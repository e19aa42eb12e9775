using System.Runtime.ExceptionServices;
using Evergreen.Internal;

namespace Evergreen;

/// <summary>
/// A green thread: eventlet's GreenThread. It runs only while it holds the hub's baton, so exactly one
/// green thread runs at a time and a switch happens only at a green blocking call or <see cref="Green.Sleep(TimeSpan)"/>.
/// Backed by a pooled OS thread (its own identity, <c>ThreadStatic</c>s and stack while it runs).
/// </summary>
public partial class GreenThread
{
    private static long s_nextId;

    internal readonly Hub Hub;
    private readonly Action? _action;

    // --- scheduling state: touched only by the baton holder ---------------------------------
    internal Parker Parker = null!;
    internal Worker? Worker;
    internal bool IsAdopted;
    internal int WaitId;
    internal bool Blocked;
    internal object? WakeValue;
    internal Exception? Pending;
    internal bool Interrupted;               // Thread.Interrupt not yet delivered (Hub.Interrupt)
    internal int NoInterrupt;                // > 0: waits that plain .NET does not interrupt (Hub.Interrupt)
    internal int InterruptsPosted;           // Thread.Interrupt calls from other threads not yet applied by the hub

    /// <summary>
    /// An interrupt is on its way to this thread or pending on it; read off the baton by a native signaller, which must not
    /// hand a signal to a waiter that an interrupt made before the signal will end (plain .NET's order).
    /// </summary>
    internal bool InterruptComing => Volatile.Read(ref InterruptsPosted) > 0 || Volatile.Read(ref Interrupted);
    internal HubTimer? StartTimer;
    internal bool Started;
    internal ulong[]? SavedAffinity;
    internal SynchronizationContext? SavedContext; // an adopted thread's context before it joined the hub
    internal WaitList.Node? SpareWaitNode;   // reused by WaitList.Wait (one wait at a time)
    internal WakeTimer? WakeTimer;           // reused by Hub.AddWakeTimer
    internal int Lease = Hub.LeaseInHub;     // Hub.TakeBack.cs: CAS by the thread itself and by the watchdog
    internal long TakenBackAt;               // written by the watchdog before it revokes the lease, read after Rejoin
    internal string? TakeBackSite;

    // --- completion --------------------------------------------------------------------------
    private volatile bool _dead;
    private Exception? _error;
    private WaitList? _joiners; // created by the first green joiner: a thread that ends before anyone joins it needs none
    private List<Action<GreenThread>>? _links;
    private ManualResetEventSlim? _nativeDone;
    private static readonly ManualResetEventSlim s_completedSentinel = new(true);

    /// <summary>The id given last (ids count up from 1 in creation order; seeded schedules name threads by them).</summary>
    internal static long LastId => Interlocked.Read(ref s_nextId);

    internal GreenThread(Hub hub, Action? action, string? name)
    {
        Hub = hub;
        _action = action;
        Id = Interlocked.Increment(ref s_nextId);
        _name = name;
        if (ScheduleMode.Explorable) Hub.NoteCreated();
    }

    // The default name is formatted on first use: a string per spawn is garbage most threads never read.
    private string? _name;

    /// <summary>A process-unique number.</summary>
    public long Id { get; }

    /// <summary>A name for logs and dumps (default <c>green-N</c>).</summary>
    public string Name
    {
        get => _name ??= $"green-{Id}";
        set => _name = value;
    }

    /// <summary>True once the thread has finished, failed, or been killed.</summary>
    public bool IsDead => _dead;

    /// <summary>The exception the thread ended with, if it ended with one (a kill gives <see cref="GreenThreadExitException"/>).</summary>
    public Exception? Exception => _dead ? _error : null;

    /// <summary>The green thread the caller is running on, or null on a thread that is not green.</summary>
    public static GreenThread? Current => Hub.CurrentGreen;

    internal virtual void RunBody() => _action!();

    /// <summary>
    /// Waits until the thread ends; rethrows the exception it ended with (for a killed thread,
    /// <see cref="GreenThreadExitException"/>). From a green thread this waits greenly; from any other
    /// thread it blocks that OS thread. Waiting on oneself throws <see cref="InvalidOperationException"/>.
    /// </summary>
    public void Wait()
    {
        Join();
        if (_error != null) ExceptionDispatchInfo.Capture(_error).Throw();
    }

    /// <summary>Waits for the end like <see cref="Wait"/> but never throws the thread's exception.</summary>
    internal void Join()
    {
        if (_dead) return;
        using var entry = Hub.Enter(out var self);
        if (self == this) throw new InvalidOperationException($"Green thread {Name} cannot wait for itself.");
        if (self != null)
        {
            var joiners = _joiners ??= new WaitList();
            while (!_dead)
            {
                self.NoteWait(WaitKind.Join, this);
                joiners.Wait(Hub, self, -1, out _);
            }
            return;
        }
        var ev = new ManualResetEventSlim(false);
        var existing = Interlocked.CompareExchange(ref _nativeDone, ev, null);
        if (existing != null) { ev.Dispose(); ev = existing; }
        if (_dead) return;
        ev.Wait();
    }

    /// <summary>
    /// Kills the thread (eventlet's kill): it wakes from whatever green wait it is in with
    /// <paramref name="exception"/> (default <see cref="GreenThreadExitException"/>). A thread that has not
    /// started yet never runs. Killing a finished thread is a no-op. From a green thread the caller yields
    /// so the target handles the exception before <c>Kill</c> returns.
    /// </summary>
    public void Kill(Exception? exception = null) => Hub.Kill(this, exception ?? new GreenThreadExitException());

    /// <summary>
    /// Calls <paramref name="callback"/> with this thread when it ends (immediately, on the caller, if it
    /// already has). Callbacks run on the ending green thread, in link order; an exception from one is
    /// logged and does not stop the others.
    /// </summary>
    public void Link(Action<GreenThread> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (_dead) { callback(this); return; }
        using (Hub.Enter(out _)) (_links ??= new()).Add(callback);
    }

    /// <summary>Removes a callback added by <see cref="Link"/>; returns whether it was linked.</summary>
    public bool Unlink(Action<GreenThread> callback)
    {
        using var entry = Hub.Enter(out _);
        return _links?.Remove(callback) ?? false;
    }

    /// <summary>Runs by the hub on the ending thread: record, wake joiners, run links.</summary>
    internal void Complete(Exception? error)
    {
        _error = error;
        _dead = true;
        _joiners?.WakeAll(Hub, this);
        Interlocked.Exchange(ref _nativeDone, s_completedSentinel)?.Set();
        if (_links is { } links)
        {
            _links = null;
            foreach (var l in links)
            {
                try { l(this); }
                catch (Exception ex) { Hub.Logger.Error(ex, "A link of green thread {Name} threw", Name); }
            }
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"GreenThread({Name}{(_dead ? ", dead" : "")})";
}

/// <summary>A green thread that produces a result of type <typeparamref name="T"/>.</summary>
public sealed class GreenThread<T> : GreenThread
{
    private readonly Func<T> _func;
    private T _result = default!;

    internal GreenThread(Hub hub, Func<T> func, string? name) : base(hub, null, name) => _func = func;

    internal override void RunBody() => _result = _func();

    /// <summary>Waits for the end and returns the result, or rethrows the exception the thread ended with.</summary>
    public new T Wait()
    {
        base.Wait();
        return _result;
    }
}
