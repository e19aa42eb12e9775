using System.Diagnostics;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Evergreen.Detours;
using Evergreen.Internal;
using Evergreen.Patching.Internal;

namespace Evergreen.Patching;

/// <summary>
/// The monkey patch: one line at the top of <c>Main</c> turns <see cref="Thread"/>, <see cref="Thread.Sleep(int)"/>,
/// <c>lock</c>/<see cref="Monitor"/> and <see cref="System.Net.Sockets.Socket"/> into cooperative green code on one hub.
/// </summary>
/// <remarks>
/// <para><b>What the call does.</b> It detours the chosen areas' BCL methods onto green replacements, makes the calling
/// (entry) thread a green thread, and then <b>runs your entry point again on it</b>: the nested call of
/// <c>MonkeyPatch</c> returns at once and your <c>Main</c> continues, green. When that <c>Main</c> returns, the
/// patcher waits (greenly) for every foreground thread started since the patch, green or native, and ends the process
/// with <c>Main</c>'s exit code (<c>async Main</c>: its compiler-made entry point waits for the Task, greenly).
/// The re-entry is how the patched program can end when its last foreground thread does: CoreCLR waits for
/// foreground threads in native code after <c>Main</c> returns, where a green main thread would hold the baton
/// forever. So nothing may come before the call in <c>Main</c>.</para>
/// <para><b>Defaults.</b> Every area defaults to patched; pass <c>false</c> to leave one alone
/// (<c>MonkeyPatch(os: false)</c>). This differs from eventlet, where naming any area as true means "only those".</para>
/// <para><b>Switches.</b> <c>EVERGREEN_NO_PATCH=1</c> makes the call a logged no-op (the same binary runs unpatched).
/// With a debugger attached, or <c>EVERGREEN_DEBUG=1</c>, the "thread" area is left unpatched and a warning logged
/// (nova's <c>monkey_patch(thread=False)</c> under a debugger); the other areas still apply.</para>
/// <para><b>Late patching is refused</b> with <see cref="LatePatchException"/>: off the entry thread; a second call
/// with different options (the same options: a no-op); after the program started threads of its own or opened
/// TCP/UDP sockets (see README, "What counts as late").</para>
/// </remarks>
public static class Patcher
{
    /// <summary>Environment variable that turns <see cref="MonkeyPatch"/> into a logged no-op when set to 1/true.</summary>
    public const string DisableVariable = "EVERGREEN_NO_PATCH";

    /// <summary>Environment variable that keeps thread patching off (as under a debugger) when set to 1/true.</summary>
    public const string DebugVariable = "EVERGREEN_DEBUG";

    /// <summary>The areas, in patch order: eventlet's names plus "select".</summary>
    public static IReadOnlyList<string> Areas { get; } = ["os", "thread", "time", "socket", "select"];

    private static PatchOptions? s_options;
    private static bool s_disabled;

    private sealed record PatchOptions(bool Os, bool Thread, bool Time, bool Socket, bool Select);

    /// <summary>
    /// Patches the chosen areas and runs the program green; see the class remarks. Must be the first line of <c>Main</c>.
    /// </summary>
    /// <param name="os">Process.WaitForExit and pipe reads/writes (a Process's standard streams) through tpool, where <paramref name="thread"/> (the wait) or <paramref name="socket"/> (the pipes) does not make them green already.</param>
    /// <param name="thread">Thread start/join/yield, <c>lock</c>/Monitor incl. Wait/Pulse/PulseAll.</param>
    /// <param name="time">Thread.Sleep (all overloads).</param>
    /// <param name="socket">Socket's blocking operations (and so TcpClient, TcpListener, UdpClient, NetworkStream, SslStream over them), DNS through tpool.</param>
    /// <param name="select">Socket.Poll and Socket.Select.</param>
    /// <exception cref="LatePatchException">The call came too late to be made correct.</exception>
    /// <exception cref="MonkeyPatchException">A detour failed; nothing stays patched.</exception>
    /// <exception cref="PlatformNotSupportedException">Not .NET 10 on linux-x64.</exception>
    public static void MonkeyPatch(bool os = true, bool thread = true, bool time = true, bool socket = true, bool select = true)
    {
        var options = new PatchOptions(os, thread, time, socket, select);
        var log = Hub.Logger.ForContext("SourceContext", "Evergreen.Patcher");
        MethodInfo? entry;
        lock (PatchRegistry.Gate)
        {
            if (s_options != null || s_disabled)
            {
                if (s_options != null && s_options != options)
                    throw new LatePatchException($"MonkeyPatch was already called with {s_options}; a second call with different options ({options}) is refused.");
                return; // same options (or the nested call from the re-entered Main): a no-op
            }
            if (IsOn(DisableVariable))
            {
                s_disabled = true;
                log.Information("{Variable} is set: MonkeyPatch is a no-op; the program runs unpatched", DisableVariable);
                return;
            }
            if (!LateCheck.IsEntryThread())
                throw new LatePatchException($"MonkeyPatch was called on thread '{Thread.CurrentThread.Name ?? Environment.CurrentManagedThreadId.ToString()}', not on the program's entry thread.");
            var threads = LateCheck.ProgramThreads();
            if (threads.Count > 0)
                throw new LatePatchException($"The program already started threads of its own before MonkeyPatch: {string.Join(", ", threads)}.");
            int sockets = LateCheck.NetworkSockets();
            if (sockets > 0)
                throw new LatePatchException($"The program already opened {sockets} TCP/UDP socket(s) before MonkeyPatch.");
            if (thread && (Debugger.IsAttached || IsOn(DebugVariable)))
            {
                log.Warning("Debugger mode ({Reason}): thread patching is off; the other areas still apply",
                    Debugger.IsAttached ? "a debugger is attached" : DebugVariable + " is set");
                options = options with { Thread = false };
            }
            Apply(options, log);
            s_options = new PatchOptions(os, thread, time, socket, select);
            entry = Assembly.GetEntryAssembly()?.EntryPoint;
        }
        Hub.Instance.Adopt("main");
        if (entry == null) return; // no managed entry point (hosted): the caller simply continues green
        RunEntryPointGreen(entry);
    }

    private static void Apply(PatchOptions o, Serilog.ILogger log)
    {
        var tables = PatchTables.All.Where(t => t.Area switch
        {
            "time" => o.Time,
            "thread" => o.Thread,
            "socket" => o.Socket,
            "select" => o.Select,
            "os" => o.Os,
            _ => throw new InvalidOperationException($"Patch table of unknown area '{t.Area}' ({t.File})."),
        }).ToList();
        var plan = new List<(PatchTable Table, PatchRow Row)>();
        foreach (var table in tables)
        {
            foreach (var row in table.Rows)
            {
                if (row.Target == null) throw new MonkeyPatchException(row.TargetText, $"MonkeyPatch failed: {row.TargetText} ({table.File}) is not in this runtime; nothing was patched.", null);
                if (row.Replacement == null) throw new MonkeyPatchException(row.TargetText, $"MonkeyPatch failed: the replacement {row.ReplacementText} of {row.TargetText} was not found; nothing was patched.", null);
                plan.Add((table, row));
            }
        }
        foreach (var table in tables) table.Prepare?.Invoke();
        // The scheduling switches' class init reads the environment and the entry assembly's references, which takes locks:
        // run it before the Monitor hook it gates can run, and before the replacements are compiled (Prepare), so that even
        // code compiled at once fully optimised (TieredCompilation=0) sees the switches as constants.
        _ = ScheduleMode.Hooks;

        var engine = DetourEngine.Default;
        var prepared = new List<IDetour>();
        foreach (var p in plan)
        {
            try
            {
                var d = engine.Prepare(p.Row.Target!, p.Row.Replacement!);
                p.Row.Bind(d.Original);
                prepared.Add(d);
            }
            catch (Exception ex) when (ex is DetourException or NotSupportedException or ArgumentException)
            {
                string t = p.Row.Signature;
                log.Error(ex, "MonkeyPatch refused: {Target} cannot be detoured; nothing was patched", t);
                throw new MonkeyPatchException(t, $"MonkeyPatch failed: {t} cannot be detoured ({ex.Message}); nothing was patched.", ex);
            }
        }
        foreach (var table in tables) table.Connect?.Invoke();
        var sw = Stopwatch.StartNew();
        try
        {
            engine.ApplyAll(prepared);
        }
        catch (DetourException ex)
        {
            string t = ex.Target is { } m ? PatchRow.Describe(m) : "?";
            log.Error(ex, "MonkeyPatch failed at {Target}; every detour already written was undone", t);
            throw new MonkeyPatchException(t, $"MonkeyPatch failed at {t}: {ex.Reason}; nothing stays patched.", ex);
        }
        foreach (var p in plan) PatchRegistry.Record(p.Table.Area, p.Row);
        foreach (var area in tables.Select(t => t.Area).Distinct())
        {
            PatchRegistry.MarkArea(area);
            log.Information("Patched {Area}: {Targets}", area, PatchRegistry.Targets(area));
        }
        // Green threads carry the context that keeps an await green only once Task.Wait/.Result wait greenly (the thread
        // area's Monitor.Wait), and never after a failed batch: see HubPatchSeam.SynchronizationContext.
        if (o.Thread) HubPatchSeam.SynchronizationContext = GreenSynchronizationContext.Instance;
        foreach (var area in Areas.Where(a => !tables.Any(t => t.Area == a)))
            log.Information("Left unpatched: {Area}", area);
        log.Information("MonkeyPatch applied {Count} detours in {Ms:0.0} ms", prepared.Count, sw.Elapsed.TotalMilliseconds);
    }

    private static void RunEntryPointGreen(MethodInfo entry)
    {
        var args = Environment.GetCommandLineArgs().Skip(1).ToArray();
        object? result;
        try
        {
            result = entry.Invoke(null, entry.GetParameters().Length == 0 ? null : [args]);
        }
        catch (TargetInvocationException tie) when (tie.InnerException != null)
        {
            ExceptionDispatchInfo.Capture(tie.InnerException).Throw();
            throw;
        }
        // Main's int is latched as the exit code and a foreground thread may still change it, as CoreCLR does.
        if (result is int code) Environment.ExitCode = code;
        GreenThreadStart.WaitForForeground();
        Environment.Exit(Environment.ExitCode);
    }

    /// <summary>
    /// Whether <paramref name="name"/> (an area of <see cref="Areas"/>, case-insensitive; "Thread", "Socket", "Monitor"
    /// and "Sleep" are accepted as aliases) is currently patched.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static bool IsMonkeyPatched(string name) => PatchRegistry.IsPatched(Canonical(name));

    /// <summary>
    /// The methods detoured for an area (<c>Type.Member(parameter types)</c>, for logs and diagnostics): the rows of its
    /// patch tables once the area is patched, else none. Aliases as for <see cref="IsMonkeyPatched"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static IReadOnlyList<string> PatchedTargets(string name) => PatchRegistry.Targets(Canonical(name));

    /// <summary>
    /// True native access to an area, the analogue of eventlet's <c>patcher.original</c>: an <see cref="OriginalThread"/>
    /// for "Thread", <see cref="OriginalSocket"/> for "Socket", <see cref="OriginalMonitor"/> for "Monitor",
    /// <see cref="OriginalTime"/> for "time"/"Sleep". Typed access: <see cref="Original{T}"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static OriginalModule Original(string name) => name?.ToLowerInvariant() switch
    {
        "thread" => new OriginalThread(),
        "monitor" or "lock" => new OriginalMonitor(),
        "socket" => new OriginalSocket(),
        "time" or "sleep" => new OriginalTime(),
        _ => throw new ArgumentException($"Unknown module '{name}'. Valid: Thread, Monitor, Socket, time.", nameof(name)),
    };

    /// <summary>Typed native access, e.g. <c>Patcher.Original&lt;OriginalThread&gt;().Start(...)</c>.</summary>
    /// <exception cref="ArgumentException"><typeparamref name="T"/> is not one of <see cref="OriginalThread"/>,
    /// <see cref="OriginalMonitor"/>, <see cref="OriginalSocket"/> or <see cref="OriginalTime"/>.</exception>
    public static T Original<T>() where T : OriginalModule
    {
        OriginalModule module = typeof(T) == typeof(OriginalThread) ? new OriginalThread()
            : typeof(T) == typeof(OriginalMonitor) ? new OriginalMonitor()
            : typeof(T) == typeof(OriginalSocket) ? new OriginalSocket()
            : typeof(T) == typeof(OriginalTime) ? new OriginalTime()
            : throw new ArgumentException($"No original module of type {typeof(T).Name}. Valid: OriginalThread, OriginalMonitor, OriginalSocket, OriginalTime.", nameof(T));
        return (T)module;
    }

    private static string Canonical(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string n = name.ToLowerInvariant() switch { "monitor" or "lock" => "thread", "sleep" => "time", var x => x };
        if (!Areas.Contains(n))
            throw new ArgumentException($"Unknown area '{name}'. Valid: {string.Join(", ", Areas)} (aliases: Thread, Monitor, Socket, Sleep).", nameof(name));
        return n;
    }

    private static bool IsOn(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { } v && (v == "1" || v.Equals("true", StringComparison.OrdinalIgnoreCase) || v.Equals("yes", StringComparison.OrdinalIgnoreCase));
}
