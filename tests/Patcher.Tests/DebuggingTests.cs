using Evergreen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Evergreen.Patcher.Tests;

/// <summary>
/// Issue 12.1/12.2 under the monkey patch, each in a fresh child (tests/Patcher.Child/Scenarios.Debugging.cs): deadlock
/// cycles with lock, System.Threading.Lock and Join named as they close — logged by default (the threads stay parked, as
/// plain .NET would hang), thrown into the closing wait with EVERGREEN_DEADLOCK=throw (and the program then finishes) —
/// and the green-thread dump through Green.DumpThreads and SIGQUIT.
/// </summary>
public class DebuggingTests(ITestOutputHelper output)
{
    private ChildResult Run(string scenario, params (string Name, string Value)[] environment)
    {
        var result = ChildProcess.Run(PatchScenarioTests.ChildDll, scenario, environment);
        output.WriteLine(result.ToString());
        Assert.True(result.Passed, result.ToString());
        return result;
    }

    [Theory]
    [InlineData("deadlock-lock-cycle", "log")]
    [InlineData("deadlock-lock-cycle", "throw")]
    [InlineData("deadlock-locktype-cycle", "log")]
    [InlineData("deadlock-locktype-cycle", "throw")]
    [InlineData("deadlock-join-cycle", "log")]
    [InlineData("deadlock-join-cycle", "throw")]
    [InlineData("deadlock-mix-lock-closes", "log")]
    [InlineData("deadlock-mix-lock-closes", "throw")]
    [InlineData("deadlock-mix-join-closes", "log")]
    [InlineData("deadlock-mix-join-closes", "throw")]
    [InlineData("deadlock-chain-no-cycle", "log")]
    [InlineData("deadlock-chain-no-cycle", "throw")]
    public void Deadlock(string scenario, string mode) => Run(scenario, ("EVERGREEN_DEADLOCK", mode));

    [Fact]
    public void A_cycle_report_carries_every_threads_stack_when_stacks_are_captured()
    {
        var result = Run("deadlock-lock-cycle", ("EVERGREEN_STACKS", "1"));
        // The report names each thread's parked stack, down to the scenario's own lambdas for both threads.
        Assert.Equal(2, result.Stdout.Split('\n').Count(l => l.Contains("waits for the lock of")));
        Assert.True(result.Stdout.Split("waits for the lock of").Skip(1).All(part => part.Contains("DeadlockLockCycle")), result.Stdout);
        Assert.DoesNotContain("set EVERGREEN_STACKS=1", result.Stdout);
    }

    [Fact]
    public void The_dump_names_each_wait_through_the_API_and_through_SIGQUIT_on_stderr()
    {
        var result = Run("dump-threads");
        // The child checked both dumps line by line; the signal's went to the real stderr too.
        Assert.Contains("signal SIGQUIT (racy snapshot", result.Stderr);
        Assert.Contains("\"receiver\"", result.Stderr);
        Assert.Contains("=== end of green threads ===", result.Stderr);
    }

    [Fact]
    public void With_stacks_captured_the_dump_shows_where_each_thread_parked()
    {
        var result = Run("dump-threads", ("EVERGREEN_STACKS", "1"));
        var lines = result.Stdout.Split('\n');
        int waiter = Array.FindIndex(lines, l => l.Contains("\"lock-waiter\"") && l.Contains("waiting"));
        Assert.True(waiter >= 0, result.Stdout);
        // Under the thread's line: its stack from the first frame outside Evergreen, down to the scenario's lambda.
        Assert.StartsWith("      at System.Threading.Monitor.Enter", lines[waiter + 1]);
        Assert.Contains(lines.Skip(waiter + 1).TakeWhile(l => l.StartsWith("      at ")), l => l.Contains("Scenarios.") && l.Contains("DumpThreads"));
        Assert.DoesNotContain("set EVERGREEN_STACKS=1", result.Stdout);
    }
}
