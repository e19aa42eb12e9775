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

    [Theory]
    [MemberData(nameof(Bugs))]
    public void ReplayOfTheFoundSeedFailsTheSameWay(string bug) => AssertPass("replays-" + bug);

    [Theory]
    [MemberData(nameof(FixedBugs))]
    public void FixedVariantIsNotFlagged(string bug) => AssertPass("passes-" + bug + "-fixed");

    private void AssertPass(string scenario)
    {
        var result = ChildProcess.Run(s_childDll, scenario);
        output.WriteLine(result.ToString());
        Assert.True(result.Passed, result.ToString());
    }
}
