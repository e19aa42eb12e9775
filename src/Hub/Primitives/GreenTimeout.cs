using Evergreen.Internal;

namespace Evergreen;

/// <summary>
/// A timeout scope (eventlet.Timeout): <c>using var t = new GreenTimeout(TimeSpan.FromSeconds(1));</c> makes any green
/// wait inside the scope that is still waiting when the time is up throw <see cref="GreenTimeoutException"/>
/// (or the exception given). Disposing the scope cancels it. Green threads only.
/// </summary>
public sealed class GreenTimeout : IDisposable
{
    private readonly GreenThread _owner;
    private readonly ThrowTimer? _timer;
    private readonly Exception? _custom;
    private GreenTimeoutException? _thrown;

    /// <summary>
    /// Starts a scope on the calling green thread. <paramref name="duration"/> <see cref="Timeout.InfiniteTimeSpan"/>
    /// never expires. <paramref name="exception"/>, if given, is thrown instead of <see cref="GreenTimeoutException"/>.
    /// </summary>
    public GreenTimeout(TimeSpan duration, Exception? exception = null)
    {
        if (duration < TimeSpan.Zero && duration != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "The duration must not be negative (or InfiniteTimeSpan).");
        using var entry = Hub.Instance.EnterGreen("new GreenTimeout", out _owner);
        Duration = duration;
        _custom = exception;
        if (duration == Timeout.InfiniteTimeSpan) return;
        _timer = new ThrowTimer(_owner, MakeException);
        _owner.Hub.AddTimer(_timer, Hub.ToTicks(duration));
    }

    /// <summary>The duration the scope was started with.</summary>
    public TimeSpan Duration { get; }

    /// <summary>True while the timer is still running (not expired, not cancelled).</summary>
    public bool Pending => _timer?.IsScheduled ?? false;

    private Exception MakeException()
    {
        if (_custom != null) return _custom;
        return _thrown = new GreenTimeoutException(this, $"Timed out after {Duration.TotalMilliseconds:0.###} ms (green thread {_owner.Name}).");
    }

    /// <summary>Cancels the scope; an expiry not yet delivered is dropped.</summary>
    public void Cancel()
    {
        using var entry = Hub.Enter(out _);
        if (_timer != null) _owner.Hub.CancelTimer(_timer);
        if (_owner.Pending is { } p && (p == _thrown || (p == _custom && _custom != null))) _owner.Pending = null;
    }

    /// <summary>Same as <see cref="Cancel"/>.</summary>
    public void Dispose() => Cancel();

    /// <summary>
    /// Runs <paramref name="func"/> under a timeout scope (eventlet's with_timeout); if the scope expires,
    /// returns <paramref name="timeoutValue"/> instead.
    /// </summary>
    public static T WithTimeout<T>(TimeSpan duration, Func<T> func, T timeoutValue)
    {
        ArgumentNullException.ThrowIfNull(func);
        using var t = new GreenTimeout(duration);
        try
        {
            return func();
        }
        catch (GreenTimeoutException e) when (e.Timeout == t)
        {
            return timeoutValue;
        }
    }

    /// <summary>Runs <paramref name="func"/> under a timeout scope; the expiry propagates as <see cref="GreenTimeoutException"/>.</summary>
    public static T WithTimeout<T>(TimeSpan duration, Func<T> func)
    {
        ArgumentNullException.ThrowIfNull(func);
        using var t = new GreenTimeout(duration);
        return func();
    }
}
