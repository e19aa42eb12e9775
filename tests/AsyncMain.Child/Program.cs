using Evergreen.Patching;

// Issue 11, point 7: `static async Task<int> Main` with MonkeyPatch first must end as unpatched — every line printed,
// Main's exit code — although its foreground threads outlive Main and were started after an await (a green
// continuation), from a pool thread (Task.Run) and after ConfigureAwait(false). Run unpatched and patched by
// Patcher.Tests (ProcessExitTests), which compares the two runs.
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        Patcher.MonkeyPatch();
        if (args is ["async-void-throws"]) return await AsyncVoidThrows();
        if (args is ["turns-background"]) return TurnsBackground();
        if (args is ["throws-after-await"]) return await ThrowsAfterAwait();
        Console.WriteLine("main: before the first await");
        await Task.Delay(10);
        StartLate("started after an await");
        await Task.Run(() => StartLate("started on a pool thread"));
        await Task.Delay(10).ConfigureAwait(false);
        StartLate("started after ConfigureAwait(false)");
        var background = new Thread(() => Thread.Sleep(Timeout.Infinite)) { IsBackground = true };
        background.Start(); // never ends: the process must not wait for it
        Console.WriteLine("main: returning 3");
        return 3;
    }

    /// <summary>
    /// An exception escaping an async void method ends the process as an unhandled exception (after the
    /// UnhandledException event), patched as unpatched: the green context must not swallow what it is posted.
    /// </summary>
    private static async Task<int> AsyncVoidThrows()
    {
        AppDomain.CurrentDomain.UnhandledException += (_, e) => Console.WriteLine("unhandled: " + ((Exception)e.ExceptionObject).Message);
        Fire();
        await Task.Delay(Timeout.Infinite);
        return 0;

        static async void Fire()
        {
            await Task.Yield();
            throw new InvalidOperationException("boom from async void");
        }
    }

    /// <summary>A foreground thread that makes itself background after Main returned, then never ends: the process ends.</summary>
    private static int TurnsBackground()
    {
        new Thread(() =>
        {
            Thread.Sleep(200);
            Console.WriteLine("thread: turning background");
            Thread.CurrentThread.IsBackground = true;
            new ManualResetEvent(false).WaitOne(); // forever (a wait the hub's deadlock check cannot end)
        }).Start();
        Console.WriteLine("main: returning 0");
        return 0;
    }

    /// <summary>A foreground thread that outlives Main (the sleep makes it end after Main returned) and then prints.</summary>
    private static void StartLate(string how) =>
        new Thread(() =>
        {
            Thread.Sleep(200);
            Console.WriteLine("foreground thread " + how + ": finished after Main");
        }).Start();

    /// <summary>
    /// async Main faulting after an await, while a foreground thread is still running: the process ends at once as an
    /// unhandled exception on the main thread (exit code 134, the thread's line never printed), patched as unpatched.
    /// </summary>
    private static async Task<int> ThrowsAfterAwait()
    {
        new Thread(() =>
        {
            new ManualResetEvent(false).WaitOne(); // never set: only the crash ends the process
            Console.WriteLine("not reached");
        }).Start();
        Console.WriteLine("main: before the await");
        await Task.Delay(10);
        throw new InvalidOperationException("boom from async Main after an await");
    }
}
