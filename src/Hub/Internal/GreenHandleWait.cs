namespace Evergreen.Internal;

/// <summary>
/// Green waiting for kernel-style wait handles (<see cref="EventWaitHandle"/>, <see cref="Semaphore"/>,
/// <see cref="Mutex"/>): where a native thread would block in the runtime's wait, a green thread tries the wait with a
/// zero timeout — the runtime keeps every semantic: auto-reset consumption, semaphore counts, mutex ownership by this OS
/// thread, abandonment — and between tries parks on the hub. A patched Set/Release/ReleaseMutex of the handle wakes it
/// at once; a signal the patch cannot see (another process, the runtime's own release of an abandoned mutex) is found by
/// the next try, at most <see cref="MaxPollTicks"/> later.
/// </summary>
internal static class GreenHandleWait
{
    /// <summary>WAIT_TIMEOUT of the runtime's wait functions.</summary>
    public const int WaitTimeout = 0x102;

    // Touched only under the baton (signals from other threads are posted to the hub). Multi-handle waiters park on
    // s_anyHandle, which every signal wakes.
    private static readonly Dictionary<nint, WaitList> s_waiters = new();
    private static readonly WaitList s_anyHandle = new();
    private static int s_waiting;

    private static readonly long MaxPollTicks = Hub.ToTicks(TimeSpan.FromMilliseconds(50));
    private static readonly long FirstPollTicks = Hub.ToTicks(TimeSpan.FromMilliseconds(1));

    /// <summary>True when a green thread waits for some handle, i.e. a signal must wake it (read lock-free by every signal).</summary>
    public static bool AnyWaiters => Volatile.Read(ref s_waiting) > 0;

    /// <summary>
    /// Runs <paramref name="tryWait"/> (the runtime's wait with a zero timeout) until it returns something other than
    /// <see cref="WaitTimeout"/> or <paramref name="millisecondsTimeout"/> passes (-1: never), parking greenly in between.
    /// <paramref name="handle"/> is the handle a signal must name to wake this waiter; 0 for a multi-handle wait.
    /// Thread.Interrupt ends it only if <paramref name="interruptible"/> (the runtime's trivial waits are not).
    /// </summary>
    public static int Wait<TState>(nint handle, int millisecondsTimeout, bool interruptible, TState state, Func<TState, int> tryWait)
    {
        var hub = Hub.Instance;
        var self = hub.RequireCurrent("WaitHandle.WaitOne");
        long deadline = millisecondsTimeout < 0 ? -1 : Hub.Now + Hub.ToTicks(TimeSpan.FromMilliseconds(millisecondsTimeout));
        long poll = FirstPollTicks;
        // Count ourselves BEFORE the try: a signal by another thread after this point posts a wake, so a signal between
        // a failed try and the park cannot be lost (it makes the park return at once).
        Interlocked.Increment(ref s_waiting);
        hub.BeginExternalWait(); // the signaller may be a native thread the hub cannot see
        if (!interruptible) self.NoInterrupt++;
        try
        {
            while (true)
            {
                int result = tryWait(state);
                if (result != WaitTimeout)
                {
                    return result;
                }

                long left = poll;
                if (deadline >= 0)
                {
                    long remaining = deadline - Hub.Now;
                    if (remaining <= 0)
                    {
                        return WaitTimeout;
                    }

                    left = Math.Min(left, remaining);
                }

                ListFor(handle).Wait(hub, self, left, out _);
                poll = Math.Min(poll * 2, MaxPollTicks);
            }
        }
        finally
        {
            if (!interruptible) self.NoInterrupt--;
            hub.EndExternalWait();
            Interlocked.Decrement(ref s_waiting);
            if (handle != 0 && s_waiters.TryGetValue(handle, out var list) && list.Count == 0)
            {
                s_waiters.Remove(handle);
            }
        }
    }

    private static WaitList ListFor(nint handle)
    {
        if (handle == 0)
        {
            return s_anyHandle;
        }

        if (!s_waiters.TryGetValue(handle, out var list))
        {
            list = new WaitList();
            s_waiters[handle] = list;
        }

        return list;
    }

    /// <summary>After <paramref name="handle"/> was signalled, from any thread: its green waiters try again.</summary>
    public static void Signalled(nint handle)
    {
        if (Hub.IsGreenThread)
        {
            Wake(handle);
        }
        else
        {
            Hub.Instance.Post(() => Wake(handle));
        }
    }

    private static void Wake(nint handle)
    {
        if (s_waiters.TryGetValue(handle, out var list))
        {
            list.WakeAll(Hub.Instance, handle);
        }

        s_anyHandle.WakeAll(Hub.Instance, handle);
    }
}
