using System.Runtime.ExceptionServices;
using Evergreen.Internal;

namespace Evergreen;

/// <summary>
/// A one-shot event carrying a value or an exception (eventlet.event.Event): any number of green threads
/// <see cref="Wait()"/> until one <see cref="Send"/>s. Waiters are woken in the order they began waiting.
/// <see cref="Send"/> may be called from any thread (off the hub it is posted to the hub); waits must be on green threads.
/// </summary>
public class Event<T>
{
    private readonly WaitList _waiters = new();
    private bool _ready;
    private T _value = default!;
    private ExceptionDispatchInfo? _error;

    /// <summary>The thread whose end this event marks (a patched Thread.Join waits on it): waits on it are joins.</summary>
    internal Thread? JoinOf;

    /// <summary>True once <see cref="Send"/> or <see cref="SendException"/> was called (and not <see cref="Reset"/>).</summary>
    public bool Ready => _ready;

    /// <summary>True if the event was sent an exception.</summary>
    public bool HasException => _ready && _error != null;

    /// <summary>Green threads currently waiting.</summary>
    public int Waiting => _waiters.Count;

    /// <summary>Waits greenly for the event; returns the value sent or throws the exception sent.</summary>
    public T Wait()
    {
        if (!_ready)
        {
            using var entry = Hub.Instance.EnterGreen("Event.Wait", out var self);
            while (!_ready)
            {
                self.NoteWait(JoinOf != null ? WaitKind.Join : WaitKind.Event, (object?)JoinOf ?? this);
                _waiters.Wait(self.Hub, self, -1, out _);
            }
        }
        _error?.Throw();
        return _value;
    }

    /// <summary>Waits greenly at most <paramref name="timeout"/>; returns false on timeout, else the value (or throws the exception sent).</summary>
    public bool Wait(TimeSpan timeout, out T value)
    {
        if (!_ready)
        {
            using var entry = Hub.Instance.EnterGreen("Event.Wait", out var self);
            long deadline = Green.Now + Hub.ToTicks(timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout);
            while (!_ready)
            {
                long left = deadline - Green.Now;
                if (left > 0) self.NoteWait((JoinOf != null ? WaitKind.Join : WaitKind.Event) | WaitKind.Timed, (object?)JoinOf ?? this);
                if (left <= 0 || !_waiters.Wait(self.Hub, self, left, out _))
                {
                    if (_ready) break;
                    value = default!;
                    return false;
                }
            }
        }
        _error?.Throw();
        value = _value;
        return true;
    }

    /// <summary>
    /// Sets the value and wakes every waiter. Throws <see cref="InvalidOperationException"/> if already sent
    /// (call <see cref="Reset"/> first).
    /// </summary>
    public void Send(T value) => Deliver(value, null);

    /// <summary>Wakes every waiter with <paramref name="exception"/> thrown from their <see cref="Wait()"/>.</summary>
    public void SendException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        Deliver(default!, ExceptionDispatchInfo.Capture(exception));
    }

    private void Deliver(T value, ExceptionDispatchInfo? error)
    {
        using var entry = Hub.Enter(out var self);
        if (self == null)
        {
            PostDeliver(value, error);
            return;
        }
        DeliverUnderBaton(value, error);
    }

    // Its own method: a lambda capturing Deliver's parameters made the compiler allocate the closure at Deliver's
    // entry, on every green Send too (40 B a Send; measured with GC.GetTotalAllocatedBytes over an Event ping-pong).
    private void PostDeliver(T value, ExceptionDispatchInfo? error) =>
        // Not Deliver again: a posted action runs under the baton but maybe on a thread with no current
        // green thread (a worker polling), where re-checking IsGreenThread would re-post it forever.
        Hub.Instance.Post(() => DeliverUnderBaton(value, error));

    private void DeliverUnderBaton(T value, ExceptionDispatchInfo? error)
    {
        if (_ready) throw new InvalidOperationException("The event was already sent; call Reset() before sending it again.");
        _value = value;
        _error = error;
        _ready = true;
        _waiters.WakeAll(Hub.Instance, this);
    }

    /// <summary>Makes a sent event unsent again so it can be waited for and sent anew.</summary>
    public void Reset()
    {
        _ready = false;
        _value = default!;
        _error = null;
    }
}

/// <summary>An <see cref="Event{T}"/> that carries no value.</summary>
public sealed class Event : Event<object?>
{
    /// <summary>Sends the event with no value.</summary>
    public void Send() => Send(null);

    /// <summary>Waits greenly at most <paramref name="timeout"/>; returns false on timeout.</summary>
    public bool Wait(TimeSpan timeout) => Wait(timeout, out _);
}
