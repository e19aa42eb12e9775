// Process exit as plain .NET (issue 11.7 and 11.9): exit codes, Environment.Exit from a thread, an unhandled
// exception on a thread, foreground and background threads outliving Main. DifferentialTests compares exit code,
// stdout and the "Unhandled exception." line of stderr between the unpatched and the patched run.
internal static partial class Scenarios
{
    public static int RunExit(string name)
    {
        switch (name)
        {
            case "exit-code-from-main":
                Console.WriteLine("main returns 7");
                return 7;
            case "exit-environment-exit-from-thread":
                new Thread(() =>
                {
                    Console.WriteLine("thread calls Environment.Exit(5)");
                    Environment.Exit(5);
                }).Start();
                new ManualResetEvent(false).WaitOne(); // never set: the exit ends the wait
                Console.WriteLine("not reached");
                return 1;
            case "exit-unhandled-on-thread":
                var thrower = new Thread(() => throw new InvalidOperationException("boom on a thread"));
                thrower.Start();
                thrower.Join();
                Console.WriteLine("not reached");
                return 1;
            case "exit-foreground-thread-outlives-main":
                new Thread(() =>
                {
                    Thread.Sleep(50);
                    Console.WriteLine("foreground thread's last line");
                }).Start();
                Console.WriteLine("main returns 3");
                return 3;
            case "exit-background-thread-does-not-hold-exit":
                new Thread(() => Thread.Sleep(Timeout.Infinite)) { IsBackground = true }.Start();
                Console.WriteLine("main returns 4");
                return 4;
            case "exit-p1-unhandled-handler":
                AppDomain.CurrentDomain.UnhandledException += (_, e) =>
                    Console.WriteLine($"handler: {((Exception)e.ExceptionObject).Message}, terminating {e.IsTerminating}");
                var failing = new Thread(() => throw new InvalidOperationException("thrown on a thread"));
                failing.Start();
                failing.Join();
                Console.WriteLine("not reached");
                return 1;
            case "exit-p1-processexit-stops-worker":
                // The shutdown idiom: a background worker polls a stop event; ProcessExit sets it and joins the worker.
                var stop = new ManualResetEvent(false);
                var worker = new Thread(() =>
                {
                    while (!stop.WaitOne(5)) { }
                    Console.WriteLine("worker saw the stop");
                })
                { IsBackground = true };
                worker.Start();
                object gate = new();
                bool stopping = false;
                var waiter = new Thread(() =>
                {
                    lock (gate)
                    {
                        while (!stopping) Monitor.Wait(gate);
                    }
                })
                { IsBackground = true };
                waiter.Start();
                AppDomain.CurrentDomain.ProcessExit += (_, _) =>
                {
                    stop.Set();
                    Console.WriteLine($"ProcessExit joined the worker: {worker.Join(10_000)}");
                    lock (gate) { stopping = true; Monitor.PulseAll(gate); }
                    Console.WriteLine($"ProcessExit joined the Monitor.Wait thread: {waiter.Join(10_000)}");
                };
                Console.WriteLine("main returns 6");
                return 6;
            default:
                return RunProbe3Exit(name) ?? RunEdgesExit(name) ?? throw new ArgumentException("unknown exit scenario " + name);
        }
    }
}
