using System.Net;
using System.Net.Sockets;
using Evergreen;
using Evergreen.Patching;

// One patch scenario per process (patching is one-way). Prints "pass" and exits 0, or prints why and exits 1.
// The late-patching scenarios deliberately do something before MonkeyPatch; every other one patches first.
internal static class Program
{
    private static int Main(string[] args)
    {
        string scenario = args.Length > 0 ? args[0] : "";
        try
        {
            switch (scenario)
            {
                case "late-thread":
                    var t = new Thread(() => { }); t.Start(); t.Join();
                    new Thread(() => Thread.Sleep(Timeout.Infinite)) { IsBackground = true }.Start();
                    return ExpectLate(() => Patcher.MonkeyPatch(), "already started threads");
                case "late-socket":
                    using (var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
                        return ExpectLate(() => Patcher.MonkeyPatch(), "socket");
                case "patch-fails-nothing-stays":
                    return Scenarios.PatchFailsNothingStays();
                case "late-offthread":
                    int rc = 1;
                    var th = new Thread(() => rc = ExpectLate(() => Patcher.MonkeyPatch(), "not on the program's entry thread"));
                    th.Start(); th.Join();
                    return rc;
            }
            Patcher.MonkeyPatch();
            StartWatchdog(scenario);
            if (scenario.StartsWith("exit-", StringComparison.Ordinal))
            {
                return Scenarios.RunExit(scenario);
            }

            if (scenario.StartsWith("diff-", StringComparison.Ordinal))
            {
                Scenarios.RunDifferential(scenario);
                Console.WriteLine("pass");
                return 0;
            }

            if (scenario.StartsWith("deadlock-", StringComparison.Ordinal) || scenario.StartsWith("dump-", StringComparison.Ordinal))
            {
                Scenarios.RunDebugging(scenario);
                Console.WriteLine("pass");
                return 0;
            }

            return Scenarios.Run(scenario);
        }
        catch (Exception ex) when (ex is not LatePatchException || !scenario.StartsWith("late"))
        {
            Console.WriteLine("FAIL " + scenario + ": " + ex);
            return 1;
        }
    }

    /// <summary>
    /// A native (Original) thread that ends the process with exit code 2 if the scenario has not finished within
    /// EVERGREEN_CHILD_BOUND_S seconds (default 90, below the test's 120 s): a frozen hub cannot run a green timer,
    /// so only a native thread can bound it and say so.
    /// </summary>
    private static void StartWatchdog(string scenario)
    {
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("EVERGREEN_CHILD_BOUND_S"), out int s) && s > 0 ? s : 90;
        Patcher.Original<OriginalThread>().Start(() =>
        {
            Thread.Sleep(seconds * 1000); // native sleep: this thread is not green (int overload: see native-sleep-timespan)
            Console.WriteLine($"FAIL {scenario}: not finished after {seconds} s (safety bound): the hub is frozen or a green thread was never woken");
            if (Scenarios.Diagnostic is { } d) Console.WriteLine("diagnostic: " + d());
            Evergreen.Green.DumpThreads(Console.Out); // what each green thread waits on (a racy snapshot: off the baton)
            Console.Out.Flush();
            Environment.Exit(2);
        }, "scenario-watchdog", isBackground: true);
    }

    private static int ExpectLate(Action patch, string mustMention)
    {
        try
        {
            patch();
            Console.WriteLine("FAIL: MonkeyPatch was not refused");
            return 1;
        }
        catch (LatePatchException e) when (e.Message.Contains(mustMention) && e.Message.Contains("first line of Main"))
        {
            if (Patcher.IsMonkeyPatched("thread") || Patcher.IsMonkeyPatched("socket")) { Console.WriteLine("FAIL: something stayed patched"); return 1; }
            Console.WriteLine("refused as expected: " + e.Message);
            Console.WriteLine("pass");
            return 0;
        }
    }
}
