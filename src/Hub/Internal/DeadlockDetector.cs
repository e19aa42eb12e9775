using System.Diagnostics;
using System.Text;

namespace Evergreen.Internal;

/// <summary>
/// Names a deadlock cycle as it closes: when a green thread is about to park, without a timeout, on a lock (Monitor,
/// <c>lock</c>, <see cref="Lock"/>) or a join, it follows "who must act for this wait to end" — a lock's holder (read
/// from the runtime, <see cref="LockOwner"/>), a joined thread — from thread to thread while each is itself parked on a
/// lock or a join without a timeout. Reaching itself means none of them can ever proceed: the cycle is logged (every
/// thread, what it waits on and who holds it, and each stack captured) and, with <c>EVERGREEN_DEADLOCK=throw</c>, the
/// closing wait throws <see cref="GreenDeadlockException"/> instead of parking. Cost: one step a thread in the chain,
/// only on a lock or join that is about to park (already the slow path); nothing anywhere else.
/// <c>EVERGREEN_DEADLOCK=off</c> turns the check off; the default, <c>log</c>, logs and parks (as plain .NET would hang).
/// </summary>
internal static class DeadlockDetector
{
    private enum Mode { Off, Log, Throw }

    private static readonly Mode s_mode = Environment.GetEnvironmentVariable("EVERGREEN_DEADLOCK")?.ToLowerInvariant() switch
    {
        "off" or "0" or "none" => Mode.Off,
        "throw" => Mode.Throw,
        _ => Mode.Log,
    };

    public static bool Enabled => s_mode != Mode.Off;

    /// <summary>
    /// Called by <paramref name="self"/> (the baton holder) once its wait is noted and before it parks. Logs a cycle
    /// through it; throws <see cref="GreenDeadlockException"/> in throw mode.
    /// </summary>
    public static void Check(GreenThread self)
    {
        int limit = self.Hub.Alive + 1; // a cycle that does not pass through self (reported when it closed) must not loop us
        var next = Next(self);
        for (int steps = 0; next != null && steps < limit; steps++)
        {
            if (next == self)
            {
                Report(self);
                return;
            }
            if (!next.Blocked || next.WaitKind is not (WaitKind.Lock or WaitKind.Join)) return;
            next = Next(next);
        }
    }

    /// <summary>The green thread that must act for <paramref name="g"/>'s noted wait to end, if there is exactly one.</summary>
    private static GreenThread? Next(GreenThread g)
    {
        var target = g.WaitTarget;
        if (target == null) return null;
        if (g.WaitKind == WaitKind.Join)
        {
            var joined = target as GreenThread ?? (target is Thread t ? Hub.GreenOf(t) : null);
            return joined is { IsDead: false } ? joined : null;
        }
        if (LockOwner.Read(target, out int managedId, out int osId) != LockOwner.State.Held) return null;
        return managedId != 0 ? Hub.GreenOnThread(managedId, os: false) : Hub.GreenOnThread(osId, os: true);
    }

    private static void Report(GreenThread self)
    {
        var cycle = new List<GreenThread> { self };
        for (var g = Next(self); g != null && g != self && cycle.Count <= self.Hub.Alive; g = Next(g)) cycle.Add(g);
        var sb = new StringBuilder();
        sb.Append($"Green deadlock: {cycle.Count} green threads wait for each other and none can ever proceed");
        sb.Append(s_mode == Mode.Throw ? $"; GreenDeadlockException is thrown into {ThreadDump.Name(self)}, whose wait closed the cycle:\n"
            : $" ({ThreadDump.Name(self)}'s wait closed the cycle; EVERGREEN_DEADLOCK=throw makes that wait throw):\n");
        foreach (var g in cycle)
        {
            sb.Append($"  {ThreadDump.Name(g)} waits for {ThreadDump.Describe(g.WaitKind, g.WaitTarget, g.WaitDetail)}\n");
            // The closing thread's own stack is known now at no cost to anyone else; the others' only if captured.
            if (g == self) ThreadDump.AppendStack(sb, g.WaitStack ?? new StackTrace(3, true));
            else if (g.WaitStack is { } stack) ThreadDump.AppendStack(sb, stack);
        }
        if (!ThreadDump.CaptureStacks) sb.Append("  (set EVERGREEN_STACKS=1 to capture where every thread parked)\n");
        string report = sb.ToString();
        Hub.Logger.Error("{DeadlockReport:l}", report);
        if (s_mode == Mode.Throw) throw new GreenDeadlockException(report);
    }
}
