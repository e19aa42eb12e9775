using System.Diagnostics;

namespace Evergreen.Testing;

/// <summary>
/// Runs one scenario of a child program in a fresh process (patching is one-way for a process), the one runner of
/// every test project that starts children (linked into each). The pass rule is exact: exit code 0 and
/// <c>pass</c> as the last line of standard output. A child still running after <see cref="Timeout"/> is killed
/// with its process tree and fails.
/// </summary>
internal static class ChildProcess
{
    /// <summary>How long a scenario may run. Children that bound themselves (Patcher.Child's watchdog, 90 s) stay below it.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>Runs <c>dotnet <paramref name="dll"/> <paramref name="scenario"/></c> with <paramref name="environment"/> added.</summary>
    public static ChildResult Run(string dll, string scenario, params (string Name, string Value)[] environment)
    {
        if (!File.Exists(dll)) throw new FileNotFoundException("child program not built: " + dll, dll);
        var start = new ProcessStartInfo("dotnet", [dll, scenario]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new ChildResult(scenario, environment, -1, stdout.Result, stderr.Result + $"\n[killed: still running after {Timeout.TotalSeconds:0} s]");
        }
        return new ChildResult(scenario, environment, process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs the scenario and fails the test unless it passed (see the class summary).</summary>
    public static void AssertPass(string dll, string scenario, params (string Name, string Value)[] environment)
    {
        var result = Run(dll, scenario, environment);
        Xunit.Assert.True(result.Passed, result.ToString());
    }
}

/// <summary>What a child printed and how it ended.</summary>
internal sealed record ChildResult(string Scenario, (string Name, string Value)[] Environment, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The last non-empty line of standard output, or "".</summary>
    public string LastLine => Stdout.TrimEnd().Split('\n')[^1].TrimEnd('\r');

    /// <summary>Exit code 0 and <c>pass</c> as the last line of standard output, exactly.</summary>
    public bool Passed => ExitCode == 0 && LastLine == "pass";

    public override string ToString() =>
        $"scenario {Scenario}{string.Concat(Environment.Select(e => $" {e.Name}={e.Value}"))} exited {ExitCode}, last line '{LastLine}'\n" +
        $"--- stdout\n{Stdout}--- stderr\n{Stderr}";
}
