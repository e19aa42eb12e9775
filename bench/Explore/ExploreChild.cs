using Evergreen.Bugs;
using Evergreen.Patching;
using Evergreen.Testing;

namespace Evergreen.Bench.Explore;

/// <summary>One exploration in a fresh, patched process.</summary>
internal static class ExploreChild
{
    /// <summary>
    /// Patches, explores <paramref name="bugName"/> from <paramref name="firstSeed"/> and prints one row:
    /// <c>row explore BUG FIRST_SEED FOUND SCHEDULES MS KIND SEED</c> (MS is the report's Elapsed: the exploration
    /// alone, without process start and patching).
    /// </summary>
    public static int Run(string bugName, int firstSeed, int maxSchedules, int budgetMs)
    {
        Patcher.MonkeyPatch(os: false, thread: true);
        var bug = Corpus.Get(bugName);
        var report = ScheduleExplorer.Explore(bug.Body, new ExploreOptions
        {
            FirstSeed = firstSeed,
            MaxSchedules = maxSchedules,
            TimeBudget = TimeSpan.FromMilliseconds(budgetMs),
        });
        Console.WriteLine(string.Join('\t', "row", "explore", bugName, firstSeed, report.BugFound ? 1 : 0, report.SchedulesRun,
            report.Elapsed.TotalMilliseconds.ToString("0.0"), report.Kind ?? "-", report.Seed?.ToString() ?? "-"));
        if (report.BugFound)
            Console.Error.WriteLine($"[{bugName} from seed {firstSeed}] {report}");
        return 0;
    }

    /// <summary>Replays one seed of <paramref name="bugName"/> and prints the report with its interleaving.</summary>
    public static int Show(string bugName, int seed)
    {
        Patcher.MonkeyPatch(os: false, thread: true);
        Console.WriteLine(ScheduleExplorer.Replay(Corpus.Get(bugName).Body, seed));
        return 0;
    }
}
