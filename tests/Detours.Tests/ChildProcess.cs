using System.Diagnostics;

namespace Evergreen.Detours.Tests;

/// <summary>Runs one scenario of Evergreen.Detours.Child in a fresh process (patching is one-way for a process).</summary>
internal static class ChildProcess
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(90);

    internal static (int ExitCode, string Output) Run(string scenario, params (string Name, string Value)[] environment)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Evergreen.Detours.Child.dll");
        var start = new ProcessStartInfo("dotnet", [dll, scenario])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(s_timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after {s_timeout}\n{stdout.Result}{stderr.Result}");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    internal static void AssertPass(string scenario, params (string Name, string Value)[] environment)
    {
        var (exitCode, output) = Run(scenario, environment);
        string lastLine = output.TrimEnd().Split('\n')[^1];
        Xunit.Assert.True(exitCode == 0 && lastLine == "pass", $"{scenario} [{string.Join(' ', environment.Select(e => $"{e.Name}={e.Value}"))}] exit {exitCode}:\n{output}");
    }
}
