using Evergreen.Bugs;
using Evergreen.Patching;
using Evergreen.Testing;

// The schedule explorer on the bug corpus, one scenario per process; prints "pass" last and exits 0, or says why and
// exits 1. Scenarios (BUG: a tests/Bugs Corpus name):
//   finds-BUG          Explore from seed 1 finds the bug, of the kind it shows (exception, or deadlock/hang)
//   replays-BUG        Replay of the seed Explore reported, in the same process, fails the same way, step for step
//   replay-BUG-SEED    Replay of SEED alone (a fresh process, as when a reported seed is replayed later); prints the
//                      failure's kind and steps as finds-BUG does, for the test to compare
//   passes-BUG-fixed   Explore of the fixed variant runs all its schedules without a failure
// Deterministic: fixed first seeds and a schedule count, never a wall-clock figure. TimeBudget is set far above what
// the schedules need, so that MaxSchedules is what bounds a run, and below the watchdog.
internal static class Program
{
    /// <summary>Generous: the corpus's bugs are each found within tens of schedules.</summary>
    private const int MaxSchedulesToFind = 5_000;

    /// <summary>Schedules a fixed variant must survive.</summary>
    private const int MaxSchedulesClean = 1_000;

    private static readonly TimeSpan s_budget = TimeSpan.FromSeconds(80);

    private static int Main(string[] args)
    {
        string scenario = args.Length > 0 ? args[0] : "";
        Patcher.MonkeyPatch(os: false, thread: true);
        StartWatchdog(scenario);
        try
        {
            if (scenario.StartsWith("finds-", StringComparison.Ordinal))
                Finds(Corpus.Get(scenario["finds-".Length..]));
            else if (scenario.StartsWith("replay-", StringComparison.Ordinal))
                ReplayAlone(scenario["replay-".Length..]);
            else if (scenario.StartsWith("replays-", StringComparison.Ordinal))
                Replays(Corpus.Get(scenario["replays-".Length..]));
            else if (scenario.StartsWith("passes-", StringComparison.Ordinal) && scenario.EndsWith("-fixed", StringComparison.Ordinal))
                PassesFixed(Corpus.Get(scenario["passes-".Length..^"-fixed".Length]));
            else
                throw new ArgumentException("unknown scenario '" + scenario + "'");
            Console.WriteLine("pass");
            return 0;
        }
        catch (Exception ex)
        {
            Console.WriteLine("FAIL " + scenario + ": " + ex);
            return 1;
        }
    }

    private static ExplorationReport Explore(Action body, int maxSchedules) =>
        ScheduleExplorer.Explore(body, new ExploreOptions { FirstSeed = 1, MaxSchedules = maxSchedules, TimeBudget = s_budget });

    private static void Finds(Bug bug)
    {
        var report = Explore(bug.Body, MaxSchedulesToFind);
        Console.WriteLine(report);
        Check(report.BugFound, $"{bug.Name}: not found in {report.SchedulesRun} schedules");
        Check(KindMatches(bug, report.Kind), $"{bug.Name}: found as '{report.Kind}', expected {Expected(bug)}");
        Check(report.Seed is not null, $"{bug.Name}: no seed reported");
        Check(report.Interleaving.Count > 0, $"{bug.Name}: empty interleaving");
        PrintOutcome(report);
    }

    private static void ReplayAlone(string bugAndSeed)
    {
        int dash = bugAndSeed.LastIndexOf('-');
        var bug = Corpus.Get(bugAndSeed[..dash]);
        var report = ScheduleExplorer.Replay(bug.Body, int.Parse(bugAndSeed[(dash + 1)..]));
        Console.WriteLine(report);
        PrintOutcome(report);
    }

    /// <summary>Machine-readable lines: <c>outcome\tSEED\tKIND\tFAILURE_TYPE</c>, then <c>step\t…</c> per step.</summary>
    private static void PrintOutcome(ExplorationReport report)
    {
        Console.WriteLine($"outcome\t{report.Seed}\t{report.Kind ?? "none"}\t{report.Failure?.GetType().FullName ?? "none"}");
        foreach (var step in report.Interleaving)
            Console.WriteLine("step\t" + step);
    }

    private static void Replays(Bug bug)
    {
        var found = Explore(bug.Body, MaxSchedulesToFind);
        Check(found.BugFound && found.Seed is not null, $"{bug.Name}: not found, nothing to replay ({found.SchedulesRun} schedules)");
        var replay = ScheduleExplorer.Replay(bug.Body, found.Seed!.Value);
        Console.WriteLine("explored: " + found);
        Console.WriteLine("replayed: " + replay);
        Check(replay.BugFound && replay.Kind == found.Kind, $"{bug.Name}: seed {found.Seed} failed as '{found.Kind}' when explored, '{replay.Kind ?? "nothing"}' when replayed");
        Check(replay.Interleaving.SequenceEqual(found.Interleaving), $"{bug.Name}: the replayed interleaving ({replay.Interleaving.Count} steps) differs from the explored one ({found.Interleaving.Count} steps)");
        Check(replay.Failure?.GetType() == found.Failure?.GetType(), $"{bug.Name}: failure {found.Failure?.GetType().Name} explored, {replay.Failure?.GetType().Name} replayed");
    }

    private static void PassesFixed(Bug bug)
    {
        var fixedBody = bug.Fixed ?? throw new ArgumentException($"{bug.Name} has no fixed variant");
        var report = Explore(fixedBody, MaxSchedulesClean);
        Console.WriteLine(report);
        Check(!report.BugFound, $"{bug.Name} (fixed): flagged: {report}");
        Check(report.SchedulesRun == MaxSchedulesClean, $"{bug.Name} (fixed): ran {report.SchedulesRun} schedules of {MaxSchedulesClean} (the time budget ended it)");
    }

    /// <summary>An exception bug must be found as an exception (or a failed assertion); a hang as a deadlock or a hang.</summary>
    private static bool KindMatches(Bug bug, string? kind) => bug.Shows switch
    {
        Manifestation.Exception => kind is "exception" or "assertion",
        Manifestation.Hang => kind is "deadlock" or "hang",
        _ => false,
    };

    private static string Expected(Bug bug) => bug.Shows == Manifestation.Exception ? "exception" : "deadlock or hang";

    private static void Check(bool ok, string what)
    {
        if (!ok) throw new Exception("check failed: " + what);
    }

    /// <summary>A native thread that ends the process (exit 2) after 100 s, below ChildProcess's 120 s: a frozen hub runs no green timer.</summary>
    private static void StartWatchdog(string scenario) =>
        Patcher.Original<OriginalThread>().Start(() =>
        {
            Thread.Sleep(100_000); // native: this thread is not green
            Console.WriteLine($"FAIL {scenario}: not finished after 100 s (safety bound)");
            Console.Out.Flush();
            Environment.Exit(2);
        }, "scenario-watchdog", isBackground: true);
}
