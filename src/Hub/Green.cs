using System.Diagnostics;
using Evergreen.Internal;

namespace Evergreen;

/// <summary>
/// The explicit green API, usable with no patching at all (eventlet's spawn / spawn_n / spawn_after /
/// kill / sleep). Every blocking call here waits greenly: it runs other green threads instead of blocking
/// the OS thread. Start from <see cref="Hub.Run(Action)"/> (or after <c>Patcher.MonkeyPatch()</c>).
/// </summary>
public static class Green
{
    /// <summary>
    /// Starts <paramref name="action"/> in a new green thread and returns it; it runs when the caller next
    /// blocks or yields. Callable from any thread. Throws <see cref="GreenThreadLimitException"/> when no OS
    /// thread can be had to back it (the message says how to raise the ceiling).
    /// </summary>
    public static GreenThread Spawn(Action action, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        return Hub.Instance.Spawn(action, name);
    }

    /// <summary>Starts <paramref name="func"/> in a new green thread; <see cref="GreenThread{T}.Wait"/> returns its result.</summary>
    public static GreenThread<T> Spawn<T>(Func<T> func, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(func);
        return Hub.Instance.Spawn(func, name);
    }

    /// <summary>Starts <paramref name="action"/> in a new green thread whose result nobody will ask for (eventlet's spawn_n).</summary>
    public static void SpawnN(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Hub.Instance.Spawn(action, null);
    }

    /// <summary>Starts <paramref name="action"/> in a new green thread after <paramref name="delay"/> (eventlet's spawn_after).</summary>
    public static GreenThread SpawnAfter(TimeSpan delay, Action action, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        return Hub.Instance.SpawnAfter(delay, action, name);
    }

    /// <summary>Starts <paramref name="func"/> in a new green thread after <paramref name="delay"/>.</summary>
    public static GreenThread<T> SpawnAfter<T>(TimeSpan delay, Func<T> func, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(func);
        return Hub.Instance.SpawnAfter(delay, func, name);
    }

    /// <summary>Kills <paramref name="thread"/>; see <see cref="GreenThread.Kill"/>.</summary>
    public static void Kill(GreenThread thread, Exception? exception = null)
    {
        ArgumentNullException.ThrowIfNull(thread);
        thread.Kill(exception);
    }

    /// <summary>
    /// Pauses the calling green thread for <paramref name="duration"/> while others run. Zero yields: every
    /// other runnable green thread (and due timers and ready I/O) runs once before it returns. On a thread
    /// that is not green it blocks the OS thread, like <see cref="Thread.Sleep(TimeSpan)"/>.
    /// </summary>
    public static void Sleep(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero && duration != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "The duration must not be negative (or Timeout.InfiniteTimeSpan).");
        var self = Hub.CurrentGreen;
        if (self == null) { HubPatchSeam.Sleep(duration); return; }
        var hub = self.Hub;
        if (duration == TimeSpan.Zero) { hub.Yield(self); return; }
        int id = hub.BeginWait(self);
        var timer = duration == Timeout.InfiniteTimeSpan ? null : hub.AddWakeTimer(self, id, Hub.ToTicks(duration));
        try
        {
            hub.Block(self);
        }
        finally
        {
            if (timer != null) hub.CancelTimer(timer);
        }
    }

    /// <summary>Pauses for <paramref name="milliseconds"/>; see <see cref="Sleep(TimeSpan)"/>.</summary>
    public static void Sleep(int milliseconds)
    {
        if (milliseconds < -1) throw new ArgumentOutOfRangeException(nameof(milliseconds), milliseconds, "Must be >= 0 or -1 (infinite).");
        Sleep(milliseconds == -1 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(milliseconds));
    }

    /// <summary>
    /// Waits greenly until <paramref name="fd"/> is ready for <paramref name="events"/> (exactly one of Read or
    /// Write), eventlet's trampoline. Returns false if <paramref name="timeout"/> passes first. The poller is
    /// edge-triggered: call it only after a non-blocking operation on the fd reported it would block.
    /// </summary>
    public static bool Trampoline(int fd, PollEvents events, TimeSpan? timeout = null)
    {
        long ticks = timeout is { } t ? Hub.ToTicks(t < TimeSpan.Zero ? TimeSpan.Zero : t) : -1;
        return Hub.Instance.WaitFd(fd, events, ticks) != PollEvents.None;
    }

    internal static long Now => Hub.Now;
}
