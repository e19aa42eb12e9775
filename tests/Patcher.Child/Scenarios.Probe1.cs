// Probe 1: ordinary System.Threading code a new user would write — spin-waits, the pool, timers, cancellation, Lock,
// Lazy, concurrent collections, Monitor corner cases — run unpatched and patched (DifferentialTests compares).
internal static partial class Scenarios
{
    private static bool RunProbe1(string name)
    {
        switch (name)
        {
            case "diff-p1-join-timespan": DiffP1JoinTimeSpan(); return true;
            default: return false;
        }
    }

    /// <summary>Thread.Join(TimeSpan) and Join(int) on a running, a finished and an unstarted thread; bad timeouts.</summary>
    private static void DiffP1JoinTimeSpan()
    {
        using var go = new ManualResetEventSlim();
        var t = new Thread(() => go.Wait());
        t.Start();
        Observe($"Join(TimeSpan 20 ms) while waiting: {t.Join(TimeSpan.FromMilliseconds(20))}");
        Observe($"Join(TimeSpan.Zero) while waiting: {t.Join(TimeSpan.Zero)}");
        Observe($"Join(0) while waiting: {t.Join(0)}");
        go.Set();
        Observe($"Join(TimeSpan 10 s) after release: {t.Join(TimeSpan.FromSeconds(10))}");
        Observe($"Join(0) when finished: {t.Join(0)}, Join(TimeSpan.Zero) {t.Join(TimeSpan.Zero)}");
        Observe($"Join(Timeout.InfiniteTimeSpan) when finished: {t.Join(Timeout.InfiniteTimeSpan)}");
        string unstarted;
        try { new Thread(() => { }).Join(10); unstarted = "no exception"; }
        catch (ThreadStateException) { unstarted = "ThreadStateException"; }
        Observe($"Join of an unstarted thread: {unstarted}");
        string negative;
        try { t.Join(-5); negative = "no exception"; }
        catch (ArgumentOutOfRangeException) { negative = "ArgumentOutOfRangeException"; }
        Observe($"Join(-5): {negative}");
        string negativeSpan;
        try { t.Join(TimeSpan.FromMilliseconds(-5)); negativeSpan = "no exception"; }
        catch (ArgumentOutOfRangeException) { negativeSpan = "ArgumentOutOfRangeException"; }
        Observe($"Join(TimeSpan -5 ms): {negativeSpan}");
        Observe($"main joins itself: Join(10) {Thread.CurrentThread.Join(10)}, Join(TimeSpan 10 ms) {Thread.CurrentThread.Join(TimeSpan.FromMilliseconds(10))}");
        string selfJoin = "?";
        var joinsItself = new Thread(() => selfJoin = $"Join(10) {Thread.CurrentThread.Join(10)}, Join(TimeSpan.Zero) {Thread.CurrentThread.Join(TimeSpan.Zero)}");
        joinsItself.Start();
        joinsItself.Join();
        Observe($"a thread joins itself: {selfJoin}");
    }
}
