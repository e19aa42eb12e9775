using System.Diagnostics;
using System.Text;

namespace Evergreen.Internal;

/// <summary>
/// The green-thread dump (Go's SIGQUIT goroutine dump, gevent's print_run_info): every green thread with its state
/// and, for a parked one, what it waits on — as its wait site noted it (<see cref="GreenThread.NoteWait"/>) — for how
/// long, and with <c>EVERGREEN_STACKS=1</c> the managed stack at which it parked. Used by
/// <see cref="Green.DumpThreads(TextWriter)"/>, the dump signal, the deadlock report and the whole-program deadlock
/// exception.
/// </summary>
/// <remarks>
/// Under the baton the picture is exact. Off the baton (the signal's handler) every field is read racily: each is one
/// word, the thread registry is a concurrent dictionary, no hub collection is enumerated, and each thread's line is
/// built under its own catch — a thread changing state meanwhile shows its old or new state, or one line says the
/// description failed; the dump never throws. It then says "(racy snapshot)".
/// </remarks>
internal static class ThreadDump
{
    /// <summary><c>EVERGREEN_STACKS=1</c>: capture the managed stack at every park (costly: off by default).</summary>
    public static readonly bool CaptureStacks = Environment.GetEnvironmentVariable("EVERGREEN_STACKS") == "1";

    /// <summary>The whole dump: a header line, one entry a green thread, an end line.</summary>
    public static string Format(bool racy, string why)
    {
        var sb = new StringBuilder();
        try
        {
            var threads = Hub.AllGreenThreads();
            sb.Append($"=== Green threads ({threads.Count}) at {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss.fff} UTC, {why}");
            sb.Append(racy ? " (racy snapshot: read off the baton)" : "").Append(" ===\n");
            if (!CaptureStacks) sb.Append("(stacks: set EVERGREEN_STACKS=1 to capture where each thread parked)\n");
            foreach (var g in threads) Append(sb, g, racy);
        }
        catch (Exception e)
        {
            sb.Append("(the dump failed: ").Append(e.GetType().Name).Append(": ").Append(e.Message).Append(")\n");
        }
        sb.Append("=== end of green threads ===\n");
        return sb.ToString();
    }

    /// <summary>One thread's entry: its line, then its parked stack if captured.</summary>
    public static void Append(StringBuilder sb, GreenThread g, bool racy = false)
    {
        try
        {
            sb.Append(Line(g)).Append('\n');
            if (g.Blocked && g.WaitStack is { } stack) AppendStack(sb, stack);
        }
        catch (Exception e) when (racy)
        {
            sb.Append($"{Name(g)}: (changed while it was read: {e.GetType().Name})\n");
        }
    }

    public static void AppendStack(StringBuilder sb, StackTrace stack)
    {
        // From the first frame that is not Evergreen's own waiting machinery (the replacement, GreenMonitor, the primitive).
        var frames = stack.GetFrames();
        int ours = 0;
        while (ours < frames.Length - 1 && IsEvergreen(frames[ours])) ours++;
        if (ours > 0) stack = new StackTrace(frames.Skip(ours));
        foreach (var line in stack.ToString().Split('\n'))
            if (line.Trim().Length > 0) sb.Append("      ").Append(line.Trim()).Append('\n');
    }

    private static bool IsEvergreen(StackFrame frame) =>
        frame.GetMethod()?.DeclaringType?.Assembly.GetName().Name is "Evergreen.Hub" or "Evergreen.GreenIO" or "Evergreen.Patcher";

    /// <summary>"green thread #3 "worker" (managed thread 12, OS thread 4711): waiting 1.2 s for …".</summary>
    public static string Line(GreenThread g)
    {
        var hub = g.Hub;
        string where = Hub.HostOf(g) is { } host ? $" (managed thread {host.Thread.ManagedThreadId}, OS thread {host.OsThreadId})" : "";
        string head = $"  {Name(g)}{where}: ";
        if (Volatile.Read(ref g.Lease) == Hub.LeaseRevoked) return head + "blocked in a native call, the baton taken back (it rejoins at its next green call)";
        if (hub.IsRunning(g)) return head + "running";
        if (!g.Blocked) return head + (g.Started ? "runnable" : "runnable, not started yet");
        var kind = g.WaitKind;
        string since = kind == WaitKind.None ? "" : $" {Elapsed(Environment.TickCount64 - g.WaitSince)}";
        return head + $"waiting{since} for " + Describe(kind, g.WaitTarget, g.WaitDetail);
    }

    /// <summary>The name a report uses for a green thread: <c>#id "name"</c>.</summary>
    public static string Name(GreenThread g)
    {
        string name = Hub.HostOf(g) is { Adopted: not null } host && host.Thread.Name is { } n ? n : g.Name;
        return $"green thread #{g.Id} \"{name}\"";
    }

    /// <summary>What a wait of <paramref name="kind"/> on <paramref name="target"/> is, in words.</summary>
    public static string Describe(WaitKind kind, object? target, string? detail)
    {
        bool timed = (kind & WaitKind.Timed) != 0;
        string text = (kind & ~WaitKind.Timed) switch
        {
            WaitKind.Lock => $"the lock of {TypeName(target)} {Holder(target)}",
            WaitKind.Condition => $"Monitor.Wait on {TypeName(target)} (a Pulse)",
            WaitKind.Join => $"the end of {ThreadName(target)} (join)",
            WaitKind.Sleep => target is HubTimer t ? $"a sleep until {Until(t.Due)}" : "a sleep without end",
            WaitKind.Socket => $"socket {target} to {(detail ?? "complete")}",
            WaitKind.Fd => $"fd {target} to become {detail ?? "ready"}",
            WaitKind.Event => $"{TypeName(target)} to be sent",
            WaitKind.Semaphore => $"{TypeName(target)}{(detail != null ? " " + detail : "")}",
            WaitKind.Queue => $"{TypeName(target)} ({detail})",
            WaitKind.WaitHandle => WaitHandles(target, detail),
            WaitKind.Native => $"a native call on another OS thread: {detail}{(target is Delegate d ? $" ({d.Method.DeclaringType?.Name}.{d.Method.Name})" : "")}",
            WaitKind.Other => detail ?? "?",
            _ => "a green wait its site did not describe",
        };
        return timed ? text + ", with a timeout" : text;
    }

    /// <summary>"held by green thread #4 "b"", "held by managed thread 9 (not green)", "not held (…)".</summary>
    public static string Holder(object? target)
    {
        if (target == null) return "";
        var state = LockOwner.Read(target, out int managedId, out int osId);
        if (state == LockOwner.State.Free) return "(free now: the waiter is about to retry)";
        if (state == LockOwner.State.Unknown) return "(held by a thread the runtime does not say" + (LockOwner.Problem is { } p ? ": " + p : "") + ")";
        var owner = managedId != 0 ? Hub.GreenOnThread(managedId, os: false) : Hub.GreenOnThread(osId, os: true);
        if (owner != null) return "held by " + Name(owner);
        return managedId != 0 ? $"held by managed thread {managedId} (not green)" : $"held by OS thread {osId} (not green)";
    }

    public static string ThreadName(object? target) => target switch
    {
        GreenThread g => Name(g),
        Thread t when Hub.GreenOf(t) is { } g => Name(g),
        Thread t => $"thread {t.ManagedThreadId} \"{t.Name}\" (not green)",
        _ => "?",
    };

    public static string TypeName(object? o) => o switch
    {
        null => "?",
        Lock => "System.Threading.Lock",
        Type t => $"typeof({t.FullName})",
        string => "a string",
        _ => o.GetType().FullName ?? o.GetType().Name,
    };

    private static string WaitHandles(object? target, string? detail) => target switch
    {
        WaitHandle h => $"{h.GetType().Name} (handle 0x{SafeHandle(h):x}) to be signalled ({detail ?? "WaitOne"})",
        WaitHandle[] all => $"{detail ?? "WaitAny/WaitAll"} of [{string.Join(", ", all.Select(h => $"{h.GetType().Name} 0x{SafeHandle(h):x}"))}]",
        _ => $"a WaitHandle ({detail})",
    };

    private static nint SafeHandle(WaitHandle h)
    {
        try
        {
            return h.SafeWaitHandle.DangerousGetHandle();
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }
    }

    private static string Until(long dueTicks)
    {
        double ms = (dueTicks - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
        return $"{DateTime.UtcNow.AddMilliseconds(ms):HH:mm:ss.fff} UTC (in {Elapsed((long)Math.Max(0, ms))})";
    }

    private static string Elapsed(long ms) => ms < 1000 ? $"{ms} ms" : ms < 120_000 ? $"{ms / 1000.0:0.0} s" : $"{ms / 60_000.0:0.0} min";
}
