using Evergreen.Patching;

// Issue 11, items 4-6: Thread.Interrupt (differential: unpatched and patched print the same "out:" lines), starting
// threads without holding the hub, and runtime threads keeping the process's CPU set.
internal static partial class Scenarios
{
    /// <summary>
    /// Runs <paramref name="body"/> on a new thread that signals <c>ready</c> just before its wait, interrupts it once
    /// it has, and reports how its wait ended. Plain .NET throws ThreadInterruptedException whether the interrupt comes
    /// before the wait begins (it stays pending) or during it, so no sleep is needed to line the two up.
    /// </summary>
    private static void InterruptWhileWaiting(string what, Action<ManualResetEventSlim> body, Action? afterInterrupt = null)
    {
        var ready = new ManualResetEventSlim();
        string outcome = "?";
        var t = new Thread(() =>
        {
            try
            {
                body(ready);
                outcome = "wait ended without an interrupt";
            }
            catch (ThreadInterruptedException)
            {
                outcome = "ThreadInterruptedException";
            }
        });
        t.Start();
        ready.Wait();
        t.Interrupt();
        afterInterrupt?.Invoke();
        t.Join();
        Observe($"{what}: {outcome}");
    }

    private static void DiffInterruptSleep() =>
        InterruptWhileWaiting("Sleep(5000)", ready => { ready.Set(); Thread.Sleep(5000); });

    /// <summary>The interrupter is a native thread (patched: the interrupt is posted to the hub).</summary>
    private static void DiffInterruptFromNativeThread()
    {
        var ready = new ManualResetEventSlim();
        string outcome = "?";
        var t = new Thread(() =>
        {
            outcome = TryWait("Sleep(5000) interrupted by a native thread", () => { ready.Set(); Thread.Sleep(5000); });
        });
        t.Start();
        Patcher.Original<OriginalThread>().Start(() => { ready.Wait(); t.Interrupt(); }, "native-interrupter");
        t.Join();
        Observe(outcome);
    }

    /// <summary>Monitor.Wait: the interrupted waiter owns the lock again when the exception reaches it (as in .NET).</summary>
    private static void DiffInterruptMonitorWait()
    {
        var gate = new object();
        bool ownedInCatch = false;
        InterruptWhileWaiting("Monitor.Wait(obj, 5000)", ready =>
        {
            lock (gate)
            {
                ready.Set();
                try
                {
                    Monitor.Wait(gate, 5000);
                }
                catch (ThreadInterruptedException)
                {
                    ownedInCatch = Monitor.IsEntered(gate);
                    throw;
                }
            }
        });
        Observe($"lock owned when the interrupt arrived: {ownedInCatch}");
    }

    private static void DiffInterruptJoin()
    {
        var release = new ManualResetEventSlim();
        bool otherEnded = false;
        var other = new Thread(() => { release.Wait(); otherEnded = true; });
        other.Start();
        InterruptWhileWaiting("Join", ready => { ready.Set(); other.Join(); });
        release.Set();
        other.Join();
        Observe($"joined thread ended normally: {otherEnded}");
    }

    private static void DiffInterruptContendedLock()
    {
        var gate = new object();
        bool enteredAfter = false;
        lock (gate)
        {
            InterruptWhileWaiting("contended lock", ready => { ready.Set(); lock (gate) { } });
        }
        var t = new Thread(() => { lock (gate) enteredAfter = true; });
        t.Start();
        t.Join();
        Observe($"lock usable afterwards: {enteredAfter}");
    }

    private static void DiffInterruptWaitOne()
    {
        using var never = new AutoResetEvent(false);
        InterruptWhileWaiting("WaitOne on an unset AutoResetEvent", ready => { ready.Set(); never.WaitOne(); });
    }

    /// <summary>
    /// A running thread (here: interrupting itself) is not stopped; the interrupt is delivered at its next wait, once, and
    /// a later wait — green, or native through Original("time") — runs to its end.
    /// </summary>
    private static void DiffInterruptRunningThenLaterWaits()
    {
        var lines = new List<string>();
        var t = new Thread(() =>
        {
            Thread.CurrentThread.Interrupt();
            lines.Add("still running after Interrupt");
            try
            {
                Thread.Sleep(5000);
                lines.Add("next Sleep: not interrupted");
            }
            catch (ThreadInterruptedException)
            {
                lines.Add("next Sleep: ThreadInterruptedException");
            }

            lines.Add(TryWait("a later Sleep(1)", () => Thread.Sleep(1)));
            lines.Add(TryWait("a later WaitOne(1)", () => new ManualResetEvent(false).WaitOne(1)));
            lines.Add(TryWait("a later native sleep", () => Patcher.Original<OriginalTime>().Sleep(1)));
        });
        t.Start();
        t.Join();
        lines.ForEach(Observe);
    }

    /// <summary>A pending interrupt and the waits that do not wait: Sleep(0), Thread.Yield, an uncontended lock, a set event.</summary>
    private static void DiffInterruptZeroWaits()
    {
        var lines = new List<string>();
        var t = new Thread(() =>
        {
            var gate = new object();
            using var set = new ManualResetEvent(true);
            Thread.CurrentThread.Interrupt();
            lines.Add(TryWait("uncontended lock", () => { lock (gate) { } }));
            lines.Add(TryWait("Thread.Yield", () => Thread.Yield()));
            lines.Add(TryWait("WaitOne on a set event", () => set.WaitOne()));
            lines.Add(TryWait("Sleep(0)", () => Thread.Sleep(0)));
            lines.Add(TryWait("Sleep(1)", () => Thread.Sleep(1)));
        });
        t.Start();
        t.Join();
        lines.ForEach(Observe);
    }

    /// <summary>An interrupt before Start waits for the thread's first wait, and only that one.</summary>
    private static void DiffInterruptBeforeStart()
    {
        var lines = new List<string>();
        var t = new Thread(() =>
        {
            lines.Add(TryWait("first Sleep(5000)", () => Thread.Sleep(5000)));
            lines.Add(TryWait("a later WaitOne(1)", () => new ManualResetEvent(false).WaitOne(1)));
            lines.Add(TryWait("a later native sleep", () => Patcher.Original<OriginalTime>().Sleep(1)));
        });
        t.Interrupt();
        t.Start();
        t.Join();
        lines.ForEach(Observe);
    }

    /// <summary>Interrupting a native (non-green) thread keeps the runtime's behaviour, on both runs.</summary>
    private static void DiffInterruptNativeThread()
    {
        var ready = new ManualResetEventSlim();
        string outcome = "?";
        var t = Patcher.Original<OriginalThread>().Start(() =>
        {
            try
            {
                ready.Set();
                Thread.Sleep(5000);
                outcome = "not interrupted";
            }
            catch (ThreadInterruptedException)
            {
                outcome = "ThreadInterruptedException";
            }
        }, "native-sleeper");
        ready.Wait();
        t.Interrupt();
        t.Join();
        Observe($"native thread in Sleep(5000): {outcome}");
    }

    /// <summary>
    /// Issue 11.5: while main starts N plain threads in a loop, a green ticker that only yields (Sleep(0)) keeps running.
    /// Each start parks the starter while the OS thread is created off the hub, so the ticker runs at least once a start;
    /// a start that held the hub (the runtime's Start blocking with the baton) let it run not once during the loop.
    /// </summary>
    private static void ThreadStartKeepsHubLive()
    {
        const int N = 1000;
        long ticks = 0;
        bool stop = false;
        var ticker = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                ticks++;
                Thread.Sleep(0);
            }
        });
        ticker.Start();
        Thread.Sleep(0); // the ticker is running (and yielding) before the loop
        int ran = 0;
        var threads = new Thread[N];
        long before = ticks;
        for (int i = 0; i < N; i++)
        {
            threads[i] = new Thread(() => Interlocked.Increment(ref ran));
            threads[i].Start();
        }
        long during = ticks - before;
        Volatile.Write(ref stop, true);
        foreach (var t in threads) t.Join();
        ticker.Join();
        Console.WriteLine($"ticker ran {during} times while {N} threads were started");
        Check(ran == N, $"all {N} threads ran ({ran})");
        Check(during >= N / 2, $"the ticker ran at least {N / 2} times during the loop (ran {during}): starting threads held the hub");
    }

    /// <summary>
    /// Issue 11.6: after thread-pool, timer and async socket use from green threads, every thread that is not green keeps
    /// the process's CPU set, not the green threads' one-CPU pin. Waits (bounded, re-checking) for the hub to fix up
    /// threads created pinned.
    /// </summary>
    private static void RuntimeThreadsKeepCpuSet()
    {
        string processSet = "?";
        Patcher.Original<OriginalThread>().Start(() => processSet = CpusAllowed("/proc/thread-self/status"), "read-cpu-set").Join();

        var done = new CountdownEvent(8);
        for (int i = 0; i < 8; i++) ThreadPool.QueueUserWorkItem(_ => { Thread.SpinWait(100_000); done.Signal(); });
        done.Wait();
        Task.Run(() => 42).Wait();
        var fired = new ManualResetEventSlim();
        using (new Timer(_ => fired.Set(), null, 10, Timeout.Infinite)) fired.Wait();
        using (var listener = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
        {
            listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            listener.Listen();
            using var client = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            var connecting = client.ConnectAsync(listener.LocalEndPoint!);
            using var server = listener.Accept();
            connecting.Wait();
            var receiving = client.ReceiveAsync(new byte[1].AsMemory()).AsTask();
            server.Send([7]);
            Check(receiving.Result == 1, "async receive");
        }

        var names = new Dictionary<int, string>();
        string bad = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(10); ; Thread.Sleep(50))
        {
            bad = "";
            foreach (string dir in Directory.GetDirectories("/proc/self/task"))
            {
                int tid = int.Parse(Path.GetFileName(dir));
                string name;
                try
                {
                    name = File.ReadAllText(dir + "/comm").Trim();
                    // Green: the main thread (tid = pid) and the hub's workers; nothing else here is green.
                    if (tid == Environment.ProcessId || name == "evergreen-worke") continue;
                    names[tid] = name;
                    string set = CpusAllowed(dir + "/status");
                    if (set != processSet) bad += $" {name}({tid}): {set};";
                }
                catch (IOException)
                {
                    continue; // ended meanwhile
                }
            }
            if (bad == "" || DateTime.UtcNow > deadline) break;
        }
        Console.WriteLine($"process CPU set {processSet}; threads checked: {string.Join(", ", names.Values.Distinct().Order())}");
        Check(names.ContainsValue(".NET TP Worker") && names.ContainsValue(".NET Timer"), "the pool and timer threads exist");
        Check(bad == "", $"every non-green thread keeps the process's CPU set {processSet}; not:{bad}");
    }

    private static string CpusAllowed(string statusPath) =>
        File.ReadLines(statusPath).First(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)).Split(':')[1].Trim();

    private static string TryWait(string what, Action wait)
    {
        try
        {
            wait();
            return what + ": completed";
        }
        catch (ThreadInterruptedException)
        {
            return what + ": ThreadInterruptedException";
        }
    }
}
