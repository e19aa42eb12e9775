using Evergreen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Evergreen.Patcher.Tests;

/// <summary>
/// Issue 11, point 7: a patched process ends as a plain one does — when its last foreground thread ends, whoever
/// started it — for <c>async Task&lt;int&gt; Main</c> and top-level statements. Each child program runs unpatched
/// (EVERGREEN_NO_PATCH=1) and patched; the exit codes and the printed lines (order aside: the late threads race
/// each other) must be the same.
/// </summary>
public class ProcessExitTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("AsyncMain.Child", "Evergreen.AsyncMain.Child.dll", "", 3, 5)]
    [InlineData("TopLevel.Child", "Evergreen.TopLevel.Child.dll", "", 4, 4)]
    [InlineData("AsyncMain.Child", "Evergreen.AsyncMain.Child.dll", "async-void-throws", 134, 1)] // SIGABRT: unhandled
    [InlineData("AsyncMain.Child", "Evergreen.AsyncMain.Child.dll", "turns-background", 0, 2)]
    [InlineData("AsyncMain.Child", "Evergreen.AsyncMain.Child.dll", "throws-after-await", 134, 1)] // SIGABRT: unhandled on main
    public void Same_exit_code_and_lines_patched_and_unpatched(string project, string dll, string argument, int exitCode, int lines)
    {
        // tests/Patcher.Tests/bin/<cfg>/net10.0 → tests/<project>/bin/<cfg>/net10.0
        string path = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..",
            project, "bin", new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, "net10.0", dll));
        var plain = ChildProcess.Run(path, argument, ("EVERGREEN_NO_PATCH", "1"));
        var patched = ChildProcess.Run(path, argument);
        output.WriteLine("unpatched:\n" + plain + "\npatched:\n" + patched);
        Assert.Equal(exitCode, plain.ExitCode);
        Assert.Equal(lines, Lines(plain.Stdout).Count);
        Assert.Equal(plain.ExitCode, patched.ExitCode);
        Assert.Equal(Lines(plain.Stdout), Lines(patched.Stdout));
    }

    private static List<string> Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).Order(StringComparer.Ordinal).ToList();
}
