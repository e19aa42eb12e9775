namespace Evergreen.Internal;

/// <summary>
/// Green waiting for kernel-style wait handles (<see cref="EventWaitHandle"/>, <see cref="Semaphore"/>,
/// <see cref="Mutex"/>): where a native thread would block in the runtime's wait, a green thread tries the wait with a
/// zero timeout — the runtime keeps every semantic: auto-reset consumption, semaphore counts, mutex ownership by this OS
/// thread, abandonment — and between tries parks on the hub. A patched Set/Release/ReleaseMutex of the handle wakes it
/// at once; a signal the patch cannot see (another process, the runtime's own release of an abandoned mutex) is found by
/// the next try, at most <see cref="MaxPollTicks"/> later.
/// A green signaller of an event or semaphore also hands the signal over at once, as the runtime does to threads already
/// blocked on the handle: it takes the signal for each waiter in FIFO order and wakes it with a <see cref="Grant"/>, so
/// a Set at once followed by Reset, or the signaller's own WaitOne(0), cannot take it back (seen: 5 ManualResetEvent
/// waiters never woke from Set();Reset(), which plain .NET releases all).
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

    /// <summary>
    /// A wake that carries the signal itself: the signaller already took it for the waiter, which returns without a try.
    /// <see cref="GiveBack"/> restores it if the waiter is interrupted or killed before it runs.
    /// </summary>
    private sealed class Grant(Action giveBack)
    {
        public readonly Action GiveBack = giveBack;
    }

    private static readonly Action<object?> s_giveBack = static g => ((Grant)g!).GiveBack();

    private static readonly long MaxPollTicks = Hub.ToTicks(TimeSpan.FromMilliseconds(50));
    private static readonly long FirstPollTicks = Hub.ToTicks(TimeSpan.FromMilliseconds(1));

    /// <summary>True when a green thread waits for some handle, i.e. a signal must wake it (read lock-free by every signal).</summary>
    public static bool AnyWaiters => Volatile.Read(ref s_waiting) > 0;

    /// <summary>
    /// Runs <paramref name="tryWait"/> (the runtime's wait with a zero timeout) until it returns something other than
    /// <see cref="WaitTimeout"/> or <paramref name="millisecondsTimeout"/> passes (-1: never), parking greenly in between.
    /// <paramref name="handle"/> is the handle a signal must name to wake this waiter; 0 for a multi-handle wait.
    /// Thread.Interrupt ends it only if <paramref name="interruptible"/> (the runtime's trivial waits are not).
    /// <paramref name="waitObject"/> (the handle, or the array of them) is what the thread dump names.
    /// </summary>
    public static int Wait<TState>(nint handle, int millisecondsTimeout, bool interruptible, TState state, Func<TState, int> tryWait, object? waitObject = null)
    {
        var hub = Hub.Instance;
        using var entry = hub.EnterGreen("WaitHandle.WaitOne", out var self);
        long deadline = millisecondsTimeout < 0 ? -1 : Hub.Now + Hub.ToTicks(TimeSpan.FromMilliseconds(millisecondsTimeout));
        long poll = FirstPollTicks;
        long since = Environment.TickCount64;
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

                self.NoteWait(deadline < 0 ? WaitKind.WaitHandle : WaitKind.WaitHandle | WaitKind.Timed, waitObject, handle == 0 ? "WaitAny/WaitAll" : "WaitOne", since);
                ListFor(handle).Wait(hub, self, left, out object? woke, giveBack: s_giveBack);
                if (woke is Grant)
                {
                    return 0; // a single handle's wait: index 0, signalled
                }

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

    /// <summary>
    /// After <paramref name="handle"/> was signalled, from any thread: its green waiters try again. From a green thread,
    /// with <paramref name="take"/> (the runtime's zero-timeout wait, which any thread may do for an event or semaphore,
    /// never for a mutex, whose owner is the thread that waits), the single-handle waiters first get the signal handed
    /// over, in FIFO order, while <paramref name="take"/> succeeds; <paramref name="giveBack"/> undoes one take. A native
    /// signaller only posts the wake: the hand-off needs the baton, and the signal may be reset before the post runs.
    /// </summary>
    public static void Signalled(nint handle, Func<bool>? take = null, Action? giveBack = null)
    {
        using var entry = Hub.Enter(out var self);
        if (self != null)
        {
            Wake(handle, take, giveBack);
        }
        else
        {
            Hub.Instance.Post(() => Wake(handle, null, null));
        }
    }

    private static void Wake(nint handle, Func<bool>? take, Action? giveBack)
    {
        if (s_waiters.TryGetValue(handle, out var list))
        {
            if (take != null && giveBack != null)
            {
                var grant = new Grant(giveBack);
                while (list.PeekLive() != null && take())
                {
                    if (!list.WakeOne(Hub.Instance, grant))
                    {
                        giveBack(); // every waiter left (timed out or killed) since the peek
                        break;
                    }
                }
            }

            list.WakeAll(Hub.Instance, handle);
        }

        s_anyHandle.WakeAll(Hub.Instance, handle);
    }
}
