using System.Reflection;
using System.Runtime.CompilerServices;

namespace Evergreen.Patching.Internal;

/// <summary>
/// Turns an ordinary <see cref="Thread"/> into a green thread when it starts: the real Thread object keeps its
/// identity, name, <see cref="Thread.IsBackground"/> and ThreadStatics, but its body runs only while it holds
/// the hub's baton. Used by the monkey patch's Thread.Start; also tracks foreground green threads so the
/// patched program ends when the last one does.
/// </summary>
internal static class GreenThreadStart
{
    private static readonly FieldInfo s_startHelper = typeof(Thread).GetField("_startHelper", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new PlatformNotSupportedException("System.Threading.Thread._startHelper not found: this runtime's Thread layout is not the one Evergreen knows (.NET 10).");
    private static readonly FieldInfo s_start = s_startHelper.FieldType.GetField("_start", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new PlatformNotSupportedException("Thread.StartHelper._start not found (.NET 10 layout expected).");
    private static readonly FieldInfo s_startArg = s_startHelper.FieldType.GetField("_startArg", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new PlatformNotSupportedException("Thread.StartHelper._startArg not found (.NET 10 layout expected).");

    private static readonly ConditionalWeakTable<Thread, Event> s_done = new();
    private static readonly List<Event> s_foreground = new(); // under the baton

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
        bool foreground = !thread.IsBackground;
        if (foreground) s_foreground.Add(done);
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
                if (foreground) s_foreground.Remove(done);
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
        if (s_done.TryGetValue(thread, out var done)) { s_foreground.Remove(done); s_done.Remove(thread); }
    }

    /// <summary>The end event of a thread started green, or null if it was not.</summary>
    public static Event? DoneEvent(Thread thread) => s_done.TryGetValue(thread, out var e) ? e : null;

    /// <summary>Waits greenly until every foreground green thread has ended (the patched program's exit rule).</summary>
    public static void WaitForForeground()
    {
        while (s_foreground.Count > 0) s_foreground[0].Wait();
    }
}
