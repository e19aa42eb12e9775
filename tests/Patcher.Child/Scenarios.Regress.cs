using System.Reflection;
using Evergreen;
using Evergreen.Detours;
using Evergreen.Patching;

// Regression scenarios for bugs found while building the patch, named after what they pin.
internal static partial class Scenarios
{
    /// <summary>
    /// The runtime starts its timer and thread-pool threads lazily from whichever thread needs them first — here the
    /// green main thread. They must stay native (an early patch adopted them as green threads: they then waited natively
    /// holding the baton and the hub froze; Npgsql's pool-pruning timer hung the service example).
    /// </summary>
    private static void RuntimeThreadsStayNative()
    {
        int fired = 0;
        using (var timer = new System.Threading.Timer(_ => Interlocked.Increment(ref fired), null, 10, Timeout.Infinite))
        {
            while (Volatile.Read(ref fired) == 0) Thread.Sleep(5); // green sleep: other green threads could run meanwhile
        }
        bool poolWasGreen = true;
        var done = new ManualResetEventSlim();
        ThreadPool.QueueUserWorkItem(_ => { poolWasGreen = Hub.IsGreenThread; done.Set(); });
        done.Wait();
        Check(!poolWasGreen, "a thread-pool thread started from a green thread stays native");
        Check(Hub.IsGreenThread, "main is still green");
    }

    /// <summary>A target that cannot be detoured makes MonkeyPatch fail as a whole: the exception names it, nothing is patched.</summary>
    public static int PatchFailsNothingStays()
    {
        // Occupy Thread.Yield with a detour of our own, so the patch set cannot take it.
        var yield = typeof(Thread).GetMethod(nameof(Thread.Yield), BindingFlags.Public | BindingFlags.Static, Type.EmptyTypes)!;
        using var mine = DetourEngine.Default.Apply(yield, typeof(Scenarios).GetMethod(nameof(MyYield), BindingFlags.NonPublic | BindingFlags.Static)!);
        try
        {
            Patcher.MonkeyPatch();
            Console.WriteLine("FAIL: MonkeyPatch succeeded over an occupied target");
            return 1;
        }
        catch (MonkeyPatchException e) when (e.Target.Contains("Yield"))
        {
            foreach (var area in Patcher.Areas)
                if (Patcher.IsMonkeyPatched(area)) { Console.WriteLine("FAIL: area stayed patched: " + area); return 1; }
            if (Hub.IsGreenThread) { Console.WriteLine("FAIL: main became green"); return 1; }
            long t0 = Environment.TickCount64;
            Thread.Sleep(20); // the original: really sleeps the OS thread
            if (Environment.TickCount64 - t0 < 15) { Console.WriteLine("FAIL: Thread.Sleep did not sleep"); return 1; }
            Console.WriteLine("refused as expected: " + e.Message);
            Console.WriteLine("pass");
            return 0;
        }
    }

    private static bool MyYield() => true;

    /// <summary>
    /// A waiter that a release chose but that is killed before it retries passes the wake on: otherwise the next
    /// waiter stays parked while the lock is free (the Lock patch had this; lock(object) did not).
    /// </summary>
    private static void KilledLockWaiterPassesWakeOn()
    {
        var gate = new object();
        var order = new List<string>();
        var release = new Evergreen.Event();
        int contending = 0;
        GreenThread? b = null;
        var a = Green.Spawn(() =>
        {
            lock (gate) release.Wait();
            b!.Kill(); // B was just chosen by that release and has not run yet
        });
        // No green call between the count and the contended lock: once both counted, both are parked on the lock.
        b = Green.Spawn(() => { contending++; lock (gate) order.Add("B in (wrong)"); });
        var c = Green.Spawn(() => { Green.Sleep(0); contending++; lock (gate) order.Add("C in"); });
        while (contending < 2) Green.Sleep(0);
        release.Send();
        a.Wait();
        try { b.Wait(); } catch (GreenThreadExitException) { order.Add("B killed"); }
        c.Wait();
        Check(string.Join(",", order) == "C in,B killed", "order was " + string.Join(",", order));
    }

    /// <summary>Monitor.TryEnter with a timeout parks greenly: C runs while B waits; B times out, then succeeds after A leaves.</summary>
    private static void MonitorTryEnterTimeoutGreen()
    {
        var gate = new object();
        var order = new List<string>();
        var aIn = new Evergreen.Event();
        var release = new Evergreen.Event();
        var a = new Thread(() => { lock (gate) { order.Add("A in"); aIn.Send(); release.Wait(); order.Add("A out"); } });
        var b = new Thread(() =>
        {
            aIn.Wait();
            bool first = Monitor.TryEnter(gate, 30);            // A holds it across a green wait: times out
            order.Add(first ? "B got it (wrong)" : "B timed out");
            release.Send();
            bool taken = false;
            Monitor.TryEnter(gate, 60_000, ref taken);           // A leaves after its release: B gets it
            order.Add(taken ? "B in" : "B failed");
            if (taken) Monitor.Exit(gate);
        });
        var c = new Thread(() => { aIn.Wait(); order.Add("C ran"); });
        a.Start(); b.Start(); c.Start();
        a.Join(); b.Join(); c.Join();
        string s = string.Join(",", order);
        Check(s == "A in,C ran,B timed out,A out,B in", "order was " + s);
    }

    /// <summary>UdpClient under the patch: 10 plain threads all wait in Receive at once, then each gets its datagram.</summary>
    private static void UdpClientGreen()
    {
        const int N = 10;
        var servers = Enumerable.Range(0, N).Select(_ => new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0))).ToList();
        int waiting = 0, maxWaiting = 0;
        var got = new string?[N];
        var threads = new List<Thread>();
        for (int i = 0; i < N; i++)
        {
            int k = i;
            var t = new Thread(() =>
            {
                var from = new System.Net.IPEndPoint(System.Net.IPAddress.Any, 0);
                waiting++; maxWaiting = Math.Max(maxWaiting, waiting);
                var data = servers[k].Receive(ref from);
                waiting--;
                got[k] = System.Text.Encoding.ASCII.GetString(data);
            });
            threads.Add(t);
            t.Start();
        }
        while (waiting < N) Thread.Sleep(1); // green: lets every receiver reach its Receive
        using var client = new System.Net.Sockets.UdpClient();
        for (int i = 0; i < N; i++)
        {
            var bytes = System.Text.Encoding.ASCII.GetBytes("datagram " + i);
            client.Send(bytes, bytes.Length, (System.Net.IPEndPoint)servers[i].Client.LocalEndPoint!);
        }
        foreach (var t in threads) t.Join();
        foreach (var u in servers) u.Dispose();
        Check(maxWaiting == N, $"all {N} receivers waited at once (max {maxWaiting})");
        for (int i = 0; i < N; i++) Check(got[i] == "datagram " + i, $"receiver {i} got '{got[i]}'");
    }

    /// <summary>
    /// The "os" area: a green thread blocked reading a child process's stdout lets another green thread run — the one
    /// that writes the line the child echoes back. If the pipe read blocked the hub, the writer could never run.
    /// </summary>
    private static void ProcessPipesGreen()
    {
        var psi = new System.Diagnostics.ProcessStartInfo("cat") { RedirectStandardInput = true, RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        string? line = null;
        var reader = new Thread(() => line = p.StandardOutput.ReadLine());
        reader.Start();
        Thread.Sleep(0); // the reader runs now and blocks in the pipe read
        var writer = new Thread(() => { p.StandardInput.WriteLine("hello from a green thread"); p.StandardInput.Flush(); });
        writer.Start();
        writer.Join();
        reader.Join();
        Check(line == "hello from a green thread", "line read back: " + line);
        p.StandardInput.Close();
        p.WaitForExit();
        Check(p.ExitCode == 0, "cat exit code " + p.ExitCode);
    }

    /// <summary>Native threads (Original("Thread")) use the original Join/Sleep/Yield through the detours' trampolines.</summary>
    private static void NativeThreadsUseOriginals()
    {
        var native = Patcher.Original<OriginalThread>();
        string? failure = null;
        var a = native.Start(() => Thread.Sleep(TimeSpan.FromMilliseconds(5)), "a");
        var b = native.Start(() =>
        {
            try
            {
                a.Join();
                Check(a.Join(1000), "Join(int) on a finished thread");
                Check(a.Join(TimeSpan.FromSeconds(1)), "Join(TimeSpan) on a finished thread");
                Thread.Sleep(1);
                Thread.Sleep(TimeSpan.FromMilliseconds(1));
                Thread.Yield();
                Check(!Hub.IsGreenThread, "still native");
            }
            catch (Exception e) { failure = e.ToString(); }
        }, "b");
        b.Join();
        Check(failure == null, "native thread failed: " + failure);
    }

    /// <summary>
    /// Socket.Receive(IList&lt;ArraySegment&gt;) and Socket.SendFile from plain threads under the patch (once gaps: the
    /// scatter receive threw WouldBlock on a socket green code had made non-blocking, and SendFile could stop part-way
    /// or stall the hub). A receiver parks in the scatter receive while a ticker keeps running; a sender streams a
    /// 1 MB file with a header and trailer through small socket buffers; every byte arrives in order.
    /// </summary>
    private static void ScatterSendFileGreen()
    {
        string path = Path.Combine(Path.GetTempPath(), $"evergreen-child-sendfile-{Environment.ProcessId}.bin");
        var content = new byte[1024 * 1024 + 3];
        new Random(7).NextBytes(content);
        File.WriteAllBytes(path, content);
        try
        {
            using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            listener.Listen(1);
            using var client = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            client.Connect(listener.LocalEndPoint!);
            using var server = listener.Accept();
            client.SendBufferSize = 65536;
            server.ReceiveBufferSize = 65536;

            // 1. Scatter receive parks greenly: the ticker runs while the receiver waits for the first bytes.
            int ticks = 0, ticksWhileWaiting = -1;
            bool receiverWaiting = false, stop = false;
            var head = new byte[4];
            var rest = new byte[4];
            int got = 0;
            var receiver = new Thread(() =>
            {
                receiverWaiting = true;
                got = server.Receive(new List<ArraySegment<byte>> { new(head), new(rest) });
            });
            var ticker = new Thread(() => { while (!Volatile.Read(ref stop)) { ticks++; Thread.Sleep(0); } });
            receiver.Start();
            ticker.Start();
            while (!receiverWaiting) Thread.Sleep(0);
            for (int i = 0; i < 20; i++) Thread.Sleep(0); // the receiver is parked in its receive by now
            // The ticker's OS thread may not have joined the hub yet on a loaded machine: give it time, greenly.
            var joined = System.Diagnostics.Stopwatch.StartNew();
            while (Volatile.Read(ref ticks) == 0 && joined.ElapsedMilliseconds < 10_000) Thread.Sleep(1);
            ticksWhileWaiting = ticks;
            client.Send("abcdefg"u8);
            receiver.Join();
            Check(got == 7 && System.Text.Encoding.ASCII.GetString(head) == "abcd" && System.Text.Encoding.ASCII.GetString(rest, 0, 3) == "efg",
                $"scatter receive got {got} bytes: '{System.Text.Encoding.ASCII.GetString(head)}' + '{System.Text.Encoding.ASCII.GetString(rest, 0, Math.Max(0, got - 4))}'");
            Check(ticksWhileWaiting > 0, "the ticker ran while the scatter receive waited");

            // 2. SendFile through small buffers while the reader drains them.
            var sender = new Thread(() => client.SendFile(path, "HEAD"u8.ToArray(), "TAIL"u8.ToArray(), System.Net.Sockets.TransmitFileOptions.UseDefaultWorkerThread));
            sender.Start();
            var all = new MemoryStream();
            var buf = new byte[32768];
            int expected = content.Length + 8;
            while (all.Length < expected)
            {
                int n = server.Receive(buf);
                if (n == 0) break;
                all.Write(buf, 0, n);
            }
            sender.Join();
            Volatile.Write(ref stop, true);
            ticker.Join();
            var bytes = all.ToArray();
            Check(bytes.Length == expected, $"received {bytes.Length} of {expected} bytes");
            Check(bytes.AsSpan(0, 4).SequenceEqual("HEAD"u8) && bytes.AsSpan(4, content.Length).SequenceEqual(content) && bytes.AsSpan(expected - 4).SequenceEqual("TAIL"u8),
                "header, file and trailer arrived intact and in order");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
