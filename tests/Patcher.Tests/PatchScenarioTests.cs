using Evergreen.Testing;
using Xunit;
using Xunit.Abstractions;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Evergreen.Patcher.Tests;

/// <summary>Every scenario patches, so each runs in a fresh child process (patching is one-way).</summary>
public class PatchScenarioTests(ITestOutputHelper output)
{
    /// <summary>The child's exit code for "could not run here"; it prints "skip: reason" (Scenarios.SkipExitCode).</summary>
    private const int SkipExitCode = 3;

    // tests/Patcher.Tests/bin/<cfg>/net10.0 → tests/Patcher.Child/bin/<cfg>/net10.0
    internal static readonly string ChildDll = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..",
        "Patcher.Child", "bin", new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, "net10.0", "Evergreen.Patcher.Child.dll"));

    private void AssertPass(string scenario, params (string Name, string Value)[] environment)
    {
        var result = ChildProcess.Run(ChildDll, scenario, environment);
        output.WriteLine(result.ToString());
        Assert.True(result.Passed, result.ToString());
    }

    [Theory]
    [InlineData("main-is-green")]
    [InlineData("sleep-overlap")]
    [InlineData("lock-contention")]
    [InlineData("monitor-wait-pulse")]
    [InlineData("lock-green-and-native")]
    [InlineData("original-thread-parallel")]
    [InlineData("tcp-green")]
    [InlineData("ssl-green")]
    [InlineData("sqlite-busy-tpool")]
    [InlineData("sqlite-function-wait")]
    [InlineData("bcl-blocking-collection")]
    [InlineData("bcl-semaphoreslim")]
    [InlineData("bcl-concurrent-dictionary")]
    [InlineData("bcl-task-result")]
    [InlineData("http-send-green")]
    [InlineData("monitor-many-contenders")]
    [InlineData("second-call")]
    [InlineData("unknown-name")]
    [InlineData("foreground-exit")]
    [InlineData("native-block-takeback-logged")]
    [InlineData("runtime-threads-stay-native")]
    [InlineData("native-threads-use-originals")]
    [InlineData("process-pipes-green")]
    [InlineData("udpclient-green")]
    [InlineData("scatter-sendfile-green")]
    [InlineData("monitor-tryenter-timeout-green")]
    [InlineData("killed-lock-waiter-passes-wake-on")]
    [InlineData("patch-fails-nothing-stays")]
    [InlineData("late-thread")]
    [InlineData("late-socket")]
    [InlineData("late-offthread")]
    [InlineData("monitor-green-and-native-hold")]
    [InlineData("dns-hostentry-green")]
    [InlineData("thread-start-keeps-hub-live")]
    [InlineData("runtime-threads-keep-cpu-set")]
    public void Scenario(string name) => AssertPass(name);

    /// <summary>
    /// An Original (native) receive on a green thread blocks its OS thread and, with taking the baton back off, the hub
    /// (with it on, a receive longer than EVERGREEN_TAKEBACK_MS, as under load, would let the green thread run: no fixed outcome).
    /// </summary>
    [Fact]
    public void OriginalSocketReceiveBlocksTheHubWithoutTakingBack() => AssertPass("original-socket-blocks", ("EVERGREEN_TAKEBACK_MS", "0"));

    /// <summary>With taking the baton back off (eventlet's behaviour), SQLite's native busy wait freezes the hub.</summary>
    [Fact]
    public void NativeBusyWaitFreezesTheHubWithoutTakingBack() => AssertPass("sqlite-busy-frozen", ("EVERGREEN_TAKEBACK_MS", "0"));

    /// <summary>With it (the default), the hub takes the baton back from the busy wait and the lock holder commits meanwhile.</summary>
    [Fact]
    public void NativeBusyWaitIsTakenBack() => AssertPass("sqlite-busy-taken-back");

    /// <summary>Npgsql (sync API) against the local PostgreSQL; Skipped, with the reason, when no server is reachable.</summary>
    [SkippableFact]
    public void NpgsqlSyncApiIsGreen()
    {
        var result = ChildProcess.Run(ChildDll, "npgsql-green");
        output.WriteLine(result.ToString());
        if (result.ExitCode == SkipExitCode)
        {
            string reason = result.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith("skip:"))?.Trim() ?? "skip: no reason printed";
            throw new SkipTestException(reason);
        }
        Assert.True(result.Passed, result.ToString());
    }

    /// <summary>
    /// StackExchange.Redis from 20 plain threads on one multiplexer against the local redis-server (issue 11.8: a lost
    /// wake stalled it ~5 s); Skipped, with the reason, when no server is reachable (scripts/install-redis.sh).
    /// </summary>
    [SkippableFact]
    public void RedisMultiplexerIsGreenWithoutStalls()
    {
        var result = ChildProcess.Run(ChildDll, "redis-multiplexed");
        output.WriteLine(result.ToString());
        if (result.ExitCode == SkipExitCode)
        {
            string reason = result.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith("skip:"))?.Trim() ?? "skip: no reason printed";
            throw new SkipTestException(reason);
        }
        Assert.True(result.Passed, result.ToString());
    }

    /// <summary>Every wake path, 10,000 rounds each, 0 lost and 0 late (issue 11.8; millions: scripts/wake-torture.sh).</summary>
    [Fact]
    public void NoWakeIsLostOrLate() => AssertPass("wakes-torture");

    // Regression: the original Thread.Sleep(TimeSpan) (a native thread after MonkeyPatch, or Original<OriginalTime>)
    // went through a trampoline whose emulated call hit an unbound ReadyToRun import cell and passed garbage.
    [Fact]
    public void OriginalSleepTimeSpanWorksOnNativeThreads() => AssertPass("native-sleep-timespan");

    // System.Threading.Lock: src/Patcher/Replacements/LockPatch.cs (applied after the Monitor table).
    [Theory]
    [InlineData("lock-type-contention")]
    [InlineData("lock-type-api")]
    [InlineData("lock-type-green-and-native")]
    [InlineData("lock-type-many-contenders")]
    public void LockType(string name) => AssertPass(name);

    // Regression: with DOTNET_ReadyToRun=0 CoreLib's bodies are JIT-compiled into code-heap ranges committed after a
    // cached /proc/self/maps snapshot was taken, and MonkeyPatch refused Thread.Sleep as "not executable memory".
    [Theory]
    [InlineData("DOTNET_ReadyToRun")]
    [InlineData("DOTNET_TieredCompilation")]
    [InlineData("DOTNET_TieredPGO")]
    public void MonkeyPatchWorksWithRuntimeSettingOff(string variable) => AssertPass("lock-contention", (variable, "0"));

    [Fact]
    public void EnvironmentSwitchMakesMonkeyPatchANoOp() => AssertPass("env-disabled", ("EVERGREEN_NO_PATCH", "1"));

    [Fact]
    public void DebuggerModeLeavesThreadPatchingOff() => AssertPass("debug-mode", ("EVERGREEN_DEBUG", "1"));
}
