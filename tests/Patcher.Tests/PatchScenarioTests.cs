using System.Diagnostics;
using Xunit;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Evergreen.Patcher.Tests;

/// <summary>Every scenario patches, so each runs in a fresh child process (patching is one-way).</summary>
public class PatchScenarioTests
{
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
    [InlineData("second-call")]
    [InlineData("unknown-name")]
    [InlineData("foreground-exit")]
    [InlineData("late-thread")]
    [InlineData("late-socket")]
    [InlineData("late-offthread")]
    public void Scenario(string name)
    {
        var (code, output) = RunChild(name);
        Assert.True(code == 0 && output.Contains("pass"), $"scenario {name} exited {code}:\n{output}");
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
