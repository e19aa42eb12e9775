using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Evergreen;

// Issue 12.1 and 12.2 under the monkey patch: the green-thread dump (Green.DumpThreads and SIGQUIT) and deadlock cycles
// named as they close, with plain Thread, lock, System.Threading.Lock and Join. Each deadlock scenario runs in both modes:
// by default the cycle is logged and the threads stay parked (plain .NET would hang), with EVERGREEN_DEADLOCK=throw the
// closing wait throws GreenDeadlockException and the program finishes.
internal static partial class Scenarios
{
    public static void RunDebugging(string name)
    {
        switch (name)
        {
            case "deadlock-lock-cycle": DeadlockLockCycle(lockType: false); break;
            case "deadlock-locktype-cycle": DeadlockLockCycle(lockType: true); break;
            case "deadlock-join-cycle": DeadlockJoinCycle(); break;
            case "deadlock-mix-lock-closes": DeadlockMix(lockCloses: true); break;
            case "deadlock-mix-join-closes": DeadlockMix(lockCloses: false); break;
            case "deadlock-chain-no-cycle": DeadlockChainNoCycle(); break;
            case "dump-threads": DumpThreads(); break;
            default: throw new ArgumentException("unknown scenario " + name);
        }
    }

    private static readonly bool s_throwMode = Environment.GetEnvironmentVariable("EVERGREEN_DEADLOCK") == "throw";

    private sealed class ReportSink(Action<string> onReport) : Serilog.Core.ILogEventSink
    {
        public void Emit(Serilog.Events.LogEvent e)
        {
            var text = e.RenderMessage();
            if (text.StartsWith("Green deadlock", StringComparison.Ordinal)) onReport(text);
        }
    }

    /// <summary>Deadlock reports logged through Hub.Logger; <c>Reported</c> is sent at the first (on the closing green thread).</summary>
    private sealed class Reports
    {
        public readonly List<string> All = new();
        public readonly Evergreen.Event Reported = new();

        public Reports() => Hub.Logger = new Serilog.LoggerConfiguration().WriteTo.Sink(new ReportSink(text =>
        {
            All.Add(text);
            if (!Reported.Ready) Reported.Send();
        })).CreateLogger();
    }

    private sealed class LockOne;

    private sealed class LockTwo;

    /// <summary>
    /// The cycle is named: in log mode by the one report, in throw mode by the exception <paramref name="closer"/> caught
    /// (and the same report logged). Both name every thread and what it waits on.
    /// </summary>
    private static void CheckCycle(Reports reports, Exception? closerError, Exception? otherError, string closer, params string[] mustName)
    {
        if (!s_throwMode) reports.Reported.Wait(); // parked forever otherwise: only the report can end this wait
        Check(reports.All.Count == 1, $"one deadlock report (got {reports.All.Count})");
        string report = reports.All[0];
        Console.WriteLine("out: " + report.Replace("\n", "\nout: "));
        foreach (var s in mustName) Check(report.Contains(s), $"the report names {s}:\n{report}");
        Check(report.Contains($"\"{closer}\"'s wait closed the cycle") || report.Contains($"thrown into green thread #"), "the report names the closing thread");
        if (s_throwMode)
        {
            Check(closerError is GreenDeadlockException, $"{closer}'s wait threw GreenDeadlockException (got {closerError?.GetType().Name ?? "nothing"})");
            Check(closerError!.Message == report, "the exception carries the report");
            Check(otherError == null, "only the closing wait threw");
        }
        else
        {
            Check(closerError == null && otherError == null, "log mode throws nothing");
        }
    }

    /// <summary>AB/BA: A holds L1 and wants L2 while B holds L2 and wants L1; A's wait closes the cycle.</summary>
    private static void DeadlockLockCycle(bool lockType)
    {
        var reports = new Reports();
#pragma warning disable CS9216 // held through Hold, which takes a Lock as a Lock (lock (Lock)), never as a Monitor
        object l1 = lockType ? new Lock() : new LockOne(), l2 = lockType ? new Lock() : new LockTwo();
#pragma warning restore CS9216
        var aHolds = new Evergreen.Event();
        var bHolds = new Evergreen.Event();
        Exception? aError = null, bError = null;
        var a = new Thread(() =>
        {
            try
            {
                Hold(l1, () => { aHolds.Send(); bHolds.Wait(); Hold(l2, () => { }); });
            }
            catch (GreenDeadlockException e) { aError = e; }
        })
        { Name = "A", IsBackground = true };
        var b = new Thread(() =>
        {
            try
            {
                aHolds.Wait();
                Hold(l2, () => { bHolds.Send(); Hold(l1, () => { }); }); // parks: A holds l1 and is runnable, no cycle yet
            }
            catch (GreenDeadlockException e) { bError = e; }
        })
        { Name = "B", IsBackground = true };
        a.Start();
        b.Start();
        if (s_throwMode) { a.Join(); b.Join(); }
        string type1 = lockType ? "System.Threading.Lock" : "Scenarios+LockOne", type2 = lockType ? "System.Threading.Lock" : "Scenarios+LockTwo";
        CheckCycle(reports, aError, bError, "A",
            $"\"A\" waits for the lock of {type2} held by green thread #", $"\"B\" waits for the lock of {type1} held by green thread #");
    }

    /// <summary>Takes <paramref name="gate"/>'s lock around <paramref name="body"/>: <c>lock</c> on an object, or on a System.Threading.Lock.</summary>
    private static void Hold(object gate, Action body)
    {
        if (gate is Lock l)
        {
            lock (l) body();
        }
        else
        {
            lock (gate) body();
        }
    }

    /// <summary>A joins B while B joins A; A's join closes the cycle.</summary>
    private static void DeadlockJoinCycle()
    {
        var reports = new Reports();
        var bStarted = new Evergreen.Event();
        Thread? a = null, b = null;
        Exception? aError = null, bError = null;
        a = new Thread(() =>
        {
            try { bStarted.Wait(); b!.Join(); }
            catch (GreenDeadlockException e) { aError = e; }
        })
        { Name = "A", IsBackground = true };
        b = new Thread(() =>
        {
            try { bStarted.Send(); a.Join(); } // parks: A is runnable, no cycle yet
            catch (GreenDeadlockException e) { bError = e; }
        })
        { Name = "B", IsBackground = true };
        a.Start();
        b.Start();
        if (s_throwMode) { a.Join(); b.Join(); }
        CheckCycle(reports, aError, bError, "A", "\"A\" waits for the end of green thread #", "\"B\" (join)", "\"B\" waits for the end of green thread #", "\"A\" (join)");
    }

    /// <summary>
    /// A holds L and joins B while B waits for L. With <paramref name="lockCloses"/> A joins first and B's lock wait closes
    /// the cycle; otherwise B waits for L first and A's join closes it.
    /// </summary>
    private static void DeadlockMix(bool lockCloses)
    {
        var reports = new Reports();
        var gate = new LockOne();
        var aHolds = new Evergreen.Event();
        var bWaits = new Evergreen.Event();
        Thread? b = null;
        Exception? aError = null, bError = null;
        var a = new Thread(() =>
        {
            try
            {
                lock (gate)
                {
                    aHolds.Send();
                    if (!lockCloses) bWaits.Wait(); // B runs until it parks on the lock
                    b!.Join();
                }
            }
            catch (GreenDeadlockException e) { aError = e; }
        })
        { Name = "A", IsBackground = true };
        b = new Thread(() =>
        {
            try
            {
                aHolds.Wait();
                if (!lockCloses) bWaits.Send();
                lock (gate) { }
            }
            catch (GreenDeadlockException e) { bError = e; }
        })
        { Name = "B", IsBackground = true };
        b.Start(); // first: a Join of a thread not yet started is a native join (on a tpool thread), which the check cannot follow
        a.Start();
        if (s_throwMode) { a.Join(); b.Join(); }
        string closer = lockCloses ? "B" : "A";
        CheckCycle(reports, lockCloses ? bError : aError, lockCloses ? aError : bError, closer,
            "\"A\" waits for the end of green thread #", "\"B\" (join)", "\"B\" waits for the lock of Scenarios+LockOne held by green thread #");
    }

    /// <summary>
    /// A chain that is no cycle — A wants L1 held by B, B holds L1 and waits for an event C sends — is never reported,
    /// in either mode, and runs to its end.
    /// </summary>
    private static void DeadlockChainNoCycle()
    {
        var reports = new Reports();
        var l1 = new LockOne();
        var bHolds = new Evergreen.Event();
        var go = new Evergreen.Event();
        var order = new List<string>();
        var b = new Thread(() => { lock (l1) { bHolds.Send(); go.Wait(); order.Add("B"); } }) { Name = "B" };
        var a = new Thread(() => { bHolds.Wait(); lock (l1) order.Add("A"); }) { Name = "A" };
        var c = new Thread(() => { bHolds.Wait(); Thread.Sleep(0); go.Send(); }) { Name = "C" };
        b.Start(); a.Start(); c.Start();
        a.Join(); b.Join(); c.Join();
        Check(string.Join(",", order) == "B,A", "order " + string.Join(",", order));
        Check(reports.All.Count == 0, "no deadlock reported: " + string.Join("\n", reports.All));
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    /// <summary>Forwards to the real stderr and signals <paramref name="done"/> once a whole dump went through.</summary>
    private sealed class CaptureWriter(TextWriter inner, ManualResetEvent done) : TextWriter
    {
        private readonly StringBuilder _text = new();

        public override Encoding Encoding => inner.Encoding;

        public string Text { get { lock (_text) return _text.ToString(); } }

        public override void Write(char value) => Write(value.ToString());

        public override void Write(string? value)
        {
            inner.Write(value);
            bool end;
            lock (_text) end = _text.Append(value).ToString().Contains("=== end of green threads ===");
            if (end) done.Set();
        }

        public override void Flush() => inner.Flush();
    }

    /// <summary>A read(2) of a pipe nobody writes: a native block, which the watchdog takes the baton back from.</summary>
    private static unsafe void NativeRead()
    {
        int* fds = stackalloc int[2];
        Check(LibcPipe(fds) == 0, "pipe");
        byte b;
        LibcRead(fds[0], &b, 1);
    }

    /// <summary>
    /// Threads in a lock wait, a sleep, a join, a WaitHandle wait, a socket receive and a native call: Green.DumpThreads names each, and
    /// SIGQUIT (sent to ourselves) prints the same to stderr as a racy snapshot.
    /// </summary>
    private static void DumpThreads()
    {
        Thread.CurrentThread.Name = "main";
        var gate = new LockOne();
        using var blocker = new ManualResetEvent(false);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndpoint);
        using var served = listener.AcceptSocket();
        lock (gate)
        {
            var blocked = new Thread(() => blocker.WaitOne()) { Name = "blocked", IsBackground = true };
            var threads = new[]
            {
                new Thread(() => { lock (gate) { } }) { Name = "lock-waiter", IsBackground = true },
                new Thread(() => Thread.Sleep(TimeSpan.FromMinutes(10))) { Name = "sleeper", IsBackground = true },
                blocked,
                new Thread(() => blocked.Join()) { Name = "joiner", IsBackground = true },
                new Thread(() => served.Receive(new byte[16])) { Name = "receiver", IsBackground = true },
                new Thread(NativeRead) { Name = "native-reader", IsBackground = true }, // taken back by the watchdog (issue 11.2)
            };
            foreach (var t in threads) t.Start();
            string[] expected =
            [
                "\"lock-waiter\"", "for the lock of Scenarios+LockOne held by green thread #1 \"main\"",
                "\"sleeper\"", "for a sleep until",
                "\"blocked\"", "for ManualResetEvent (handle 0x",
                "\"joiner\"", "for the end of green thread #", "\"blocked\" (join)",
                "\"receiver\"", $"for socket Stream/Tcp {served.LocalEndPoint} -> {served.RemoteEndPoint}", "to Receive",
                "\"native-reader\"", "blocked in a native call, the baton taken back",
                "\"main\"", ": running",
            ];
            // Every started thread runs until it parks within a few green yields (no timing involved).
            string dump = "";
            for (int i = 0; i < 100 && !expected.All(dump.Contains); i++)
            {
                Thread.Yield();
                var w = new StringWriter();
                Green.DumpThreads(w);
                dump = w.ToString();
            }
            Console.WriteLine(dump.TrimEnd());
            foreach (var e in expected) Check(dump.Contains(e), $"Green.DumpThreads names {e}");
            Check(!dump.Contains("racy"), "on a green thread the dump is exact");

            using var dumped = new ManualResetEvent(false);
            var capture = new CaptureWriter(Console.Error, dumped);
            Console.SetError(capture);
            Check(kill(Environment.ProcessId, 3 /* SIGQUIT */) == 0, "kill -QUIT self");
            dumped.WaitOne(); // a green wait, set by the signal's handler on a runtime thread
            string signalled = capture.Text;
            foreach (var e in expected.Where(e => e != ": running")) Check(signalled.Contains(e), $"the SIGQUIT dump names {e}");
            Check(signalled.Contains("signal SIGQUIT") && signalled.Contains("(racy snapshot"), "the SIGQUIT dump says what it is");
            Console.WriteLine("signal dump: " + signalled.Split('\n')[0]);
        }
    }
}
