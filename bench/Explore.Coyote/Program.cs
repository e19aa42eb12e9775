using System.Diagnostics;
using Evergreen.Bench.Explore.Coyote;
using Evergreen.Bugs;
using Microsoft.Coyote;
using Microsoft.Coyote.SystematicTesting;

// Usage: Evergreen.Bench.Explore.Coyote BUG VARIANTS MAX_ITERATIONS BUDGET_MS SEED...
// This assembly and Evergreen.Bugs.dll must be rewritten by `coyote rewrite` first (bench/cases/explore.sh does it).
// VARIANTS, comma-separated:
//   thread     the corpus's Body itself, unchanged: plain Thread/lock/Monitor (Coyote 1.7.11's rewriting controls
//              Thread.Start/Join/Yield/Sleep too, but Join waits on a thread it calls "not intercepted")
//   task       TaskBodies: the same classes driven from Task.Run / Task.WhenAll
//   task-hint  TaskBodies.GetHinted: the task variant plus a SchedulingPoint.Interleave() hint (publish-before-init only)
// For each variant and seed, one TestingEngine run (Coyote's default portfolio strategy) that stops at the first bug:
//   row coyote-VARIANT BUG SEED FOUND ITERATIONS MS WHAT        or    row n/a BUG VARIANT REASON
if (args.Length < 5)
{
    Console.Error.WriteLine("usage: BUG VARIANTS MAX_ITERATIONS BUDGET_MS SEED...");
    return 2;
}
string name = args[0];
uint iterations = uint.Parse(args[2]);
int budgetMs = int.Parse(args[3]);
var bug = Corpus.Get(name);
foreach (string variant in args[1].Split(','))
{
    Func<Configuration, TestingEngine>? create = variant switch
    {
        "thread" => config => TestingEngine.Create(config, bug.Body),
        "task" => TaskBodies.Get(name) is { } t ? config => TestingEngine.Create(config, t) : null,
        "task-hint" => TaskBodies.GetHinted(name) is { } h ? config => TestingEngine.Create(config, h) : null,
        _ => null,
    };
    if (create is null)
    {
        Console.WriteLine(string.Join('\t', "row", "n/a", name, variant, "no such variant for this bug"));
        continue;
    }
    foreach (string seed in args[4..])
    {
        var config = Configuration.Create()
            .WithTestingIterations(iterations)
            .WithTestingTimeout(Math.Max(1, (budgetMs + 999) / 1000))
            .WithRandomGeneratorSeed(uint.Parse(seed))
            .WithTelemetryEnabled(false);
        if (Environment.GetEnvironmentVariable("COYOTE_VERBOSE") == "1")
            config = config.WithVerbosityEnabled(Microsoft.Coyote.Logging.VerbosityLevel.Debug).WithConsoleLoggingEnabled(true);
        var clock = Stopwatch.StartNew();
        using var engine = create(config);
        if (!engine.IsTestRewritten())
        {
            Console.WriteLine(string.Join('\t', "row", "n/a", name, variant, "the assembly is not rewritten: run `coyote rewrite` on it first"));
            return 1;
        }
        engine.Run();
        clock.Stop();
        var report = engine.TestReport;
        bool found = report.NumOfFoundBugs > 0;
        int explored = report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths;
        string what = found ? report.BugReports.First().Split('\n')[0] : "-";
        Console.WriteLine(string.Join('\t', "row", "coyote-" + variant, name, seed, found ? 1 : 0, explored,
            clock.Elapsed.TotalMilliseconds.ToString("0.0"), what.Trim().Replace('\t', ' ')));
    }
}
return 0;
