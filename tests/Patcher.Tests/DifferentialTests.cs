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
    [InlineData("diff-thread-lifecycle")]
    [InlineData("diff-threadstatic-threadlocal")]
    [InlineData("diff-monitor-wait-timeout")]
    [InlineData("diff-bounded-buffer")]
    [InlineData("diff-barrier-countdown")]
    [InlineData("diff-slim-primitives")]
    [InlineData("diff-readerwriterlock")]
    [InlineData("diff-lazy-interlocked")]
    [InlineData("diff-blocking-collection")]
    [InlineData("diff-timer")]
    [InlineData("diff-tasks-from-threads")]
    [InlineData("diff-tcp-echo")]
    [InlineData("diff-socket-timeouts")]
    [InlineData("diff-poll-select")]
    [InlineData("diff-udp")]
    [InlineData("diff-connect-refused")]
    [InlineData("diff-http-roundtrip")]
    [InlineData("diff-dns")]
    [InlineData("diff-process")]
    [InlineData("diff-anonymous-pipe")]
    [InlineData("diff-await-one-at-a-time")]
    [InlineData("diff-await-result")]
    [InlineData("diff-await-pool")]
    [InlineData("diff-asynclocal")]
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
    [InlineData("diff-native-poll")]
    [InlineData("diff-native-pipe-read")]
    [InlineData("diff-native-block-on-main")]
    [InlineData("diff-p2-line-server-half-close")]
    [InlineData("diff-p2-bulk-both-ways")]
    [InlineData("diff-p2-send-timeout")]
    [InlineData("diff-p2-connect-hostname")]
    [InlineData("diff-p2-unix-socket")]
    [InlineData("diff-p2-named-pipe")]
    [InlineData("diff-p2-socket-async-from-threads")]
    [InlineData("diff-p2-readasync-cancel")]
    [InlineData("diff-p2-httpclient-threads")]
    [InlineData("diff-p2-httpclient-timeout")]
    [InlineData("diff-p2-udp-receive-timeout")]
    [InlineData("diff-p2-select-many")]
    [InlineData("diff-p2-accept-listener-closed")]
    [InlineData("diff-p2-receive-socket-closed")]
    [InlineData("diff-p2-process-output-events")]
    [InlineData("diff-p2-process-many")]
    [InlineData("diff-p2-files-threads")]
    [InlineData("diff-p2-pipe-big-write")]
    [InlineData("diff-p2-pipes-many-readers")]
    [InlineData("diff-p2-named-pipes-many-readers")]
    [InlineData("diff-p2-process-readers-first")]
    [InlineData("diff-p2-waitforexit-many")]
    [InlineData("diff-p2-user-nonblocking")]
    [InlineData("diff-p2-acceptors-share-listener")]
    [InlineData("diff-p2-udp-receivers-share-socket")]
    [InlineData("diff-p2-select-per-connection")]
    [InlineData("diff-p2-stdin-readline")]
    [InlineData("diff-p2-webclient-webrequest")]
    [InlineData("diff-p2-websocket")]
    [InlineData("diff-p2-receivemessagefrom")]
    [InlineData("diff-p2-shutdown-unblocks")]
    [InlineData("diff-p2-console-flood")]
    [InlineData("diff-p2-ssl-shapes")]
    [InlineData("diff-p2-close-blocked-send")]
    [InlineData("diff-p2-http-big-bodies")]
    [InlineData("diff-p2-receivefrom-socketaddress")]
    [InlineData("diff-p2-gather-send-error-code")]
    public void SameResultPatchedAndUnpatched(string name)
    {
        var plain = ChildProcess.Run(PatchScenarioTests.ChildDll, name, ("EVERGREEN_NO_PATCH", "1"));
        var patched = ChildProcess.Run(PatchScenarioTests.ChildDll, name);
        output.WriteLine("unpatched:\n" + plain + "\npatched:\n" + patched);
        Assert.True(plain.Passed, "unpatched: " + plain);
        Assert.True(patched.Passed, "patched: " + patched);
        Assert.Equal(Observed(plain.Stdout), Observed(patched.Stdout));
        Assert.Contains("ticker: advanced", patched.Stdout.Split('\n').Select(l => l.TrimEnd('\r')));
    }

    /// <summary>Exit code, every line of stdout and the runtime's "Unhandled exception." line agree.</summary>
    [Theory]
    [InlineData("exit-code-from-main")]
    [InlineData("exit-environment-exit-from-thread")]
    [InlineData("exit-unhandled-on-thread")]
    [InlineData("exit-foreground-thread-outlives-main")]
    [InlineData("exit-background-thread-does-not-hold-exit")]
    public void ExitAsUnpatched(string name)
    {
        var plain = ChildProcess.Run(PatchScenarioTests.ChildDll, name, ("EVERGREEN_NO_PATCH", "1"));
        var patched = ChildProcess.Run(PatchScenarioTests.ChildDll, name);
        output.WriteLine("unpatched:\n" + plain + "\npatched:\n" + patched);
        Assert.Equal(plain.ExitCode, patched.ExitCode);
        Assert.Equal(Lines(plain.Stdout), Lines(patched.Stdout));
        Assert.Equal(Unhandled(plain.Stderr), Unhandled(patched.Stderr));
    }

    private static List<string> Lines(string text) => text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();

    private static string? Unhandled(string stderr) => Lines(stderr).FirstOrDefault(l => l.StartsWith("Unhandled exception.", StringComparison.Ordinal));

    private static List<string> Observed(string text)
        => text.Split('\n').Where(l => l.StartsWith("out: ", StringComparison.Ordinal)).Select(l => l[5..].Trim()).ToList();
}
