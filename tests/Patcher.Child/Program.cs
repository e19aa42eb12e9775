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
                    var t = new Thread(() => { }) ; t.Start(); t.Join();
                    new Thread(() => Thread.Sleep(System.Threading.Timeout.Infinite)) { IsBackground = true }.Start();
                    return ExpectLate(() => Patcher.MonkeyPatch(), "already started threads");
                case "late-socket":
                    using (var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
                        return ExpectLate(() => Patcher.MonkeyPatch(), "socket");
                case "late-offthread":
                    int rc = 1;
                    var th = new Thread(() => rc = ExpectLate(() => Patcher.MonkeyPatch(), "not on the program's entry thread"));
                    th.Start(); th.Join();
                    return rc;
            }
            Patcher.MonkeyPatch(os: scenario != "no-os");
            return Scenarios.Run(scenario);
        }
        catch (Exception ex) when (ex is not LatePatchException || !scenario.StartsWith("late"))
        {
            Console.WriteLine("FAIL " + scenario + ": " + ex);
            return 1;
        }
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
            Console.WriteLine("pass: " + e.Message);
            return 0;
        }
    }
}
