namespace Evergreen.Internal;

/// <summary>
/// Green waiting for kernel-style wait handles (<see cref="EventWaitHandle"/>, <see cref="Semaphore"/>,
/// <see cref="Mutex"/>): where a native thread would block in the runtime's wait, a green thread tries the wait with a
/// zero timeout — the runtime keeps every semantic: auto-reset consumption, semaphore counts, mutex ownership by this OS
/// thread, abandonment — and between tries parks on the hub. A patched Set/Release/ReleaseMutex of the handle wakes it
/// at once; a signal the patch cannot see (another process, the runtime's own release of an abandoned mutex) is found by
/// the next try, at most <see cref="MaxPollTicks"/> later.
/// </summary>
/// <remarks>
/// <para>A signal also belongs to the threads already blocked on the handle, as in the runtime (a Set at once followed
/// by Reset releases every waiter of a ManualResetEvent; the signaller's own WaitOne(0) cannot take an AutoResetEvent's
/// signal back from a blocked waiter). So every green waiter, while it waits, is on the handle's <em>registry</em>
/// queue (a multi-handle waiter on the queue of each of its handles) with its own zero-timeout try; the signaller,
/// whatever its thread, runs those tries for the queued waiters in FIFO order before its Set/Release returns and
/// records each success as the waiter's grant, then wakes them. Any thread may make that try for an event or a
/// semaphore; a waiter with a mutex among its handles is queued without a try (the try would make the signaller the
/// owner) and only woken to try for itself.</para>
/// <para>The registry is guarded by its own spin lock, not by the baton, so that a signaller that is not green (the
/// thread pool, a finalizer, a timer callback, the hub's own machinery) hands over without waiting for the hub: it holds
/// the lock only for the zero-timeout tries and never blocks under it, so no thread can deadlock on it. A waiter makes
/// its own tries under the same lock and joins the queue in the same critical section as its failed try, so a signal
/// is either seen by that try or handed over by the signaller, never lost between them.</para>
/// <para>A grant is settled by the waiter under the lock: returned as the wait's result when it wakes (or when its
/// timeout fires at the same moment), given back through the waiter's give-back (Set/Release again, which hands it to the
/// next waiter) when the wait ends by an exception — Thread.Interrupt delivered before the signaller's wake, a kill, a
/// GreenTimeout scope.</para>
/// </remarks>
internal static class GreenHandleWait
{
    /// <summary>WAIT_TIMEOUT of the runtime's wait functions.</summary>
    public const int WaitTimeout = 0x102;

    // Where waiters park: touched only under the baton (a signal from another thread posts its wake to the hub).
    // Multi-handle waiters park on s_anyHandle, which a signal of any handle with a queued waiter wakes.
    private static readonly Dictionary<nint, WaitList> s_parked = new();
    private static readonly WaitList s_anyHandle = new();
    private static int s_waiting;

    // Who waits for what, in FIFO order per handle: any thread, under s_registryLock only.
    private static readonly Dictionary<nint, List<Waiter>> s_registry = new();
    private static int s_registryLock;

    // Set while this thread holds s_registryLock. A try runs the runtime's wait, which hands the wait to the calling
    // thread's SynchronizationContext when that asks for wait notification (none of ours does): user code there that
    // signals a handle must not spin on the lock its own thread holds.
    [ThreadStatic]
    private static bool t_inRegistry;

    private static readonly long MaxPollTicks = Hub.ToTicks(TimeSpan.FromMilliseconds(50));
    private static readonly long FirstPollTicks = Hub.ToTicks(TimeSpan.FromMilliseconds(1));

    /// <summary>One blocked wait on the registry.</summary>
    private abstract class Waiter
    {
        /// <summary>The handle of a single-handle wait (<see cref="Handles"/> null).</summary>
        public nint Handle;

        /// <summary>The handles of a WaitAny/WaitAll, or null.</summary>
        public nint[]? Handles;

        /// <summary>A WaitAll: its try failing says nothing about one handle, so a signaller goes on to the next waiter.</summary>
        public bool WaitAll;

        /// <summary>Whether a signaller may make this waiter's try for it (not with a mutex, nor after the try threw).</summary>
        public bool Takeable;

        /// <summary>The waiting green thread, if Thread.Interrupt ends its wait (null: an uninterruptible wait).</summary>
        public GreenThread? InterruptibleOwner;

        /// <summary>What a signaller's try returned for this waiter, or <see cref="WaitTimeout"/>: none yet.</summary>
        public int Granted = WaitTimeout;

        /// <summary>The runtime's wait with a zero timeout: the index signalled (0 for WaitOne/WaitAll) or <see cref="WaitTimeout"/>.</summary>
        public abstract int Try();

        /// <summary>Undoes a successful <see cref="Try"/> that returned <paramref name="result"/>.</summary>
        public abstract void GiveBack(int result);
    }

    private sealed class Waiter<TState>(TState state, Func<TState, int> tryWait, Action<TState, int>? giveBack) : Waiter
    {
        public override int Try() => tryWait(state);

        public override void GiveBack(int result) => giveBack!(state, result);
    }

    /// <summary>True when a green thread waits for some handle, i.e. a signal must wake it (read lock-free by every signal).</summary>
    public static bool AnyWaiters => Volatile.Read(ref s_waiting) > 0;

    /// <summary>
    /// A wait for one handle: runs <paramref name="tryWait"/> (the runtime's wait with a zero timeout; 0 once signalled)
    /// until it returns something other than <see cref="WaitTimeout"/> or a signaller hands the signal over, or until
    /// <paramref name="millisecondsTimeout"/> passes (-1: never), parking greenly in between. <paramref name="giveBack"/>
    /// undoes one successful try (null: a signaller must not try for this waiter — a mutex). Thread.Interrupt ends it only
    /// if <paramref name="interruptible"/> (the runtime's trivial waits are not). <paramref name="waitObject"/> is what the
    /// thread dump names.
    /// </summary>
    public static int WaitOne<TState>(nint handle, int millisecondsTimeout, bool interruptible, TState state, Func<TState, int> tryWait,
        Action<TState, int>? giveBack, object? waitObject = null) =>
        Wait(new Waiter<TState>(state, tryWait, giveBack) { Handle = handle, Takeable = giveBack != null }, millisecondsTimeout, interruptible, waitObject);

    /// <summary>
    /// <see cref="WaitOne"/> for a WaitAny or (<paramref name="waitAll"/>) WaitAll of <paramref name="handles"/>:
    /// <paramref name="tryWait"/> returns the index signalled (WaitAny) or 0 (WaitAll).
    /// </summary>
    public static int WaitMultiple<TState>(nint[] handles, bool waitAll, int millisecondsTimeout, TState state, Func<TState, int> tryWait,
        Action<TState, int>? giveBack, object? waitObject = null) =>
        Wait(new Waiter<TState>(state, tryWait, giveBack) { Handles = handles, WaitAll = waitAll, Takeable = giveBack != null },
            millisecondsTimeout, interruptible: true, waitObject);

    private static int Wait(Waiter waiter, int millisecondsTimeout, bool interruptible, object? waitObject)
    {
        var hub = Hub.Instance;
        using var entry = hub.EnterGreen("WaitHandle.WaitOne", out var self);
        long deadline = millisecondsTimeout < 0 ? -1 : Hub.Now + Hub.ToTicks(TimeSpan.FromMilliseconds(millisecondsTimeout));
        long poll = FirstPollTicks;
        long since = Environment.TickCount64;
        // Counted BEFORE the first try: a signaller that read no waiters signalled before it, so the try sees the signal.
        Interlocked.Increment(ref s_waiting);
        hub.BeginExternalWait(); // the signaller may be a native thread the hub cannot see
        if (!interruptible) self.NoInterrupt++;
        else waiter.InterruptibleOwner = self;
        bool queued = false; // on the registry, or granted and not yet settled
        try
        {
            while (true)
            {
                int result = TryOrQueue(waiter, ref queued);
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
                        return Leave(waiter, ref queued); // a grant made as the time ran out is the wait's result
                    }

                    left = Math.Min(left, remaining);
                }

                self.NoteWait(deadline < 0 ? WaitKind.WaitHandle : WaitKind.WaitHandle | WaitKind.Timed, waitObject,
                    waiter.Handles == null ? "WaitOne" : "WaitAny/WaitAll", since);
                ParkingFor(waiter).Wait(hub, self, left, out _);
                poll = Math.Min(poll * 2, MaxPollTicks);
            }
        }
        finally
        {
            if (queued)
            {
                // Leaving by an exception: a signal handed over meanwhile goes back to the handle (and its next waiter).
                int granted = Leave(waiter, ref queued);
                if (granted != WaitTimeout)
                {
                    waiter.GiveBack(granted);
                }
            }

            if (!interruptible) self.NoInterrupt--;
            hub.EndExternalWait();
            Interlocked.Decrement(ref s_waiting);
            if (waiter.Handles == null && s_parked.TryGetValue(waiter.Handle, out var list) && list.Count == 0)
            {
                s_parked.Remove(waiter.Handle);
            }
        }
    }

    /// <summary>
    /// Under the registry lock: the grant a signaller made, else the waiter's own try; on failure the waiter stays (or
    /// is put) on the queues of its handles, in the same critical section, so no signal falls between try and queue.
    /// </summary>
    private static int TryOrQueue(Waiter waiter, ref bool queued)
    {
        EnterRegistry();
        try
        {
            if (waiter.Granted != WaitTimeout)
            {
                queued = false; // the signaller took it off the queues
                return waiter.Granted;
            }

            int result = waiter.Try();
            if (result != WaitTimeout)
            {
                if (queued) Dequeue(waiter);
                queued = false;
                return result;
            }

            if (!queued)
            {
                Enqueue(waiter);
                queued = true;
            }

            return WaitTimeout;
        }
        finally
        {
            ExitRegistry();
        }
    }

    /// <summary>Takes the waiter off the registry: returns its grant, or <see cref="WaitTimeout"/> if it had none.</summary>
    private static int Leave(Waiter waiter, ref bool queued)
    {
        if (!queued) return WaitTimeout;
        EnterRegistry();
        try
        {
            queued = false;
            if (waiter.Granted != WaitTimeout) return waiter.Granted;
            Dequeue(waiter);
            return WaitTimeout;
        }
        finally
        {
            ExitRegistry();
        }
    }

    private static WaitList ParkingFor(Waiter waiter)
    {
        if (waiter.Handles != null)
        {
            return s_anyHandle;
        }

        if (!s_parked.TryGetValue(waiter.Handle, out var list))
        {
            list = new WaitList();
            s_parked[waiter.Handle] = list;
        }

        return list;
    }

    /// <summary>
    /// After <paramref name="handle"/> was signalled, from any thread: hands the signal to the green waiters queued on it
    /// (FIFO, while their tries succeed; a WaitAll whose other handles are not ready is passed over), then wakes them —
    /// directly from a green thread, by a post to the hub from any other. Nothing to do if no green thread waits for it.
    /// </summary>
    public static void Signalled(nint handle)
    {
        using var entry = Hub.Enter(out var self);
        // Signalled from inside a try (see t_inRegistry): no hand-over, the waiters are only woken to try again.
        if (!t_inRegistry && !HandOver(handle))
        {
            return;
        }

        if (self != null)
        {
            Wake(handle);
        }
        else
        {
            Hub.Instance.Post(() => Wake(handle));
        }
    }

    /// <summary>Under the registry lock, grants the signal of <paramref name="handle"/>; false if nobody is queued on it.</summary>
    private static bool HandOver(nint handle)
    {
        bool interrupted = false;
        EnterRegistry();
        try
        {
            if (!s_registry.TryGetValue(handle, out var queue))
            {
                return false;
            }

            for (int i = 0; i < queue.Count;)
            {
                var waiter = queue[i];
                // An interrupt given before this signal ends that wait first (plain .NET's order): not handed to it.
                if (!waiter.Takeable || waiter.InterruptibleOwner is { InterruptComing: true })
                {
                    i++;
                    continue;
                }

                int result;
                try
                {
                    result = waiter.Try();
                }
                catch (ThreadInterruptedException)
                {
                    // The try is the runtime's alertable wait, made on the signaller's thread: an interrupt pending there
                    // is the signaller's, for its own next wait. Keep it pending; the waiters left try for themselves.
                    interrupted = true;
                    break;
                }
                catch (Exception)
                {
                    waiter.Takeable = false; // its own try will meet the error, on its own thread
                    i++;
                    continue;
                }

                if (result == WaitTimeout)
                {
                    if (waiter.WaitAll)
                    {
                        i++;
                        continue;
                    }

                    break; // this try needed only the handle: it is not signalled any more
                }

                waiter.Granted = result;
                Dequeue(waiter); // also from this queue, at i
            }

            return true;
        }
        finally
        {
            ExitRegistry();
            if (interrupted) Thread.CurrentThread.Interrupt();
        }
    }

    private static void Enqueue(Waiter waiter)
    {
        if (waiter.Handles == null)
        {
            QueueOf(waiter.Handle).Add(waiter);
            return;
        }

        foreach (var handle in waiter.Handles)
        {
            var queue = QueueOf(handle);
            if (!queue.Contains(waiter)) queue.Add(waiter); // a handle named twice is queued once
        }
    }

    private static List<Waiter> QueueOf(nint handle)
    {
        if (!s_registry.TryGetValue(handle, out var queue))
        {
            queue = new List<Waiter>();
            s_registry[handle] = queue;
        }

        return queue;
    }

    private static void Dequeue(Waiter waiter)
    {
        if (waiter.Handles == null)
        {
            DequeueFrom(waiter.Handle, waiter);
            return;
        }

        foreach (var handle in waiter.Handles)
        {
            DequeueFrom(handle, waiter);
        }
    }

    private static void DequeueFrom(nint handle, Waiter waiter)
    {
        if (s_registry.TryGetValue(handle, out var queue) && queue.Remove(waiter) && queue.Count == 0)
        {
            s_registry.Remove(handle);
        }
    }

    /// <summary>
    /// A CAS and sched_yield, not <c>lock</c>, <see cref="System.Threading.Lock"/> or <see cref="SpinWait"/>: those are
    /// patched, and a signaller may be any thread, inside the hub's own machinery included. Held only for zero-timeout
    /// tries and list updates, never across a park.
    /// </summary>
    private static void EnterRegistry()
    {
        while (Interlocked.CompareExchange(ref s_registryLock, 1, 0) != 0)
        {
            Interop.Libc.SchedYield();
        }

        t_inRegistry = true;
    }

    private static void ExitRegistry()
    {
        t_inRegistry = false;
        Volatile.Write(ref s_registryLock, 0);
    }

    private static void Wake(nint handle)
    {
        // The value only ends the park: what the waiter got is settled under the registry lock when it runs. A wake
        // with a value also keeps an interrupt that comes after it for the thread's next wait, as after the runtime's
        // own release of a blocked waiter.
        if (s_parked.TryGetValue(handle, out var list))
        {
            list.WakeAll(Hub.Instance, handle);
        }

        s_anyHandle.WakeAll(Hub.Instance, handle);
    }
}
