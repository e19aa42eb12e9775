using System.Net;
using System.Net.Sockets;
using Evergreen;
using Evergreen.Patching;

internal static partial class Scenarios
{
    /// <summary>Set by a scenario: what the watchdog prints if the scenario hangs.</summary>
    internal static Func<string>? Diagnostic;

    internal static void Check(bool ok, string what)
    {
        if (!ok) throw new Exception("check failed: " + what);
    }

    public static int Run(string name)
    {
        switch (name)
        {
            case "main-is-green": MainIsGreen(); break;
            case "sleep-overlap": SleepOverlap(); break;
            case "lock-contention": LockContention(); break;
            case "monitor-wait-pulse": MonitorWaitPulse(); break;
            case "lock-green-and-native": LockGreenAndNative(); break;
            case "original-thread-parallel": OriginalThreadParallel(); break;
            case "original-socket-blocks": OriginalSocketBlocks(); break;
            case "second-call": SecondCall(); break;
            case "env-disabled": EnvDisabled(); break;
            case "debug-mode": DebugMode(); break;
            case "unknown-name": UnknownName(); break;
            case "tcp-green": TcpGreen(); break;
            case "ssl-green": SslGreen(); break;
            case "http-send-green": HttpSendGreen(); break;
            case "npgsql-green": return NpgsqlGreen();
            case "redis-multiplexed": return RedisMultiplexed();
            case "wakes-torture": WakesTorture(); break;
            case "sqlite-busy-frozen": SqliteBusyFrozen(); break;
            case "sqlite-busy-tpool": SqliteBusyGreen(throughTpool: true); break;
            case "sqlite-busy-taken-back": SqliteBusyGreen(throughTpool: false); break;
            case "sqlite-function-wait": SqliteFunctionWait(); break;
            case "lock-type-contention": LockTypeContention(); break;
            case "lock-type-green-and-native": LockTypeGreenAndNative(); break;
            case "lock-type-api": LockTypeApi(); break;
            case "bcl-blocking-collection": BclBlockingCollection(); break;
            case "bcl-semaphoreslim": BclSemaphoreSlim(); break;
            case "bcl-concurrent-dictionary": BclConcurrentDictionary(); break;
            case "bcl-task-result": BclTaskResult(); break;
            case "lock-type-many-contenders": ManyContenders(monitor: false); break;
            case "monitor-many-contenders": ManyContenders(monitor: true); break;
            case "native-sleep-timespan": NativeSleepTimeSpan(); break;
            case "runtime-threads-stay-native": RuntimeThreadsStayNative(); break;
            case "native-threads-use-originals": NativeThreadsUseOriginals(); break;
            case "process-pipes-green": ProcessPipesGreen(); break;
            case "udpclient-green": UdpClientGreen(); break;
            case "scatter-sendfile-green": ScatterSendFileGreen(); break;
            case "monitor-tryenter-timeout-green": MonitorTryEnterTimeoutGreen(); break;
            case "killed-lock-waiter-passes-wake-on": KilledLockWaiterPassesWakeOn(); break;
            case "monitor-green-and-native-hold": MonitorGreenAndNativeHold(); break;
            case "dns-hostentry-green": DnsHostEntryGreen(); break;
            case "thread-start-keeps-hub-live": ThreadStartKeepsHubLive(); break;
            case "runtime-threads-keep-cpu-set": RuntimeThreadsKeepCpuSet(); break;
            case "foreground-exit":
                new Thread(() => { Thread.Sleep(50); Console.WriteLine("foreground green thread finished after Main returned"); Console.WriteLine("pass"); }).Start();
                return 0; // the patched program must wait for that thread before exiting
            case "native-block-takeback-logged": NativeBlockTakeBackLogged(); break;
            default: throw new ArgumentException("unknown scenario " + name);
        }
        Console.WriteLine("pass");
        return 0;
    }

    private static void MainIsGreen()
    {
        Check(Hub.IsGreenThread, "main thread is green after MonkeyPatch");
        Check(Patcher.IsMonkeyPatched("thread") && Patcher.IsMonkeyPatched("time") && Patcher.IsMonkeyPatched("socket"), "areas patched");
        bool childGreen = false; string? childName = null; bool bg = false;
        var t = new Thread(() => { childGreen = Hub.IsGreenThread; childName = Thread.CurrentThread.Name; bg = Thread.CurrentThread.IsBackground; }) { Name = "kid", IsBackground = true };
        t.Start();
        t.Join();
        Check(childGreen && childName == "kid" && bg, "started thread is green and keeps its Thread identity");
    }

    /// <summary>50 plain threads each Thread.Sleep(200): all are asleep at once (green overlap) and only one ever runs at a time.</summary>
    private static void SleepOverlap()
    {
        int sleeping = 0, maxSleeping = 0, running = 0, maxRunning = 0;
        var threads = new List<Thread>();
        var go = new ManualResetEventSlim(); // a start is a green switch: the first threads would sleep out before the last start
        for (int i = 0; i < 50; i++)
        {
            var t = new Thread(() =>
            {
                go.Wait();
                running++; maxRunning = Math.Max(maxRunning, running);
                for (int k = 0; k < 1000; k++) { if (running != 1) maxRunning = Math.Max(maxRunning, running); }
                running--;
                sleeping++; maxSleeping = Math.Max(maxSleeping, sleeping);
                Thread.Sleep(200);
                sleeping--;
            });
            threads.Add(t);
            t.Start();
        }
        go.Set();
        foreach (var t in threads) t.Join();
        Check(maxSleeping == 50, $"all 50 sleeps overlapped (max {maxSleeping})");
        Check(maxRunning == 1, $"one thread at a time (max {maxRunning})");
    }

    /// <summary>Green A holds a lock across a blocking wait, green B contends, green C still runs meanwhile.</summary>
    private static void LockContention()
    {
        var gate = new object();
        var order = new List<string>();
        var aIn = new Evergreen.Event();
        var release = new Evergreen.Event();
        var a = new Thread(() => { lock (gate) { order.Add("A in"); aIn.Send(); release.Wait(); order.Add("A out"); } });
        var b = new Thread(() => { aIn.Wait(); order.Add("B wants"); lock (gate) order.Add("B in"); });
        var c = new Thread(() => { aIn.Wait(); Thread.Sleep(0); order.Add("C ran"); release.Send(); });
        a.Start(); b.Start(); c.Start();
        a.Join(); b.Join(); c.Join();
        string s = string.Join(",", order);
        Check(s == "A in,B wants,C ran,A out,B in", "order was " + s);
    }

    private static void MonitorWaitPulse()
    {
        var q = new Queue<int>();
        var gate = new object();
        int sum = 0;
        var consumer = new Thread(() =>
        {
            for (int i = 0; i < 100; i++)
            {
                lock (gate)
                {
                    while (q.Count == 0) Monitor.Wait(gate);
                    sum += q.Dequeue();
                    Monitor.PulseAll(gate);
                }
            }
        });
        consumer.Start();
        for (int i = 1; i <= 100; i++)
        {
            lock (gate)
            {
                while (q.Count >= 3) Monitor.Wait(gate);
                q.Enqueue(i);
                Monitor.Pulse(gate);
            }
        }
        consumer.Join();
        Check(sum == 5050, "sum " + sum);
        // timeout path
        lock (gate) Check(!Monitor.Wait(gate, 20), "Wait with timeout returns false without a pulse");
    }

    private static void LockGreenAndNative()
    {
        var gate = new object();
        long counter = 0;
        const int N = 200_000;
        var native = Patcher.Original<OriginalThread>().Start(() => { for (int i = 0; i < N; i++) lock (gate) counter++; }, "native");
        var greens = new List<Thread>();
        for (int g = 0; g < 3; g++)
        {
            var t = new Thread(() => { for (int i = 0; i < N; i++) { lock (gate) counter++; if (i % 1000 == 0) Thread.Sleep(0); } });
            greens.Add(t); t.Start();
        }
        foreach (var t in greens) t.Join();
        native.Join();
        Check(counter == 4L * N, $"exact count {counter}");
    }

    /// <summary>A thread from Original("Thread") runs while the green main thread spins without yielding.</summary>
    private static void OriginalThreadParallel()
    {
        int flag = 0;
        var native = ((OriginalThread)Patcher.Original("Thread")).Start(() => Volatile.Write(ref flag, 1), "native");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Volatile.Read(ref flag) == 0 && DateTime.UtcNow < deadline) { } // no green call: a green thread could not run now
        Check(flag == 1, "native thread ran in parallel with a busy green thread");
        native.Join();
    }

    /// <summary>A receive through Original("Socket") blocks its OS thread: no green thread runs until it returns.</summary>
    private static void OriginalSocketBlocks()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        using var server = listener.Accept();
        int greenRan = 0, armed = 0;
        // Runnable throughout (it yields until armed): it can run only when main yields, and Start itself is a switch.
        var g = new Thread(() => { while (Volatile.Read(ref armed) == 0) Thread.Sleep(0); greenRan = 1; });
        g.Start();
        int mainTid = Environment.ProcessId;
        var sender = Patcher.Original<OriginalThread>().Start(() =>
        {
            // wait until the main thread sleeps in the kernel (inside the native receive), then send
            while (!File.ReadAllText($"/proc/self/task/{mainTid}/stat").Split(')')[1].Trim().StartsWith('S')) Thread.Yield();
            Patcher.Original<OriginalSocket>().Send(client, [42], 0, 1);
        }, "sender");
        var buf = new byte[1];
        Volatile.Write(ref armed, 1);
        int n = Patcher.Original<OriginalSocket>().Receive(server, buf, 0, 1);
        Check(n == 1 && buf[0] == 42, "received natively");
        Check(greenRan == 0, "no green thread ran while the native receive blocked");
        g.Join();
        Check(greenRan == 1, "green thread ran after");
        sender.Join();
    }

    private static void SecondCall()
    {
        Patcher.MonkeyPatch(); // same options as the first call: a no-op
        try
        {
            Patcher.MonkeyPatch(os: false);
            throw new Exception("different options were not refused");
        }
        catch (LatePatchException e) when (e.Message.Contains("different options")) { }
    }

    private static void EnvDisabled()
    {
        Check(!Hub.IsGreenThread, "not green when EVERGREEN_NO_PATCH=1");
        foreach (var a in Patcher.Areas) Check(!Patcher.IsMonkeyPatched(a), a + " not patched");
    }

    private static void DebugMode()
    {
        Check(!Patcher.IsMonkeyPatched("thread"), "thread left unpatched in debugger mode");
        Check(Patcher.IsMonkeyPatched("time") && Patcher.IsMonkeyPatched("socket"), "other areas patched");
    }

    private static void UnknownName()
    {
        try
        {
            Patcher.IsMonkeyPatched("bogus");
            throw new Exception("no exception for an unknown name");
        }
        catch (ArgumentException e) when (e.Message.Contains("thread") && e.Message.Contains("socket") && e.Message.Contains("time")) { }
    }

    /// <summary>TcpListener + TcpClient + NetworkStream, thread per connection: 20 server threads all wait in Read at once.</summary>
    private static void TcpGreen()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        int waitingInRead = 0, maxWaiting = 0;
        const int C = 20;
        var acceptor = new Thread(() =>
        {
            for (int i = 0; i < C; i++)
            {
                var conn = listener.AcceptTcpClient();
                new Thread(() =>
                {
                    using var s = conn.GetStream();
                    var buf = new byte[64];
                    waitingInRead++; maxWaiting = Math.Max(maxWaiting, waitingInRead);
                    int n = s.Read(buf, 0, buf.Length);
                    waitingInRead--;
                    s.Write(buf, 0, n);
                    conn.Dispose();
                }).Start();
            }
        });
        acceptor.Start();
        var clients = new List<TcpClient>();
        for (int i = 0; i < C; i++) { var c = new TcpClient(); c.Connect(IPAddress.Loopback, port); clients.Add(c); }
        Thread.Sleep(0);
        acceptor.Join();
        while (waitingInRead < C) Thread.Sleep(1);
        for (int i = 0; i < C; i++)
        {
            var s = clients[i].GetStream();
            s.Write([(byte)i], 0, 1);
            var b = new byte[1];
            Check(s.Read(b, 0, 1) == 1 && b[0] == i, "echo " + i);
            clients[i].Dispose();
        }
        listener.Stop();
        Check(maxWaiting == C, $"all {C} server threads waited in Read at once (max {maxWaiting})");
    }
}
