using System.Text;

namespace Evergreen.Testing;

/// <summary>What <see cref="ScheduleExplorer.Explore"/> or <see cref="ScheduleExplorer.Replay"/> found.</summary>
public sealed class ExplorationReport
{
    internal ExplorationReport(bool bugFound, int? seed, int schedulesRun, TimeSpan elapsed, string? kind, Exception? failure, IReadOnlyList<ScheduleStep> interleaving)
    {
        BugFound = bugFound;
        Seed = seed;
        SchedulesRun = schedulesRun;
        Elapsed = elapsed;
        Kind = kind;
        Failure = failure;
        Interleaving = interleaving;
    }

    /// <summary>True when a schedule failed (see <see cref="Kind"/>).</summary>
    public bool BugFound { get; }

    /// <summary>The seed of the failing schedule (give it to <see cref="ScheduleExplorer.Replay"/>), or of the one replayed; null if none failed.</summary>
    public int? Seed { get; }

    /// <summary>Schedules run, the failing one included.</summary>
    public int SchedulesRun { get; }

    /// <summary>Wall-clock time of the whole exploration.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>"exception", "assertion", "deadlock" or "hang"; null when nothing failed.</summary>
    public string? Kind { get; }

    /// <summary>The exception that failed the schedule (for a hang, a <see cref="TimeoutException"/> saying so).</summary>
    public Exception? Failure { get; }

    /// <summary>The failing (or replayed) schedule, one step per preemption point; empty when nothing failed.</summary>
    public IReadOnlyList<ScheduleStep> Interleaving { get; }

    /// <summary>Seed, kind, failure, then one line per step (<c>#12 T2 Monitor.Enter Account</c>).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        if (!BugFound) sb.Append($"no bug found in {SchedulesRun} schedules ({Elapsed.TotalMilliseconds:0} ms)");
        else sb.Append($"{Kind} with seed {Seed} after {SchedulesRun} schedules ({Elapsed.TotalMilliseconds:0} ms)");
        sb.AppendLine();
        if (Failure != null) sb.AppendLine(Failure.GetType().FullName + ": " + Failure.Message);
        foreach (var step in Interleaving) sb.AppendLine(step.ToString());
        return sb.ToString();
    }
}
