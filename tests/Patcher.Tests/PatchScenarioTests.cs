using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Evergreen.Patcher.Tests;

/// <summary>Every scenario patches, so each runs in a fresh child process (patching is one-way).</summary>
public class PatchScenarioTests(ITestOutputHelper output)
{
    /// <summary>The child's exit code for "could not run here"; it prints "skip: reason" (Scenarios.SkipExitCode).</summary>
    private const int SkipExitCode = 3;

    private static string ChildDll()
    {
        // tests/Patcher.Tests/bin/<cfg>/net10.0 → tests/Patcher.Child/bin/<cfg>/net10.0
        var here = AppContext.BaseDirectory;
        var cfg = new DirectoryInfo(here).Parent!.Name;
        var path = Path.GetFullPath(Path.Combine(here, "..", "..", "..", "..", "Patcher.Child", "bin", cfg, "net10.0", "Evergreen.Patcher.Child.dll"));
        Assert.True(File.Exists(path), "child host not built: " + path);
        return path;
    }

    private static (int Code, string Out) RunChild(string scenario, params (string Key, string Value)[] env)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(ChildDll());
        psi.ArgumentList.Add(scenario);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000)) { p.Kill(true); return (-1, stdout + "\n[timed out after 120 s]"); }
        return (p.ExitCode, stdout + stderr.Result);
    }

    [Theory]
    [InlineData("main-is-green")]
    [InlineData("sleep-overlap")]
    [InlineData("lock-contention")]
    [InlineData("monitor-wait-pulse")]
    [InlineData("lock-green-and-native")]
    [InlineData("original-thread-parallel")]
    [InlineData("original-socket-blocks")]
    [InlineData("tcp-green")]
    [InlineData("ssl-green")]
    [InlineData("sqlite-busy-frozen")]
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
    [InlineData("dns-hostentry-green")]
    public void Scenario(string name)
    {
        var (code, text) = RunChild(name);
        output.WriteLine(text);
        Assert.True(code == 0 && text.Contains("pass"), $"scenario {name} exited {code}:\n{text}");
    }

    /// <summary>Npgsql (sync API) against the local PostgreSQL; Skipped, with the reason, when no server is reachable.</summary>
    [SkippableFact]
    public void NpgsqlSyncApiIsGreen()
    {
        var (code, text) = RunChild("npgsql-green");
        output.WriteLine(text);
        if (code == SkipExitCode)
        {
            string reason = text.Split('\n').FirstOrDefault(l => l.StartsWith("skip:"))?.Trim() ?? "skip: no reason printed";
            throw new SkipTestException(reason);
        }
        Assert.True(code == 0 && text.Contains("pass"), $"scenario npgsql-green exited {code}:\n{text}");
    }

    // Regression: the original Thread.Sleep(TimeSpan) (a native thread after MonkeyPatch, or Original<OriginalTime>)
    // went through a trampoline whose emulated call hit an unbound ReadyToRun import cell and passed garbage.
    [Fact]
    public void OriginalSleepTimeSpanWorksOnNativeThreads()
    {
        var (code, text) = RunChild("native-sleep-timespan");
        Assert.True(code == 0 && text.Contains("pass"), $"scenario native-sleep-timespan exited {code}:\n{text}");
    }

    // System.Threading.Lock: src/Patcher/Replacements/LockPatch.cs (applied after the Monitor table).
    [Theory]
    [InlineData("lock-type-contention")]
    [InlineData("lock-type-api")]
    [InlineData("lock-type-green-and-native")]
    [InlineData("lock-type-many-contenders")]
    public void LockType(string name)
    {
        var (code, text) = RunChild(name);
        Assert.True(code == 0 && text.Contains("pass"), $"scenario {name} exited {code}:\n{text}");
    }

    // Regression: with DOTNET_ReadyToRun=0 CoreLib's bodies are JIT-compiled into code-heap ranges committed after a
    // cached /proc/self/maps snapshot was taken, and MonkeyPatch refused Thread.Sleep as "not executable memory".
    [Theory]
    [InlineData("DOTNET_ReadyToRun")]
    [InlineData("DOTNET_TieredCompilation")]
    [InlineData("DOTNET_TieredPGO")]
    public void MonkeyPatchWorksWithRuntimeSettingOff(string variable)
    {
        var (code, text) = RunChild("lock-contention", (variable, "0"));
        Assert.True(code == 0 && text.Contains("pass"), $"lock-contention with {variable}=0 exited {code}:\n{text}");
    }

    [Fact]
    public void EnvironmentSwitchMakesMonkeyPatchANoOp()
    {
        var (code, output) = RunChild("env-disabled", ("EVERGREEN_NO_PATCH", "1"));
        Assert.True(code == 0 && output.Contains("pass"), output);
    }

    [Fact]
    public void DebuggerModeLeavesThreadPatchingOff()
    {
        var (code, output) = RunChild("debug-mode", ("EVERGREEN_DEBUG", "1"));
        Assert.True(code == 0 && output.Contains("pass"), output);
    }
}
