using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Evergreen.Internal;

namespace Evergreen;

public sealed partial class Hub
{
    // ------------------------------------------------------------------------------------------
    // What the thread dump and the deadlock check need from the hub (issue 12)
    // ------------------------------------------------------------------------------------------

    /// <summary>An OS thread that backs green threads: an adopted thread (its one green thread) or a worker (one job at a time).</summary>
    internal sealed class GreenHost(Thread thread, int osThreadId, GreenThread? adopted, Worker? worker)
    {
        public readonly Thread Thread = thread;
        public readonly int OsThreadId = osThreadId;
        public readonly GreenThread? Adopted = adopted;
        public readonly Worker? Worker = worker;

        /// <summary>The green thread it runs now, or the one bound to it and not yet started (a worker's job).</summary>
        public GreenThread? Current => Adopted ?? Worker?.Running ?? Worker?.Job;
    }

    // Every OS thread that backs green threads, by managed thread id (a Monitor's owner) and by OS thread id (a Lock's
    // owner). Written once per OS thread — a worker when it starts, an adopted thread when it joins and leaves the hub —
    // never per spawn or per switch; read by the deadlock check under the baton and by the dump from any thread.
    private static readonly ConcurrentDictionary<int, GreenHost> s_hostsByManagedId = new();
    private static readonly ConcurrentDictionary<int, GreenHost> s_hostsByOsId = new();

    /// <summary>Registers the calling OS thread as a host of <paramref name="adopted"/> or of <paramref name="worker"/>'s jobs.</summary>
    internal static GreenHost RegisterHost(GreenThread? adopted, Worker? worker)
    {
        var host = new GreenHost(Thread.CurrentThread, Interop.Libc.gettid(), adopted, worker);
        adopted?.Host = host;
        s_hostsByManagedId[Environment.CurrentManagedThreadId] = host;
        s_hostsByOsId[host.OsThreadId] = host;
        return host;
    }

    /// <summary>The calling adopted thread leaves the hub.</summary>
    internal static void UnregisterHost()
    {
        if (s_hostsByManagedId.TryRemove(Environment.CurrentManagedThreadId, out var host))
            s_hostsByOsId.TryRemove(host.OsThreadId, out _);
    }

    /// <summary>The green thread running on the OS thread with this managed (or, with <paramref name="os"/>, OS) thread id, or null.</summary>
    internal static GreenThread? GreenOnThread(int id, bool os) =>
        (os ? s_hostsByOsId : s_hostsByManagedId).TryGetValue(id, out var host) ? host.Current : null;

    /// <summary>The host of <paramref name="g"/>, if it has one now (not for a thread not yet bound or already ended).</summary>
    internal static GreenHost? HostOf(GreenThread g) => g.Host is { } host && host.Current == g ? host : null;

    /// <summary>The green thread of an adopted <see cref="Thread"/> (what a patched Thread.Join waits for), or null.</summary>
    internal static GreenThread? GreenOf(Thread thread) => s_byThread.TryGetValue(thread, out var g) ? g : null;

    /// <summary>Every green thread alive now (started or bound to a worker), ordered by id. Safe from any thread.</summary>
    internal static List<GreenThread> AllGreenThreads()
    {
        var all = new HashSet<GreenThread>();
        foreach (var host in s_hostsByManagedId.Values)
            if (host.Current is { IsDead: false } g) all.Add(g);
        return [.. all.OrderBy(g => g.Id)];
    }

    /// <summary>True while <paramref name="g"/> holds the baton and runs green code (racy off the baton).</summary>
    internal bool IsRunning(GreenThread g) =>
        !g.Blocked && (t_current == g || (Holder == g && !_polling && Volatile.Read(ref _inbound) != s_idleMarker));

    /// <summary>The thread dump for a "would block forever" report: who waits on what (under the baton).</summary>
    private static string BlockedForeverDump() => "\n" + ThreadDump.Format(racy: false, "every green thread waits and nothing can wake one");

    // ------------------------------------------------------------------------------------------
    // The dump signal
    // ------------------------------------------------------------------------------------------

    private static PosixSignalRegistration? s_dumpSignal;

    /// <summary>
    /// Prints the green-thread dump to standard error on <c>EVERGREEN_DUMP_SIGNAL</c> (default SIGQUIT, as Go and the JVM
    /// do; <c>none</c> turns it off; a number picks another signal). .NET lets a program register SIGQUIT
    /// (<see cref="PosixSignal.SIGQUIT"/>); cancelling it keeps the runtime's default action, a core dump, from ending the
    /// process. Called once, when the hub is created.
    /// </summary>
    private static void RegisterDumpSignal()
    {
        string? setting = Environment.GetEnvironmentVariable("EVERGREEN_DUMP_SIGNAL");
        PosixSignal signal = PosixSignal.SIGQUIT;
        if (string.Equals(setting, "none", StringComparison.OrdinalIgnoreCase) || setting == "0") return;
        if (int.TryParse(setting, out int raw) && raw > 0) signal = (PosixSignal)raw; // a raw number, as PosixSignal allows on Unix
        try
        {
            s_dumpSignal = PosixSignalRegistration.Create(signal, static context =>
            {
                context.Cancel = true;
                // The handler runs on a runtime thread, not under the baton: it reads the hub's state racily (see
                // ThreadDump) rather than posting to the hub, because the dump matters most when the hub cannot run a
                // post — a green thread blocked natively while it holds the baton, or every thread waiting forever.
                var text = ThreadDump.Format(racy: true, "signal " + context.Signal);
                Console.Error.Write(text);
                Console.Error.Flush();
            });
        }
        catch (Exception e) when (e is PlatformNotSupportedException or IOException or ArgumentOutOfRangeException)
        {
            Logger.Warning(e, "The green-thread dump signal {Signal} could not be registered", signal);
        }
    }
}
