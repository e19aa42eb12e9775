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
    [InlineData("diff-p3-yield-delay-loops")]
    [InlineData("diff-p3-async-void-from-thread")]
    [InlineData("diff-p3-tcs-set-by-thread")]
    [InlineData("diff-p3-whenall-whenany")]
    [InlineData("diff-p3-waitall-waitany-async")]
    [InlineData("diff-p3-parallel-foreachasync")]
    [InlineData("diff-p3-semaphoreslim-async-lock")]
    [InlineData("diff-p3-channel")]
    [InlineData("diff-p3-async-enumerable")]
    [InlineData("diff-p3-periodic-timer")]
    [InlineData("diff-p3-cancel-after")]
    [InlineData("diff-p3-configureawait-false-monitor")]
    [InlineData("diff-p3-sync-over-async-nested")]
    [InlineData("diff-p3-asynclocal-into-thread")]
    [InlineData("diff-p3-unsafe-queue-work-item")]
    [InlineData("diff-p3-unobserved-task-exception")]
    [InlineData("diff-p3-long-running-task")]
    [InlineData("diff-p3-scheduler-current")]
    [InlineData("diff-p3-channel-sync-continuations")]
    [InlineData("diff-p3-finalizer-takes-lock")]
    [InlineData("diff-p3-wait-with-token")]
    [InlineData("diff-p3-register-callback-context")]
    [InlineData("diff-p3-culture-and-suppressflow")]
    [InlineData("diff-p3-many-concurrent-awaits")]
    [InlineData("diff-p3-suppressed-flow-post-leak")]
    [InlineData("diff-p3-register-wait")]
    [InlineData("diff-p3-first-chance-exceptions")]
    [InlineData("diff-p3-deep-recursion-after-await")]
    [InlineData("diff-p3-poll-for-completion")]
    [InlineData("diff-p3-worker-service")]
    [InlineData("diff-p3-async-pump")]
    [InlineData("diff-p1-join-timespan")]
    [InlineData("diff-p1-spinuntil")]
    [InlineData("diff-p1-yield-sleep0-loops")]
    [InlineData("diff-p1-spinlock")]
    [InlineData("diff-p1-parallel-from-main")]
    [InlineData("diff-p1-parallel-from-thread")]
    [InlineData("diff-p1-threadpool-waits")]
    [InlineData("diff-p1-timers")]
    [InlineData("diff-p1-cancellation")]
    [InlineData("diff-p1-task-delay-wait")]
    [InlineData("diff-p1-monitor-tryenter")]
    [InlineData("diff-p1-lock-type")]
    [InlineData("diff-p1-lazy-modes")]
    [InlineData("diff-p1-getoradd-locks")]
    [InlineData("diff-p1-queue-semaphoreslim")]
    [InlineData("diff-p1-thread-properties")]
    [InlineData("diff-p1-thousand-threads-one-lock")]
    [InlineData("diff-p1-nested-lock-wait")]
    [InlineData("diff-p1-pulseall-storm")]
    [InlineData("diff-p1-finalizer-lock")]
    [InlineData("diff-p1-suppress-flow")]
    [InlineData("diff-p1-barrier-throwing-action")]
    [InlineData("diff-p1-rwlockslim-many")]
    [InlineData("diff-p1-timeouts-not-early")]
    [InlineData("diff-p1-mutex-abandoned")]
    [InlineData("diff-p1-static-ctor-blocks")]
    [InlineData("diff-p1-thread-chain")]
    [InlineData("diff-p1-pulse-across-pool")]
    [InlineData("diff-p1-long-running-tasks")]
    [InlineData("diff-p1-threadlocal-tracking")]
    [InlineData("diff-p1-argument-errors")]
    [InlineData("diff-p1-handoff-to-blocked-waiters")]
    [InlineData("diff-p1-dispose-while-waiting")]
    [InlineData("diff-p1-blocked-thread-state")]
    [InlineData("diff-p1-wait-reacquires")]
    [InlineData("diff-p1-pulse-wakes-one")]
    [InlineData("diff-p1-semaphore-counts")]
    [InlineData("diff-p1-timed-lock-cycle")]
    [InlineData("diff-p1-thread-names")]
    [InlineData("diff-p1-await-continuation-inline")]
    [InlineData("diff-p1-interrupt-after-set")]
    [InlineData("diff-p1-pool-wait-releases-lock")]
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
    [InlineData("exit-p3-environment-exit-from-pool")]
    [InlineData("exit-p3-environment-exit-from-continuation")]
    [InlineData("exit-p3-async-void-throws-on-thread")]
    [InlineData("exit-p3-async-void-throws-before-await")]
    [InlineData("exit-p3-exit-code-set-by-thread-after-main")]
    [InlineData("exit-p3-processexit-joins-thread")]
    [InlineData("exit-p3-long-running-task-does-not-hold-exit")]
    [InlineData("exit-p3-foreground-from-timer-callback")]
    [InlineData("exit-p3-foreground-blocked-in-await")]
    [InlineData("exit-p3-unhandled-on-pool-work-item")]
    [InlineData("exit-p3-exit-with-green-threads-in-lock-and-await")]
    [InlineData("exit-p3-exit-code-set-in-processexit")]
    [InlineData("exit-p3-environment-exit-from-pool-processexit-joins")]
    [InlineData("exit-p3-failfast-in-continuation")]
    [InlineData("exit-p3-unhandled-handler-flushes-logger")]
    [InlineData("exit-p3-sigterm-graceful-shutdown")]
    [InlineData("exit-p3-sigterm-default")]
    [InlineData("exit-p3-unhandled-after-main-returned")]
    [InlineData("exit-p3-processexit-flushes-async")]
    [InlineData("exit-p3-unhandled-handler-flushes-async")]
    [InlineData("exit-p3-async-void-fault-handler-flushes-async")]
    [InlineData("exit-p3-processexit-handler-throws")]
    [InlineData("exit-p1-unhandled-handler")]
    [InlineData("exit-p1-processexit-stops-worker")]
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
