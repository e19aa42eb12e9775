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

    // Every thread started through the patched Thread.Start: green ones with their end event, the others (started on
    // the pool, a native thread, after ConfigureAwait(false)) with none. Weak: a running thread is rooted by the runtime,
    // so only ended ones drop out. Both tables lock internally; native starters add concurrently.
    private static readonly ConditionalWeakTable<Thread, Event> s_done = new();
    private static readonly ConditionalWeakTable<Thread, object?> s_native = new();

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
        var done = new Event();
        s_done.AddOrUpdate(thread, done);
        var hub = Hub.Instance;
        ThreadStart wrapper = () =>
        {
            object? arg = s_startArg.GetValue(helper);
            var self = hub.Adopt(thread.Name);
            try
            {
                hub.EndExternalWait(); // begun by the starter: this thread is reachable by the hub now
                if (body is ThreadStart ts) ts();
                else ((ParameterizedThreadStart)body)(arg);
            }
            finally
            {
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
        s_done.Remove(thread);
    }

    /// <summary>Remembers a thread the patched Thread.Start started natively (off the hub), for the exit rule.</summary>
    public static void StartedNative(Thread thread) => s_native.AddOrUpdate(thread, null);

    /// <summary>The end event of a thread started green, or null if it was not.</summary>
    public static Event? DoneEvent(Thread thread) => s_done.TryGetValue(thread, out var e) ? e : null;

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
        foreach (var (thread, done) in (IEnumerable<KeyValuePair<Thread, Event>>)s_done)
            if (thread != self && !done.Ready && IsAliveForeground(thread, knownAlive: true)) return thread;
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
