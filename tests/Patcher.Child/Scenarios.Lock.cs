using Evergreen;
using Evergreen.Patching;

// System.Threading.Lock between green threads (and with a native thread) under the monkey patch.
internal static partial class Scenarios
{
    /// <summary>
    /// <c>lock (Lock)</c>: green A holds a Lock across a green wait, green B contends, green C still runs meanwhile
    /// (B parked greenly instead of spinning/sleeping in the kernel with the baton). B sees IsHeldByCurrentThread.
    /// </summary>
    private static void LockTypeContention()
    {
        var gate = new Lock();
        var order = new List<string>();
        var aIn = new Evergreen.Event();
        var release = new Evergreen.Event();
        bool aHeld = false, bHeld = false, bHeldAfter = true, mainHeld = true;
        var a = new Thread(() => { lock (gate) { aHeld = gate.IsHeldByCurrentThread; order.Add("A in"); aIn.Send(); release.Wait(); order.Add("A out"); } });
        // B caches its Lock thread id first (an uncontended Lock), so its contended enter reaches TryEnterSlow with an
        // initialised id: the green retries must still really try the lock (they once never did, and B parked forever).
        var b = new Thread(() => { lock (new Lock()) { } aIn.Wait(); order.Add("B wants"); lock (gate) { order.Add("B in"); bHeld = gate.IsHeldByCurrentThread; } bHeldAfter = gate.IsHeldByCurrentThread; });
        var c = new Thread(() => { aIn.Wait(); Thread.Sleep(0); order.Add("C ran"); mainHeld = gate.IsHeldByCurrentThread; release.Send(); });
        long contentionBefore = LockContentionCount();
        a.Start(); b.Start(); c.Start();
        a.Join(); b.Join(); c.Join();
        string s = string.Join(",", order);
        Check(s == "A in,B wants,C ran,A out,B in", "order was " + s);
        Check(aHeld && bHeld, "IsHeldByCurrentThread true for the owner (A direct, B after a green park)");
        Check(!bHeldAfter && !mainHeld, "IsHeldByCurrentThread false after release and for a non-owner");
        // Recursion on a green thread through the patched path.
        lock (gate) { lock (gate) Check(gate.IsHeldByCurrentThread, "recursive hold"); Check(gate.IsHeldByCurrentThread, "still held after inner exit"); }
        Check(!gate.IsHeldByCurrentThread, "released after recursion");
        Console.WriteLine($"info: Lock.ContentionCount +{LockContentionCount() - contentionBefore} (green contention parks on the hub)");
    }

    /// <summary>What the watchdog prints about a Lock when a scenario hangs: its private state word, owner, recursion.</summary>
    internal static string DescribeLock(Lock l)
    {
#pragma warning disable CS9216 // boxed only for reflection, never locked on
        object boxed = l;
#pragma warning restore CS9216
        string F(string name) => typeof(Lock).GetField(name, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)?.GetValue(boxed)?.ToString() ?? "?";
        return $"Lock _state=0x{Convert.ToUInt32(F("_state")):x} (bit0 locked, bit1 should-not-preempt-waiters, bit5 waiter-signaled, waiters={Convert.ToUInt32(F("_state")) >> 7}) _owningThreadId={F("_owningThreadId")} _recursionCount={F("_recursionCount")}";
    }

    /// <summary>What the watchdog prints about the green lock waiters (GreenMonitor, internal; by reflection): waiters counted, per-object list sizes.</summary>
    internal static string GreenLockWaiters()
    {
        var t = typeof(Hub).Assembly.GetType("Evergreen.Internal.GreenMonitor");
        if (t == null) return "GreenMonitor not found";
        var f = System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static;
        object? waiting = t.GetField("s_enterWaiting", f)?.GetValue(null);
        var dict = t.GetField("s_enterWaiters", f)?.GetValue(null) as System.Collections.IDictionary;
        var lists = new List<string>();
        if (dict != null) foreach (System.Collections.DictionaryEntry e in dict) lists.Add(e.Value?.GetType().GetProperty("Count")?.GetValue(e.Value)?.ToString() ?? "?");
        return $"GreenMonitor s_enterWaiting={waiting} enter lists=[{string.Join(",", lists)}]";
    }

    /// <summary>The detour engine's JIT-hook counters (internal; read by reflection for the watchdog's diagnostic).</summary>
    internal static string JitHookCounters()
    {
        var t = typeof(Patcher).Assembly.GetReferencedAssemblies().Select(System.Reflection.Assembly.Load)
            .Select(a => a.GetType("Evergreen.Detours.JitHook") ?? a.GetType("Evergreen.Detours.Runtime.JitHook")).FirstOrDefault(x => x != null);
        if (t == null) return "JitHook not found";
        string P(string n) => t.GetProperty(n, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)?.GetValue(null)?.ToString() ?? "?";
        return $"JitHook installed={P("IsInstalled")} patched={P("PatchedCount")} skippedOsr={P("SkippedOsrCount")} failed={P("FailedCount")}";
    }

    /// <summary>The runtime's count of contended Lock waits (internal; for the info line only).</summary>
    private static long LockContentionCount() =>
        typeof(Lock).GetProperty("ContentionCount", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)?.GetValue(null) is long n ? n : -1;

    /// <summary>
    /// The other entry points: Enter()/Exit(), EnterScope(), TryEnter(int) with a timeout (green timed wait: C runs
    /// during it, it returns false), TryEnter() (never blocks), each contended by a green thread while another holds.
    /// </summary>
    private static void LockTypeApi()
    {
        foreach (var mode in new[] { "Enter", "EnterScope", "TryEnterInfinite" })
        {
            var gate = new Lock();
            var order = new List<string>();
            var aIn = new Evergreen.Event();
            var release = new Evergreen.Event();
            var a = new Thread(() => { gate.Enter(); order.Add("A in"); aIn.Send(); release.Wait(); order.Add("A out"); gate.Exit(); });
            var b = new Thread(() =>
            {
                aIn.Wait();
                order.Add("B wants");
                switch (mode)
                {
                    case "Enter": gate.Enter(); order.Add("B in"); Check(gate.IsHeldByCurrentThread, "B holds (Enter)"); gate.Exit(); break;
                    case "EnterScope": using (gate.EnterScope()) { order.Add("B in"); Check(gate.IsHeldByCurrentThread, "B holds (EnterScope)"); } break;
                    default: Check(gate.TryEnter(Timeout.Infinite), "TryEnter(-1)"); order.Add("B in"); gate.Exit(); break;
                }
            });
            var c = new Thread(() => { aIn.Wait(); Thread.Sleep(0); order.Add("C ran"); release.Send(); });
            a.Start(); b.Start(); c.Start();
            a.Join(); b.Join(); c.Join();
            string s = string.Join(",", order);
            Check(s == "A in,B wants,C ran,A out,B in", mode + ": order was " + s);
            Check(!gate.IsHeldByCurrentThread && gate.TryEnter(), mode + ": free afterwards");
            gate.Exit();
        }

        // TryEnter with a timeout while another green thread holds the lock: the timed wait is green (C runs during it).
        {
            var gate = new Lock();
            var order = new List<string>();
            var aIn = new Evergreen.Event();
            var release = new Evergreen.Event();
            var bTrying = new Evergreen.Event();
            bool timedOut = false, immediate = true;
            var a = new Thread(() => { lock (gate) { order.Add("A in"); aIn.Send(); release.Wait(); order.Add("A out"); } });
            var b = new Thread(() =>
            {
                aIn.Wait();
                immediate = gate.TryEnter(); // timeout 0: never blocks
                order.Add("B tries");
                bTrying.Send();
                timedOut = !gate.TryEnter(TimeSpan.FromMilliseconds(100));
                order.Add("B timed out");
                release.Send();
            });
            var c = new Thread(() => { bTrying.Wait(); order.Add("C ran"); });
            a.Start(); b.Start(); c.Start();
            a.Join(); b.Join(); c.Join();
            string s = string.Join(",", order);
            Check(!immediate, "TryEnter() on a held lock returns false at once");
            Check(timedOut, "TryEnter(100 ms) returned false while A held the lock");
            Check(s == "A in,B tries,C ran,B timed out,A out", "timed order was " + s);
        }
    }

    /// <summary>A Lock shared by green threads and a native thread (Original Thread): N × M increments stay exact.</summary>
    private static void LockTypeGreenAndNative()
    {
        var gate = new Lock();
        long counter = 0;
        const int N = 200_000;
        bool nativeWasGreen = true;
        int[] progress = new int[4];
        Diagnostic = () => $"progress [{string.Join(",", progress)}] counter {counter}; " + DescribeLock(gate) + "; " + JitHookCounters() + "; " + GreenLockWaiters();
        var native = Patcher.Original<OriginalThread>().Start(() =>
        {
            nativeWasGreen = Hub.IsGreenThread;
            for (int i = 0; i < N; i++)
            {
                if ((i & 1) == 0) { lock (gate) counter++; }
                else { gate.Enter(); counter++; gate.Exit(); }
                progress[3] = i + 1;
            }
        }, "native");
        var greens = new List<Thread>();
        for (int g = 0; g < 3; g++)
        {
            int slot = g;
            var t = new Thread(() =>
            {
                for (int i = 0; i < N; i++)
                {
                    progress[slot] = i;
                    // Every 1000th increment holds the lock across a green switch, so the other greens contend and park.
                    if (i % 1000 == 0) { lock (gate) { counter++; Thread.Sleep(0); } }
                    else { lock (gate) counter++; }
                }
            });
            greens.Add(t); t.Start();
        }
        foreach (var t in greens) t.Join();
        native.Join();
        Check(!nativeWasGreen, "the Original thread is native");
        Check(counter == 4L * N, $"exact count {counter} (expected {4L * N})");
        Check(!gate.IsHeldByCurrentThread && gate.TryEnter(), "free afterwards");
        gate.Exit();
    }

    /// <summary>
    /// 8 green threads increment under one lock (a <see cref="Lock"/>, or an object with <c>lock</c>/Monitor), every
    /// 1000th time holding it across a green switch so the others contend and park. Each release wakes one parked
    /// thread; a woken thread that loses the race parks again. All must finish (no lost wake-up) and the count is
    /// exact. Joins are bounded (background threads) so a lost wake-up fails instead of hanging.
    /// </summary>
    private static void ManyContenders(bool monitor)
    {
        const int Threads = 8, N = 20_000;
        var lk = new Lock();
        var obj = new object();
        long counter = 0;
        int finished = 0;
        var threads = new List<Thread>();
        for (int g = 0; g < Threads; g++)
        {
            var t = new Thread(() =>
            {
                for (int i = 0; i < N; i++)
                {
                    bool hold = i % 1000 == 0;
                    if (monitor) { lock (obj) { counter++; if (hold) Thread.Sleep(0); } }
                    else { lock (lk) { counter++; if (hold) Thread.Sleep(0); } }
                }
                finished++;
            })
            { IsBackground = true };
            threads.Add(t); t.Start();
        }
        var bound = DateTime.UtcNow.AddSeconds(60); // safety bound: a lost wake-up leaves threads parked forever
        foreach (var t in threads) t.Join(TimeSpan.FromSeconds(Math.Max(0, (bound - DateTime.UtcNow).TotalSeconds)));
        Check(finished == Threads, $"{(monitor ? "Monitor" : "Lock")}: {Threads - finished} of {Threads} contending green threads never woke (lost wake-up); count {counter}");
        Check(counter == (long)Threads * N, $"exact count {counter}");
    }

    /// <summary>
    /// The Monitor twin of lock-type-green-and-native: lock(object) shared by 3 green threads (every 1000th hold across
    /// a green switch) and a native thread; exact count. Tells a Lock-specific problem from a hub one.
    /// </summary>
    private static void MonitorGreenAndNativeHold()
    {
        var gate = new object();
        long counter = 0;
        const int N = 200_000;
        int[] progress = new int[4];
        Diagnostic = () => $"progress [{string.Join(",", progress)}] counter {counter}; {JitHookCounters()}";
        var native = Patcher.Original<OriginalThread>().Start(() =>
        {
            for (int i = 0; i < N; i++) { lock (gate) counter++; progress[3] = i + 1; }
        }, "native");
        var greens = new List<Thread>();
        for (int g = 0; g < 3; g++)
        {
            int slot = g;
            var t = new Thread(() =>
            {
                for (int i = 0; i < N; i++)
                {
                    progress[slot] = i;
                    if (i % 1000 == 0) { lock (gate) { counter++; Thread.Sleep(0); } }
                    else { lock (gate) counter++; }
                }
            });
            greens.Add(t); t.Start();
        }
        foreach (var t in greens) t.Join();
        native.Join();
        Check(counter == 4L * N, $"exact count {counter} (expected {4L * N})");
    }
}
