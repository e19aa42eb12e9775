using Evergreen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Evergreen.Patcher.Tests;

/// <summary>
/// Issue 11's house method: a scenario of ordinary .NET code runs in a child process unpatched (EVERGREEN_NO_PATCH=1)
/// and patched; both must pass and print the same observable lines ("out: ..."), and patched the hub stayed live (each
/// scenario's plain ticker thread advanced while the others waited — a frozen hub never finishes at all).
/// </summary>
public class DifferentialTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("diff-autoresetevent")]
    [InlineData("diff-event-waitany-waitall")]
    [InlineData("diff-rwlockslim")]
    [InlineData("diff-mutex")]
    [InlineData("diff-semaphore")]
    [InlineData("diff-signalandwait")]
    [InlineData("diff-httplistener")]
    [InlineData("diff-interrupt-sleep")]
    [InlineData("diff-interrupt-monitor-wait")]
    [InlineData("diff-interrupt-join")]
    [InlineData("diff-interrupt-contended-lock")]
    [InlineData("diff-interrupt-waitone")]
    [InlineData("diff-interrupt-running-then-later-waits")]
    [InlineData("diff-interrupt-native-thread")]
    [InlineData("diff-interrupt-before-start")]
    [InlineData("diff-interrupt-zero-waits")]
    [InlineData("diff-interrupt-from-native-thread")]
    public void SameResultPatchedAndUnpatched(string name)
    {
        var plain = ChildProcess.Run(PatchScenarioTests.ChildDll, name, ("EVERGREEN_NO_PATCH", "1"));
        var patched = ChildProcess.Run(PatchScenarioTests.ChildDll, name);
        output.WriteLine("unpatched:\n" + plain + "\npatched:\n" + patched);
        Assert.True(plain.Passed, "unpatched: " + plain);
        Assert.True(patched.Passed, "patched: " + patched);
        Assert.Equal(Observed(plain.Stdout), Observed(patched.Stdout));
        Assert.Contains("ticker advanced", Observed(patched.Stdout));
    }

    private static List<string> Observed(string text)
        => text.Split('\n').Where(l => l.StartsWith("out: ", StringComparison.Ordinal)).Select(l => l[5..].Trim()).ToList();
}
