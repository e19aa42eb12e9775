using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipes;
using System.Net;
using System.Net.Sockets;
using System.Text;

// The differential conformance suite (issue 11.9), as gevent runs CPython's tests under patch_all: ordinary blocking
// .NET code — threads, System.Threading primitives, sockets, HTTP, pipes and processes, timers — written as a user
// would, run unpatched and patched (DifferentialTests compares the "out:" lines; Scenarios.Waits.cs runs the ticker).
internal static partial class Scenarios
{
    private static bool RunConformance(string name)
    {
        switch (name)
        {
            case "diff-thread-lifecycle": DiffThreadLifecycle(); return true;
            case "diff-threadstatic-threadlocal": DiffThreadStaticThreadLocal(); return true;
            case "diff-monitor-wait-timeout": DiffMonitorWaitTimeout(); return true;
            case "diff-bounded-buffer": DiffBoundedBuffer(); return true;
            case "diff-barrier-countdown": DiffBarrierCountdown(); return true;
            case "diff-slim-primitives": DiffSlimPrimitives(); return true;
            case "diff-readerwriterlock": DiffReaderWriterLock(); return true;
            case "diff-lazy-interlocked": DiffLazyInterlocked(); return true;
            case "diff-blocking-collection": DiffBlockingCollection(); return true;
            case "diff-timer": DiffTimer(); return true;
            case "diff-tasks-from-threads": DiffTasksFromThreads(); return true;
            case "diff-tcp-echo": DiffTcpEcho(); return true;
            case "diff-socket-timeouts": DiffSocketTimeouts(); return true;
            case "diff-poll-select": DiffPollSelect(); return true;
            case "diff-udp": DiffUdp(); return true;
            case "diff-connect-refused": DiffConnectRefused(); return true;
            case "diff-http-roundtrip": DiffHttpRoundTrip(); return true;
            case "diff-dns": DiffDns(); return true;
            case "diff-process": DiffProcess(); return true;
            case "diff-anonymous-pipe": DiffAnonymousPipe(); return true;
            default: return false;
        }
    }

    /// <summary>IsAlive, ThreadState, names, ids, Join with a timeout, the default IsBackground.</summary>
    private static void DiffThreadLifecycle()
    {
        var go = new ManualResetEvent(false);
        var t = new Thread(() => go.WaitOne()) { Name = "worker" };
        Observe($"before start: alive {t.IsAlive}, state {t.ThreadState}, background {t.IsBackground}");
        t.Start();
        Observe($"Join(20) while it waits: {t.Join(20)}, alive {t.IsAlive}, name {t.Name}");
        Observe($"ids differ: {t.ManagedThreadId != Environment.CurrentManagedThreadId}");
        go.Set();
        Observe($"Join(5000) after the release: {t.Join(5000)}, alive {t.IsAlive}, state {t.ThreadState}");
        string restart;
        try { t.Start(); restart = "no exception"; }
        catch (ThreadStateException) { restart = "ThreadStateException"; }
        Observe($"restart: {restart}");
        string name = "?";
        var named = new Thread(() => name = Thread.CurrentThread.Name ?? "null") { Name = "seen-inside" };
        named.Start();
        named.Join();
        Observe($"name inside: {name}");
    }

    [ThreadStatic] private static int t_perThread;

    /// <summary>[ThreadStatic] and ThreadLocal values stay per thread.</summary>
    private static void DiffThreadStaticThreadLocal()
    {
        using var local = new ThreadLocal<int>(() => 100, trackAllValues: true);
        var results = new ConcurrentBag<string>();
        var threads = Enumerable.Range(1, 5).Select(i => new Thread(() =>
        {
            t_perThread = i;
            local.Value += i;
            Thread.Sleep(5); // the others run meanwhile (green: a switch; native: in parallel)
            results.Add($"{i}:{t_perThread}:{local.Value}");
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe(string.Join(",", results.Order()));
        Observe($"main's values: {t_perThread} {local.Value}; tracked {local.Values.Count}");
    }

    /// <summary>Monitor.Wait with a timeout: false when nobody pulses, true when pulsed; the lock is held after both.</summary>
    private static void DiffMonitorWaitTimeout()
    {
        object gate = new();
        bool timedOut, pulsed = false;
        lock (gate)
        {
            timedOut = !Monitor.Wait(gate, 30);
            Observe($"unpulsed wait timed out: {timedOut}, lock held after: {Monitor.IsEntered(gate)}");
        }

        var ready = new ManualResetEventSlim();
        var waiter = new Thread(() =>
        {
            lock (gate)
            {
                ready.Set();
                pulsed = Monitor.Wait(gate, 5000);
            }
        });
        waiter.Start();
        ready.Wait();
        lock (gate) Monitor.Pulse(gate);
        waiter.Join();
        Observe($"pulsed wait returned: {pulsed}");
        string unowned;
        try { Monitor.Wait(gate, 10); unowned = "no exception"; }
        catch (SynchronizationLockException) { unowned = "SynchronizationLockException"; }
        Observe($"Wait without the lock: {unowned}");
    }

    /// <summary>The textbook bounded buffer (lock, while-Wait, PulseAll): 3 producers, 3 consumers, every item once.</summary>
    private static void DiffBoundedBuffer()
    {
        const int Capacity = 3, PerProducer = 200;
        var buffer = new Queue<int>();
        object gate = new();
        long sum = 0;
        int consumed = 0;
        bool done = false;
        var producers = Enumerable.Range(0, 3).Select(p => new Thread(() =>
        {
            for (int i = 1; i <= PerProducer; i++)
            {
                lock (gate)
                {
                    while (buffer.Count == Capacity) Monitor.Wait(gate);
                    buffer.Enqueue((p * PerProducer) + i);
                    Monitor.PulseAll(gate);
                }
            }
        })).ToList();
        var consumers = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
        {
            while (true)
            {
                int item;
                lock (gate)
                {
                    while (buffer.Count == 0 && !done) Monitor.Wait(gate);
                    if (buffer.Count == 0) return;
                    item = buffer.Dequeue();
                    consumed++;
                    Monitor.PulseAll(gate);
                }

                Interlocked.Add(ref sum, item);
            }
        })).ToList();
        producers.ForEach(t => t.Start());
        consumers.ForEach(t => t.Start());
        producers.ForEach(t => t.Join());
        lock (gate) { done = true; Monitor.PulseAll(gate); }
        consumers.ForEach(t => t.Join());
        long n = 3 * PerProducer;
        Observe($"consumed {consumed}, sum correct {sum == n * (n + 1) / 2}");
    }

    /// <summary>Barrier phases with a post-phase action; CountdownEvent signalled from threads.</summary>
    private static void DiffBarrierCountdown()
    {
        int phases = 0;
        using var barrier = new Barrier(4, _ => phases++);
        var arrivals = new int[3];
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            for (int phase = 0; phase < 3; phase++)
            {
                Interlocked.Increment(ref arrivals[phase]);
                barrier.SignalAndWait();
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe($"phases {phases}, arrivals {string.Join("/", arrivals)}");
        using var countdown = new CountdownEvent(10);
        for (int i = 0; i < 10; i++) new Thread(() => countdown.Signal()).Start();
        countdown.Wait();
        Observe($"countdown reached zero: {countdown.IsSet}; TryAddCount after: {countdown.TryAddCount()}");
    }

    /// <summary>SemaphoreSlim and ManualResetEventSlim: timed waits that fail, many waiters released by one Set.</summary>
    private static void DiffSlimPrimitives()
    {
        using var sem = new SemaphoreSlim(1, 1);
        sem.Wait();
        bool gotIt = true;
        var t = new Thread(() => gotIt = sem.Wait(30));
        t.Start();
        t.Join();
        Observe($"SemaphoreSlim.Wait(30) while held: {gotIt}");
        sem.Release();
        string over;
        try { sem.Release(); over = "no exception"; }
        catch (SemaphoreFullException) { over = "SemaphoreFullException"; }
        Observe($"release past the maximum: {over}");
        using var gate = new ManualResetEventSlim(false);
        int released = 0;
        var waiters = Enumerable.Range(0, 8).Select(_ => new Thread(() => { gate.Wait(); Interlocked.Increment(ref released); })).ToList();
        waiters.ForEach(w => w.Start());
        new Thread(() => { Thread.Sleep(20); gate.Set(); }).Start();
        waiters.ForEach(w => w.Join());
        Observe($"released by one Set: {released}; timed wait on a set event: {gate.Wait(0)}");
    }

    /// <summary>The old ReaderWriterLock: readers share, a writer excludes, a timed acquire fails with ApplicationException.</summary>
    private static void DiffReaderWriterLock()
    {
#pragma warning disable SYSLIB0000
        var rw = new ReaderWriterLock();
        rw.AcquireWriterLock(Timeout.Infinite);
        string timed;
        var reader = new Thread(() =>
        {
            try { rw.AcquireReaderLock(30); timed = "acquired"; rw.ReleaseReaderLock(); }
            catch (ApplicationException) { timed = "ApplicationException"; }
        });
        timed = "?";
        reader.Start();
        reader.Join();
        Observe($"reader's timed acquire while write-held: {timed}");
        int value = 0, sawIt = 0;
        var readers = Enumerable.Range(0, 5).Select(_ => new Thread(() =>
        {
            rw.AcquireReaderLock(Timeout.Infinite);
            if (value == 7) Interlocked.Increment(ref sawIt);
            rw.ReleaseReaderLock();
        })).ToList();
        readers.ForEach(t => t.Start());
        Thread.Sleep(20);
        value = 7;
        rw.ReleaseWriterLock();
        readers.ForEach(t => t.Join());
        Observe($"readers that saw the write: {sawIt}");
#pragma warning restore SYSLIB0000
    }

    /// <summary>Lazy runs its factory once for 10 threads; Interlocked and lock counters are exact.</summary>
    private static void DiffLazyInterlocked()
    {
        int factoryRuns = 0;
        var lazy = new Lazy<string>(() => { Interlocked.Increment(ref factoryRuns); Thread.Sleep(10); return "made"; }, LazyThreadSafetyMode.ExecutionAndPublication);
        int counter = 0, locked = 0;
        object gate = new();
        var threads = Enumerable.Range(0, 10).Select(n => new Thread(() =>
        {
            _ = lazy.Value;
            for (int i = 0; i < 1000; i++)
            {
                Interlocked.Increment(ref counter);
                lock (gate) locked++;
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe($"factory runs {factoryRuns}, value {lazy.Value}, interlocked {counter}, locked {locked}");
    }

    /// <summary>BlockingCollection with GetConsumingEnumerable and CompleteAdding; Take on an empty completed collection throws.</summary>
    private static void DiffBlockingCollection()
    {
        using var bc = new BlockingCollection<int>(boundedCapacity: 2);
        long sum = 0;
        var consumers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            foreach (int v in bc.GetConsumingEnumerable()) Interlocked.Add(ref sum, v);
        })).ToList();
        consumers.ForEach(t => t.Start());
        var producer = new Thread(() =>
        {
            for (int i = 1; i <= 100; i++) bc.Add(i);
            bc.CompleteAdding();
        });
        producer.Start();
        producer.Join();
        consumers.ForEach(t => t.Join());
        string take;
        try { bc.Take(); take = "no exception"; }
        catch (InvalidOperationException) { take = "InvalidOperationException"; }
        Observe($"sum {sum}; Take after completion: {take}; TryTake(out, 10): {bc.TryTake(out _, 10)}");
    }

    /// <summary>A System.Threading.Timer fires on the pool until the main thread, waiting on an event, disposes it.</summary>
    private static void DiffTimer()
    {
        int fired = 0;
        using var enough = new ManualResetEvent(false);
        bool onPool = true;
        using (var timer = new Timer(_ =>
        {
            onPool &= Thread.CurrentThread.IsThreadPoolThread;
            if (Interlocked.Increment(ref fired) == 5) enough.Set();
        }, null, 0, 5))
        {
            enough.WaitOne();
        }

        Observe($"timer fired at least 5 times: {Volatile.Read(ref fired) >= 5}; callbacks on the pool: {onPool}");
        var once = new ManualResetEventSlim();
        using var oneShot = new Timer(_ => once.Set(), null, 10, Timeout.Infinite);
        Observe($"one-shot timer fired: {once.Wait(5000)}");
    }

    /// <summary>Task.Run(...).Result, Task.WaitAll and Parallel.For from plain threads.</summary>
    private static void DiffTasksFromThreads()
    {
        int result = 0, all = 0;
        long parallelSum = 0;
        var t = new Thread(() =>
        {
            result = Task.Run(() => 6 * 7).Result;
            var tasks = Enumerable.Range(1, 4).Select(i => Task.Run(() => { Thread.Sleep(5); Interlocked.Add(ref all, i); })).ToArray();
            Task.WaitAll(tasks);
            Parallel.For(1, 101, i => Interlocked.Add(ref parallelSum, i));
        });
        t.Start();
        t.Join();
        Observe($"Result {result}, WaitAll sum {all}, Parallel.For sum {parallelSum}");
        string faulted;
        try { Task.Run(() => throw new InvalidOperationException("inner")).Wait(); faulted = "no exception"; }
        catch (AggregateException e) { faulted = $"AggregateException({e.InnerException?.GetType().Name}: {e.InnerException?.Message})"; }
        Observe($"faulted task: {faulted}");
    }

    private static int FreePort()
    {
        var probe = Listen();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private static TcpListener Listen()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return listener;
    }

    /// <summary>A thread-per-connection line echo server and 5 TcpClient threads.</summary>
    private static void DiffTcpEcho()
    {
        var listener = Listen();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        const int Clients = 5;
        var server = new Thread(() =>
        {
            for (int i = 0; i < Clients; i++)
            {
                var client = listener.AcceptTcpClient();
                new Thread(() =>
                {
                    using (client)
                    using (var reader = new StreamReader(client.GetStream()))
                    using (var writer = new StreamWriter(client.GetStream()) { AutoFlush = true })
                    {
                        string? line;
                        while ((line = reader.ReadLine()) != null) writer.WriteLine("echo " + line);
                    }
                }).Start();
            }
        });
        server.Start();
        var answers = new ConcurrentBag<string>();
        var clients = Enumerable.Range(0, Clients).Select(i => new Thread(() =>
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            using var reader = new StreamReader(client.GetStream());
            using var writer = new StreamWriter(client.GetStream()) { AutoFlush = true };
            for (int k = 0; k < 3; k++)
            {
                writer.WriteLine($"{i}.{k}");
                answers.Add(reader.ReadLine()!);
            }
        })).ToList();
        clients.ForEach(t => t.Start());
        clients.ForEach(t => t.Join());
        server.Join();
        listener.Stop();
        Observe($"answers {answers.Count}: {string.Join(",", answers.Order())}");
    }

    /// <summary>Socket.ReceiveTimeout and NetworkStream.ReadTimeout on a connection that sends nothing.</summary>
    private static void DiffSocketTimeouts()
    {
        var listener = Listen();
        using var client = new TcpClient();
        client.Connect((IPEndPoint)listener.LocalEndpoint);
        using var accepted = listener.AcceptSocket();
        accepted.ReceiveTimeout = 30;
        string socketTimeout;
        try { accepted.Receive(new byte[10]); socketTimeout = "no exception"; }
        catch (SocketException e) { socketTimeout = $"SocketException {e.SocketErrorCode}"; }
        Observe($"Socket.Receive with ReceiveTimeout: {socketTimeout}");
        var stream = client.GetStream();
        stream.ReadTimeout = 30;
        string streamTimeout;
        try { stream.ReadExactly(new byte[1]); streamTimeout = "no exception"; }
        catch (IOException e) { streamTimeout = $"IOException({(e.InnerException as SocketException)?.SocketErrorCode})"; }
        Observe($"NetworkStream.Read with ReadTimeout: {streamTimeout}");
        accepted.Send("x"u8);
        var one = new byte[1];
        Observe($"Socket.Receive after the peer sent: {accepted.Connected} {client.Client.Receive(one)} byte(s) '{(char)one[0]}'");
        listener.Stop();
    }

    /// <summary>Socket.Poll and Socket.Select: not readable before data, readable after; writable at once.</summary>
    private static void DiffPollSelect()
    {
        var listener = Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndpoint);
        using var server = listener.AcceptSocket();
        Observe($"Poll(read, 20 ms) before data: {server.Poll(20_000, SelectMode.SelectRead)}");
        Observe($"Poll(write, 0) at once: {client.Poll(0, SelectMode.SelectWrite)}");
        new Thread(() => { Thread.Sleep(20); client.Send("ping"u8); }).Start();
        Observe($"Poll(read, 5 s) until data: {server.Poll(5_000_000, SelectMode.SelectRead)}");
        var readable = new List<Socket> { server };
        Socket.Select(readable, null, null, 1_000_000);
        Observe($"Select lists the readable socket: {readable.Count == 1 && readable[0] == server}");
        var none = new List<Socket> { client };
        Socket.Select(none, null, null, 20_000);
        Observe($"Select on a socket with nothing to read: {none.Count}");
        listener.Stop();
    }

    /// <summary>UdpClient request/reply between two threads.</summary>
    private static void DiffUdp()
    {
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var serverEndpoint = (IPEndPoint)server.Client.LocalEndPoint!;
        var replier = new Thread(() =>
        {
            for (int i = 0; i < 3; i++)
            {
                var from = new IPEndPoint(IPAddress.Any, 0);
                byte[] data = server.Receive(ref from);
                server.Send(Encoding.ASCII.GetBytes("re:" + Encoding.ASCII.GetString(data)), from);
            }
        });
        replier.Start();
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var replies = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            client.Send(Encoding.ASCII.GetBytes($"m{i}"), serverEndpoint);
            var from = new IPEndPoint(IPAddress.Any, 0);
            replies.Add(Encoding.ASCII.GetString(client.Receive(ref from)));
        }

        replier.Join();
        Observe(string.Join(",", replies));
    }

    /// <summary>Connecting to a port nobody listens on, with Socket and TcpClient.</summary>
    private static void DiffConnectRefused()
    {
        var listener = Listen();
        var endpoint = (IPEndPoint)listener.LocalEndpoint;
        listener.Stop();
        string socket, tcp;
        try { using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp); s.Connect(endpoint); socket = "connected"; }
        catch (SocketException e) { socket = e.SocketErrorCode.ToString(); }
        try { using var c = new TcpClient(); c.Connect(endpoint); tcp = "connected"; }
        catch (SocketException e) { tcp = e.SocketErrorCode.ToString(); }
        Observe($"Socket.Connect: {socket}; TcpClient.Connect: {tcp}");
    }

    /// <summary>HttpListener and HttpClient.Send: a POST echoed back, a 404, a header.</summary>
    private static void DiffHttpRoundTrip()
    {
        int port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var server = new Thread(() =>
        {
            for (int i = 0; i < 2; i++)
            {
                var context = listener.GetContext();
                using var response = context.Response;
                if (context.Request.Url!.AbsolutePath == "/missing")
                {
                    response.StatusCode = 404;
                    continue;
                }

                string body = new StreamReader(context.Request.InputStream).ReadToEnd();
                byte[] reply = Encoding.UTF8.GetBytes(body.ToUpperInvariant());
                response.Headers["X-Seen"] = context.Request.Headers["X-Mine"];
                response.OutputStream.Write(reply);
            }
        });
        server.Start();
        using var client = new HttpClient();
        using var post = client.Send(new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/echo")
        {
            Content = new StringContent("hello green"),
            Headers = { { "X-Mine", "42" } },
        });
        string text = new StreamReader(post.Content.ReadAsStream()).ReadToEnd();
        Observe($"POST: {(int)post.StatusCode} '{text}' X-Seen={string.Join(",", post.Headers.GetValues("X-Seen"))}");
        using var missing = client.Send(new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/missing"));
        Observe($"GET /missing: {(int)missing.StatusCode}");
        server.Join();
    }

    /// <summary>Dns lookups of localhost from a plain thread.</summary>
    private static void DiffDns()
    {
        string result = "?";
        var t = new Thread(() =>
        {
            var addresses = Dns.GetHostAddresses("localhost");
            var entry = Dns.GetHostEntry("localhost");
            result = $"loopback among addresses: {addresses.Any(IPAddress.IsLoopback)}; entry has addresses: {entry.AddressList.Length > 0}";
        });
        t.Start();
        t.Join();
        Observe(result);
    }

    /// <summary>A child process's output, exit code and stdin, read and waited for from plain threads.</summary>
    private static void DiffProcess()
    {
        var echo = Process.Start(new ProcessStartInfo("/bin/echo", "hello from echo") { RedirectStandardOutput = true })!;
        string output = echo.StandardOutput.ReadToEnd();
        echo.WaitForExit();
        Observe($"echo: '{output.Trim()}' exit {echo.ExitCode}");
        var exit3 = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "exit 3"]))!;
        exit3.WaitForExit();
        Observe($"sh exit code {exit3.ExitCode}");
        var cat = Process.Start(new ProcessStartInfo("/bin/cat") { RedirectStandardInput = true, RedirectStandardOutput = true })!;
        string catOut = "";
        var reader = new Thread(() => catOut = cat.StandardOutput.ReadToEnd());
        reader.Start();
        cat.StandardInput.WriteLine("line 1");
        cat.StandardInput.WriteLine("line 2");
        cat.StandardInput.Close();
        reader.Join();
        cat.WaitForExit();
        Observe($"cat: {catOut.Replace("\n", "|")}");
    }

    /// <summary>An anonymous pipe between two threads.</summary>
    private static void DiffAnonymousPipe()
    {
        using var server = new AnonymousPipeServerStream(PipeDirection.Out);
        using var client = new AnonymousPipeClientStream(PipeDirection.In, server.ClientSafePipeHandle);
        string received = "";
        var reader = new Thread(() => received = new StreamReader(client).ReadToEnd());
        reader.Start();
        using (var writer = new StreamWriter(server))
        {
            writer.Write("through the pipe");
        }

        reader.Join();
        Observe($"received '{received}'");
    }
}
