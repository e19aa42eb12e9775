using Evergreen.Bugs;
using Evergreen.Testing;
using Xunit;
using Xunit.Abstractions;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Evergreen.Bugs.Tests;

/// <summary>
/// The schedule explorer (issue 12.4) on the bug corpus, each exploration in a fresh patched process
/// (tests/Bugs.Child): every bug is found from seed 1 and replays the same way; the fixed variants are not flagged.
/// </summary>
public class ExplorerFindsCorpusTests(ITestOutputHelper output)
{
    // tests/Bugs.Tests/bin/<cfg>/net10.0 → tests/Bugs.Child/bin/<cfg>/net10.0
    private static readonly string s_childDll = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..",
        "Bugs.Child", "bin", new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, "net10.0", "Evergreen.Bugs.Child.dll"));

    public static TheoryData<string> Bugs() => [.. Corpus.All.Select(b => b.Name)];

    public static TheoryData<string> FixedBugs() => [.. Corpus.All.Where(b => b.Fixed != null).Select(b => b.Name)];

    [Theory]
    [MemberData(nameof(Bugs))]
    public void ExplorerFindsTheBug(string bug) => AssertPass("finds-" + bug);

    /// <summary>
    /// Explore, then Replay the reported seed in the same process. Pinned regressions: lock-order-deadlock's replay ran
    /// clean while the deadlocked run's threads lingered (fixed in sched f837902); if-not-while's diverged because the
    /// framework's own locks (ResourceManager building the first "Queue empty.") were schedule points (sched 65eefe0).
    /// </summary>
    [Theory]
    [MemberData(nameof(Bugs))]
    public void ReplayOfTheFoundSeedFailsTheSameWay(string bug) => AssertPass("replays-" + bug);

    /// <summary>
    /// The seed a report gives, replayed in a fresh process (how a seed from a CI log is used): the same kind of
    /// failure, the same exception type, the same steps.
    /// </summary>
    [Theory]
    [MemberData(nameof(Bugs))]
    public void ReplayOfTheFoundSeedInAFreshProcessFailsTheSameWay(string bug)
    {
        var found = Run("finds-" + bug);
        var replayed = Run($"replay-{bug}-{found.Outcome[1]}");
        Assert.Equal(found.Outcome, replayed.Outcome);
        Assert.Equal(found.Steps, replayed.Steps);
    }

    /// <summary>The AB/BA interleaving names the two accounts' locks apart (both are plain objects): Object#1, Object#2.</summary>
    [Fact]
    public void TheInterleavingNamesTwoLocksOfOneTypeApart()
    {
        var found = Run("finds-lock-order-deadlock");
        Assert.Contains(found.Steps, s => s.Contains("Monitor.Enter Object#1", StringComparison.Ordinal));
        Assert.Contains(found.Steps, s => s.Contains("Monitor.Enter Object#2", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(FixedBugs))]
    public void FixedVariantIsNotFlagged(string bug) => AssertPass("passes-" + bug + "-fixed");

    private void AssertPass(string scenario) => Run(scenario);

    /// <summary>Runs a scenario that must pass; its <c>outcome</c> fields and <c>step</c> lines.</summary>
    private (string[] Outcome, string[] Steps) Run(string scenario)
    {
        var result = ChildProcess.Run(s_childDll, scenario);
        output.WriteLine(result.ToString());
        Assert.True(result.Passed, result.ToString());
        var lines = result.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        string[] outcome = lines.FirstOrDefault(l => l.StartsWith("outcome\t", StringComparison.Ordinal))?.Split('\t') ?? [];
        return (outcome, [.. lines.Where(l => l.StartsWith("step\t", StringComparison.Ordinal))]);
    }
}
