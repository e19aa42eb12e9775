// Probe 1, Monitor and friends: what ThreadState says of a blocked thread (dispatched by RunProbe1 in Scenarios.Probe1.cs).
internal static partial class Scenarios
{
    /// <summary>ThreadState of threads blocked in each kind of wait (test code polls it to know a thread is blocked).</summary>
    private static void DiffP1BlockedThreadState()
    {
        object gate = new();
        var holder = new object();
        using var ev = new ManualResetEvent(false);
        using var slim = new SemaphoreSlim(0);
        using var mres = new ManualResetEventSlim();
        var l = new Lock();
        var sleeper = new Thread(() => Thread.Sleep(Timeout.Infinite)) { IsBackground = true };
        Monitor.Enter(holder);
        l.Enter();
        var kinds = new (string, ThreadStart)[]
        {
            ("Sleep", () => Thread.Sleep(Timeout.Infinite)),
            ("WaitOne", () => ev.WaitOne()),
            ("Monitor.Wait", () => { lock (gate) Monitor.Wait(gate); }),
            ("contended lock", () => { lock (holder) { } }),
            ("contended Lock", () => { l.Enter(); l.Exit(); }),
            ("SemaphoreSlim.Wait", () => slim.Wait()),
            ("ManualResetEventSlim.Wait", () => mres.Wait()),
            ("Join", () => sleeper.Join()),
        };
        sleeper.Start();
        foreach (var (label, body) in kinds)
        {
            var t = new Thread(body) { IsBackground = true };
            t.Start();
            var deadline = DateTime.UtcNow.AddSeconds(2);
            while ((t.ThreadState & ThreadState.WaitSleepJoin) == 0 && DateTime.UtcNow < deadline) Thread.Sleep(1);
            Observe($"{label}: {t.ThreadState}");
        }

        l.Exit();
        Monitor.Exit(holder);
    }
}
