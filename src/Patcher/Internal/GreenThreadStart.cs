using System.Reflection;
using System.Runtime.CompilerServices;

namespace Evergreen.Patching.Internal;

/// <summary>
/// Turns an ordinary <see cref="Thread"/> into a green thread when it starts: the real Thread object keeps its
/// identity, name, <see cref="Thread.IsBackground"/> and ThreadStatics, but its body runs only while it holds
/// the hub's baton. Used by the monkey patch's Thread.Start; also remembers every thread started through it, green or
/// not, so the patched program ends when its last foreground thread does (<see cref="WaitForForeground"/>).
/// </summary>
internal static class GreenThreadStart
{
    private static readonly FieldInfo s_startHelper = typeof(Thread).GetField("_startHelper", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new PlatformNotSupportedException("System.Threading.Thread._startHelper not found: this runtime's Thread layout is not the one Evergreen knows (.NET 10).");
    private static readonly FieldInfo s_start = s_startHelper.FieldType.GetField("_start", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new PlatformNotSupportedException("Thread.StartHelper._start not found (.NET 10 layout expected).");
    private static readonly FieldInfo s_startArg = s_startHelper.FieldType.GetField("_startArg", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new PlatformNotSupportedException("Thread.StartHelper._startArg not found (.NET 10 layout expected).");

    // Every thread started through the patched Thread.Start: green ones with their end event and an interrupt that came
    // before they joined the hub, the others (started on the pool, a native thread, after ConfigureAwait(false)) with
    // none. Weak: a running thread is rooted by the runtime, so only ended ones drop out. The tables lock internally;
    // native starters add concurrently. Threads interrupted before Start wait in s_interruptedUnstarted.
    private static readonly ConditionalWeakTable<Thread, StartState> s_started = new();
    private static readonly ConditionalWeakTable<Thread, object?> s_native = new();
    private static readonly ConditionalWeakTable<Thread, object> s_interruptedUnstarted = new();

    /// <summary>
    /// How often <see cref="WaitForForeground"/> re-reads <see cref="Thread.IsBackground"/> of the thread it waits for:
    /// how late the exit notices a thread that made itself background while running (plain .NET: at once).
    /// </summary>
    private const int ForegroundRecheckMs = 100;

    /// <summary>
    /// Rewrites <paramref name="thread"/>'s start delegate so that, once the OS thread runs, it joins the hub as a
    /// green thread, runs the original body, and leaves. Call before the original Start.
    /// </summary>
    public static void Prepare(Thread thread)
    {
        var helper = s_startHelper.GetValue(thread) ?? throw new ThreadStateException("Thread has no start delegate (already started?).");
        var body = (Delegate)s_start.GetValue(helper)!;
        var state = new StartState { InterruptBeforeAdopt = TakeUnstartedInterrupt(thread) ? 1 : 0 };
        var done = state.Done;
        s_started.AddOrUpdate(thread, state);
        var hub = Hub.Instance;
        ThreadStart wrapper = () =>
        {
            object? arg = s_startArg.GetValue(helper);
            var self = hub.Adopt(thread.Name);
            try
            {
                hub.EndExternalWait(); // begun by the starter: this thread is reachable by the hub now
                if (Interlocked.Exchange(ref state.InterruptBeforeAdopt, 0) == 1) Hub.TryInterrupt(thread);
                if (body is ThreadStart ts) ts();
                else ((ParameterizedThreadStart)body)(arg);
            }
            catch (Exception ex) when (Hub.ObserveUnhandled(ex))
            {
                // An exploration run took it (ScheduleExplorer): the thread ends instead of the process.
            }
            finally
            {
                Hub.SuppressSchedulePoints(); // leaving the hub is not the program's (this OS thread ends next)
                done.Send();
                hub.Leave(self);
            }
        };
        s_start.SetValue(helper, wrapper);
        // Until the new thread has posted itself to the hub, the hub must not conclude that nothing can wake anyone.
        hub.BeginExternalWait();
    }

    /// <summary>Undoes the external-wait mark of <see cref="Prepare"/> when the original Start failed.</summary>
    public static void StartFailed(Thread thread)
    {
        Hub.Instance.EndExternalWait();
        s_started.Remove(thread);
    }

    /// <summary>Remembers a thread the patched Thread.Start started natively (off the hub), for the exit rule.</summary>
    public static void StartedNative(Thread thread) => s_native.AddOrUpdate(thread, null);

    /// <summary>The end event of a thread started green, or null if it was not.</summary>
    public static Event? DoneEvent(Thread thread) => s_started.TryGetValue(thread, out var state) ? state.Done : null;

    /// <summary>
    /// Thread.Interrupt of a thread started green (any caller): delivered by the hub once the thread has joined it; until
    /// then kept here and handed over by the thread itself right after it joins (whichever side sees the request last
    /// delivers it, exactly once). False if <paramref name="thread"/> was not started green.
    /// </summary>
    public static bool TryInterrupt(Thread thread)
    {
        if (Hub.TryInterrupt(thread)) return true;
        if (!s_started.TryGetValue(thread, out var state))
        {
            // Not started yet: whether it runs green is decided at Start (TakeUnstartedInterrupt).
            if ((thread.ThreadState & ThreadState.Unstarted) == 0) return false;
            s_interruptedUnstarted.AddOrUpdate(thread, thread);
            return true;
        }
        Interlocked.Exchange(ref state.InterruptBeforeAdopt, 1);
        // It may have joined the hub between the two looks and already checked for a request: then deliver it here.
        if (Hub.IsAdoptedThread(thread) && Interlocked.Exchange(ref state.InterruptBeforeAdopt, 0) == 1) Hub.TryInterrupt(thread);
        return true;
    }

    /// <summary>True (once) if <paramref name="thread"/> was interrupted before it started; a native start then hands it to the runtime.</summary>
    public static bool TakeUnstartedInterrupt(Thread thread) => s_interruptedUnstarted.Remove(thread);

    private sealed class StartState
    {
        public readonly Event Done = new();
        public int InterruptBeforeAdopt; // 1: Thread.Interrupt came before the thread joined the hub (Interlocked)
    }

    /// <summary>
    /// Waits greenly until no thread started through the patched Thread.Start — green or native, whoever started it — is
    /// alive and foreground: the patched program's exit rule, the one CoreCLR applies after Main returns.
    /// A native thread is joined on a tpool thread (the patched Join), so the hub keeps running meanwhile.
    /// </summary>
    public static void WaitForForeground()
    {
        var self = Thread.CurrentThread;
        while (NextForeground(self) is { } thread) thread.Join(ForegroundRecheckMs);
    }

    private static Thread? NextForeground(Thread self)
    {
        foreach (var (thread, state) in (IEnumerable<KeyValuePair<Thread, StartState>>)s_started)
            if (thread != self && !state.Done.Ready && IsAliveForeground(thread, knownAlive: true)) return thread;
        foreach (var (thread, _) in (IEnumerable<KeyValuePair<Thread, object?>>)s_native)
            if (thread != self && IsAliveForeground(thread)) return thread;
        return null;
    }

    /// <summary>
    /// Alive (unless <paramref name="knownAlive"/>) and not background; false for a thread that ended meanwhile, whose
    /// state can no longer be read (IsAlive and IsBackground then throw ThreadStateException: seen in wakes-torture).
    /// </summary>
    private static bool IsAliveForeground(Thread thread, bool knownAlive = false)
    {
        try
        {
            return (knownAlive || thread.IsAlive) && !thread.IsBackground;
        }
        catch (ThreadStateException)
        {
            return false;
        }
    }
}
