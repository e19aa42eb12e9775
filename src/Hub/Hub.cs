using System.Diagnostics;
using Evergreen.Internal;
using Serilog;

namespace Evergreen;

/// <summary>
/// The one hub of the process: run queue, timer heap, poller, and the baton. There is no hub thread:
/// the scheduler runs on whichever green thread holds the baton when it blocks, so waking a thread is one
/// handoff (waker → wakee), not two (waker → hub → wakee). A green thread that blocks with nothing else
/// runnable polls the poller itself; an adopted thread that leaves hands that role to a pooled worker.
/// </summary>
public sealed partial class Hub
{
    private static Hub? s_instance;
    private static readonly object s_createLock = new();

    [ThreadStatic] private static GreenThread? t_current;

    /// <summary>
    /// Starts <paramref name="thread"/> as a native OS thread, never a green one (<see cref="HubPatchSeam.StartNativeThread"/>),
    /// and without the hub's CPU pinning (a tpool worker, an <c>Original("Thread")</c> thread must run in parallel).
    /// </summary>
    internal static void StartNativeThread(Thread thread)
    {
        var saved = CpuAffinity.UnpinCurrent();
        try
        {
            HubPatchSeam.StartNativeThread(thread);
        }
        finally
        {
            CpuAffinity.Restore(saved);
        }
    }

    private readonly IPoller _poller;
    private readonly RunQueue _runq = new();
    private readonly TimerHeap _timers = new();
    private readonly ThreadCeiling _ceiling = new();
    private readonly Stack<Worker> _idleWorkers = new();
    private readonly List<GreenThread> _adopted = new();
    private int _roundLeft;
    private int _alive;            // green threads not yet dead (Interlocked: non-green spawners add)
    private int _osWorkers;        // OS threads created for workers
    private int _externalWaits;    // waits an outside thread will end (tpool, native lock owners)

    private readonly WorkerReserve? _reserve;
    private readonly ThreadStarter _starter;
    private readonly BlockingDetector _detector;
    [ThreadStatic] private static int t_tid;

    // What the blocking detector samples: plain fields written by the baton holder at every handoff (two stores a
    // switch), read racily by the watchdog; a torn view only delays a report by one sample.
    private long _progress;
    private GreenThread? _holder;
    private int _holderTid;
    private volatile bool _polling;

    private Hub(IPoller poller)
    {
        _poller = poller;
        int reserve = WorkerReserve.ConfiguredSize;
        if (reserve > 0) _reserve = new WorkerReserve(this, reserve);
        _detector = new BlockingDetector(this);
        _starter = new ThreadStarter(this);
        if (ScheduleMode.Hooks) RegisterTrace();
    }

    internal long Progress => Volatile.Read(ref _progress);

    internal GreenThread? Holder => Volatile.Read(ref _holder);

    internal int HolderTid => Volatile.Read(ref _holderTid);

    /// <summary>True while a green thread holds the baton outside the poller (what the blocking detector watches).</summary>
    internal bool IsBusy => !_polling && Volatile.Read(ref _inbound) != s_idleMarker && Volatile.Read(ref _alive) > 0;

    /// <summary>
    /// What the hub has that is due but not done, for the watchdog: runnable threads, a timer overdue by more than
    /// <paramref name="overdueTicks"/>, pending posts; null if nothing. Read racily off the baton (counts and the heap's
    /// top are single words; a stale view only shifts a report by one sample), so a caller must see the same answer
    /// while <see cref="Progress"/> stands still before it reports.
    /// </summary>
    internal string? DueWork(long now, long overdueTicks)
    {
        int runnable = _runq.Count;
        long overdue = _timers.Peek() is { } t ? (ScheduleMode.Hooks ? Now : now) - Volatile.Read(ref t.Due) : long.MinValue; // timers keep the hub's (maybe virtual) clock
        var inbound = Volatile.Read(ref _inbound);
        bool posts = inbound != null && inbound != s_idleMarker;
        if (runnable == 0 && overdue <= overdueTicks && !posts) return null;
        var parts = new List<string>(3);
        if (runnable > 0) parts.Add($"{runnable} green threads runnable");
        if (overdue > overdueTicks) parts.Add($"a timer overdue by {overdue * 1000 / Stopwatch.Frequency} ms ({_timers.Count} pending)");
        if (posts) parts.Add("posts from other threads pending");
        return string.Join(", ", parts);
    }

    /// <summary>Who has the baton, as the watchdog sees it (racy, for its report only).</summary>
    internal string BatonState =>
        Volatile.Read(ref _inbound) == s_idleMarker ? "nobody holds the baton (the hub is idle)"
        : _polling ? $"OS thread {HolderTid} holds it, asleep in the poller"
        : Holder is { } g && HolderTid != 0 ? $"green thread {g.Name} (OS thread {HolderTid}) was the last to take it"
        : $"OS thread {HolderTid}, not green, holds it";

    /// <summary>The blocking detector (one per hub; its threshold is <see cref="BlockingDetector.ThresholdMs"/>).</summary>
    internal BlockingDetector Detector => _detector;

    /// <summary>Called by a thread that has just taken the baton to run <paramref name="g"/>.</summary>
    internal void NoteRunning(GreenThread g)
    {
        _holder = g;
        _holderTid = t_tid != 0 ? t_tid : (t_tid = Interop.Libc.gettid());
        _progress++;
    }

    /// <summary>Called by a thread that is not green and has just taken the idle baton to run a post.</summary>
    private void NoteNativeHolder()
    {
        _holder = null;
        _holderTid = t_tid != 0 ? t_tid : (t_tid = Interop.Libc.gettid());
        _progress++;
    }

    /// <summary>
    /// The process's hub, created on first use. Throws <see cref="PlatformNotSupportedException"/> on a
    /// platform without a poller implementation (epoll: Linux only).
    /// </summary>
    public static Hub Instance
    {
        get
        {
            if (s_instance is { } h) return h;
            lock (s_createLock)
            {
                if (s_instance != null) return s_instance;
                var hub = new Hub(CreatePoller());
                s_instance = hub;
                hub._detector.Start();
                RegisterDumpSignal();
                return hub;
            }
        }
    }

    private static IPoller CreatePoller()
    {
        if (OperatingSystem.IsLinux()) return new EpollPoller();
        throw new PlatformNotSupportedException(
            $"The Evergreen hub has a poller for Linux (epoll) only; this platform is {System.Runtime.InteropServices.RuntimeInformation.OSDescription}.");
    }

    /// <summary>The logger the hub reports to (unhandled green-thread exceptions, link failures). Defaults to Serilog's <see cref="Log.Logger"/>.</summary>
    public static ILogger Logger
    {
        get => s_logger ?? Log.Logger;
        set => s_logger = value;
    }

    private static ILogger? s_logger;

    /// <summary>The green thread running on the calling OS thread, or null.</summary>
    internal static GreenThread? CurrentGreen => t_current;

    /// <summary>True when the calling thread is a green thread of the hub.</summary>
    public static bool IsGreenThread => t_current != null;

    /// <summary>Green threads alive (not yet finished), for diagnostics.</summary>
    public int Alive => Volatile.Read(ref _alive);

    /// <summary>OS threads the hub has created to back green threads.</summary>
    public int OsThreads => Volatile.Read(ref _osWorkers);

    // ------------------------------------------------------------------------------------------
    // Entry: run code as a green thread on the calling OS thread
    // ------------------------------------------------------------------------------------------

    /// <summary>
    /// Runs <paramref name="body"/> as a green thread on the calling OS thread and returns its result: the
    /// caller joins the hub for the duration (waiting for the baton if other green threads are running) and
    /// leaves it afterwards. Already on a green thread, it just calls <paramref name="body"/>. This is how a
    /// program or test uses the green API without monkey patching.
    /// </summary>
    public static T Run<T>(Func<T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (t_current != null) return body();
        var hub = Instance;
        var self = hub.Adopt(null);
        try
        {
            return body();
        }
        finally
        {
            hub.Leave(self);
        }
    }

    /// <summary>Runs <paramref name="body"/> as a green thread on the calling OS thread; see <see cref="Run{T}(Func{T})"/>.</summary>
    public static void Run(Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        Run<object?>(() => { body(); return null; });
    }

    /// <summary>
    /// Makes the calling OS thread a green thread for good (the monkey patch does this for <c>Main</c> and
    /// for every patched <c>Thread.Start</c>). Returns once the thread holds the baton.
    /// </summary>
    internal GreenThread Adopt(string? name)
    {
        var self = new GreenThread(this, null, name ?? Thread.CurrentThread.Name) { IsAdopted = true, Started = true, Parker = new Parker() };
        self.SavedAffinity = CpuAffinity.PinCurrent();
        self.SavedContext = SynchronizationContext.Current;
        if (HubPatchSeam.SynchronizationContext is { } context) SynchronizationContext.SetSynchronizationContext(context);
        t_current = self;
        s_byThread.AddOrUpdate(Thread.CurrentThread, self);
        RegisterHost(self, null);
        if (!TryTakeIdleBaton())
        {
            // _alive is counted under the baton, so a green thread blocking meanwhile cannot see an alive
            // thread that is not yet reachable and call it a deadlock.
            Post(() => { Interlocked.Increment(ref _alive); _adopted.Add(self); _runq.PushBack(self); });
            if (ScheduleMode.Hooks) NoteAdoptPosted();
            self.Parker.Park();
            TookBaton();
        }
        else
        {
            Interlocked.Increment(ref _alive);
            _adopted.Add(self);
        }
        NoteRunning(self);
        Volatile.Write(ref self.Lease, LeaseRunning);
        return self;
    }

    /// <summary>Ends an adopted green thread: completes it and gives the baton away without waiting for it back.</summary>
    internal void Leave(GreenThread self)
    {
        Debug.Assert(t_current == self && self.IsAdopted);
        TakeLease(self);
        try
        {
            self.Complete(null);
        }
        finally
        {
            _adopted.Remove(self);
            Interlocked.Decrement(ref _alive);
            if (ScheduleMode.Explorable) NoteEnded(self);
            t_current = null;
            s_byThread.Remove(Thread.CurrentThread);
            UnregisterHost();
            CpuAffinity.Unpin(self.SavedAffinity);
            SynchronizationContext.SetSynchronizationContext(self.SavedContext);
            Guard(() => HandOffLeaving());
        }
    }

    // ------------------------------------------------------------------------------------------
    // Spawning
    // ------------------------------------------------------------------------------------------

    internal GreenThread Spawn(Action action, string? name) => Start(new GreenThread(this, action, name), TimeSpan.Zero);

    internal GreenThread<T> Spawn<T>(Func<T> func, string? name) => (GreenThread<T>)Start(new GreenThread<T>(this, func, name), TimeSpan.Zero);

    internal GreenThread SpawnAfter(TimeSpan delay, Action action, string? name) => Start(new GreenThread(this, action, name), delay);

    /// <summary>
    /// Runs <paramref name="action"/> as a new green thread, from any thread. Off the hub the spawn itself is posted, so
    /// it takes a parked worker under the baton (a spawn from outside would start or take a fresh OS thread each time).
    /// Under the baton (on the green caller, or in the post), <paramref name="defer"/> runs instead of the spawn when
    /// <paramref name="mustDefer"/> says so, and at the OS-thread ceiling: the caller then keeps the action for a green
    /// thread that already has an OS thread. The exception is never passed on: the poster may be a pool thread with
    /// nobody to tell, or a green thread inside the runtime's await machinery.
    /// </summary>
    internal void SpawnFromAnyThread(Action action, Func<bool> mustDefer, Action defer)
    {
        using (Enter(out var self))
        {
            if (self != null)
            {
                SpawnOrDefer(action, mustDefer, defer);
                return;
            }
        }
        Post(() => SpawnOrDefer(action, mustDefer, defer));
    }

    private void SpawnOrDefer(Action action, Func<bool> mustDefer, Action defer)
    {
        if (mustDefer())
        {
            defer();
            return;
        }
        try
        {
            Start(new GreenThread(this, action, null), TimeSpan.Zero, holdsBaton: true);
        }
        catch (GreenThreadLimitException)
        {
            defer();
        }
    }

    internal GreenThread<T> SpawnAfter<T>(TimeSpan delay, Func<T> func, string? name) => (GreenThread<T>)Start(new GreenThread<T>(this, func, name), delay);

    /// <summary><see cref="Start(GreenThread, TimeSpan, bool)"/> from any caller: a green one holds the baton.</summary>
    private GreenThread Start(GreenThread g, TimeSpan delay)
    {
        using var entry = Enter(out var self);
        return Start(g, delay, self != null);
    }

    /// <summary>
    /// Binds <paramref name="g"/> to an OS thread now (a parked worker, or a new one), so that the OS-thread
    /// ceiling surfaces here, at spawn, as <see cref="GreenThreadLimitException"/>; then queues it.
    /// <paramref name="holdsBaton"/>: the caller holds the baton (a green thread, or a posted action), so it may take a
    /// parked worker and queue directly; otherwise both go through a post.
    /// </summary>
    private GreenThread Start(GreenThread g, TimeSpan delay, bool holdsBaton)
    {
        if (delay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(delay), delay, "The delay must not be negative.");
        Worker w = holdsBaton && _idleWorkers.Count > 0 ? _idleWorkers.Pop() : TakeNewWorker();
        w.Job = g;
        g.Worker = w;
        g.Parker = w.Parker;
        if (w.SpareWaitNode is { } node) { g.SpareWaitNode = node; w.SpareWaitNode = null; }
        if (w.SpareWakeTimer is { } timer) { timer.Target = g; g.WakeTimer = timer; w.SpareWakeTimer = null; }
        if (holdsBaton) { Interlocked.Increment(ref _alive); Schedule(g, delay); }
        else PostSchedule(g, delay);
        return g;
    }

    // Its own method: a lambda capturing Start's parameters made the compiler allocate its closure at Start's entry,
    // on every green spawn too (40 B a spawn).
    private void PostSchedule(GreenThread g, TimeSpan delay) => Post(() => { Interlocked.Increment(ref _alive); Schedule(g, delay); });

    private void Schedule(GreenThread g, TimeSpan delay)
    {
        if (delay == TimeSpan.Zero) { _runq.PushBack(g); return; }
        var t = new StartTimer(g) { Due = Now + ToTicks(delay) };
        g.StartTimer = t;
        _timers.Add(t);
    }

    /// <summary>
    /// Runs <paramref name="start"/> — the runtime's start of an OS thread — on a native thread off the hub while the
    /// calling green thread waits greenly, and rethrows its exception; <paramref name="failed"/> runs under the baton if it
    /// threw (see <see cref="ThreadStarter"/>).
    /// </summary>
    internal void StartOffHub(Action start, Action failed)
    {
        using var entry = EnterGreen("Thread.Start", out var self);
        _starter.Run(self, start, failed);
    }

    /// <summary>A worker that is not in the idle stack: a pre-started one from the reserve, else a new OS thread.</summary>
    internal Worker TakeNewWorker() => _reserve?.TryTake() ?? CreateWorker();

    /// <summary>Starts an OS thread for a worker (any thread; the reserve's filler calls it natively).</summary>
    internal Worker CreateWorker()
    {
        _ceiling.BeforeCreate(Volatile.Read(ref _osWorkers));
        var w = new Worker();
        // The runtime's default stack size (1.5 MB, or DOTNET_DefaultStackSize), not a small one: a worker runs user code
        // that plain .NET runs on a pool thread (await continuations, Green.Spawn bodies), so it must recurse as deep as a
        // pool thread does. With 256 KB a continuation 2,000 frames deep overflowed (diff-p3-deep-recursion-after-await).
        // Only the pages touched are committed, so an idle worker costs no more memory.
        var t = new Thread(() => w.Main(this)) { IsBackground = true, Name = "evergreen-worker" };
        w.OsThread = t;
        // A worker serves every green thread in turn, so it starts in the default ExecutionContext: Thread.Start would
        // give it its creator's AsyncLocals for good (Worker.Main returns to that context after each job).
        bool suppress = !ExecutionContext.IsFlowSuppressed();
        var flow = suppress ? ExecutionContext.SuppressFlow() : default;
        try
        {
            HubPatchSeam.StartNativeThread(t);
        }
        catch (Exception ex) when (ex is OutOfMemoryException or ThreadStartException)
        {
            throw new GreenThreadLimitException(
                $"The runtime could not start another OS thread for a green thread ({_osWorkers} alive): {ex.Message}. " +
                "Raise vm.max_map_count / kernel.pid_max / kernel.threads-max, or keep fewer green threads alive at once.", _osWorkers, ex);
        }
        finally
        {
            if (suppress) flow.Undo();
        }
        Interlocked.Increment(ref _osWorkers);
        return w;
    }

    /// <summary>
    /// A duration in Stopwatch ticks, saturated at a quarter of long's range (73 years at 1 GHz) so that every
    /// <c>Now + ToTicks(d)</c> deadline stays in the future: unsaturated, TimeSpan.MaxValue overflowed into the past and
    /// Green.Sleep or Event.Wait with it returned at once.
    /// </summary>
    internal static long ToTicks(TimeSpan t) => (long)Math.Min(t.Ticks * (Stopwatch.Frequency / (double)TimeSpan.TicksPerSecond), MaxDurationTicks);

    private const long MaxDurationTicks = long.MaxValue / 4;
}
