// Issue 11, point 7: top-level statements with MonkeyPatch first must end as unpatched — every line printed, the exit
// code set through Environment.ExitCode (no return statement) — although foreground threads started after an await
// and on the pool (after ConfigureAwait(false)) outlive them. Run unpatched and patched by Patcher.Tests (ProcessExitTests), which compares the two runs.
using Evergreen.Patching;

Patcher.MonkeyPatch();
Console.WriteLine("top level: before the first await");
await Task.Delay(10);
new Thread(() =>
{
    Thread.Sleep(200);
    Console.WriteLine("foreground thread started after an await: finished after the top-level statements");
}).Start();
await Task.Delay(10).ConfigureAwait(false);
new Thread(() =>
{
    Thread.Sleep(200);
    Console.WriteLine("foreground thread started on the pool: finished after the top-level statements");
}).Start();
Environment.ExitCode = 4;
Console.WriteLine("top level: done, exit code 4");
