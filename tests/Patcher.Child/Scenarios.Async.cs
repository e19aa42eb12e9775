using Evergreen;
using Evergreen.Patching;

// Differential scenarios for await on plain threads (issue 11, point 3). Each prints only what both runs must agree on;
// what holds only patched (a continuation ran green, one at a time) is checked by GreenOnly, which prints nothing.
internal static partial class Scenarios
{
    /// <summary>Checks <paramref name="ok"/> only in the patched run (the thread area is patched).</summary>
    private static void GreenOnly(bool ok, string what)
    {
        if (Patcher.IsMonkeyPatched("thread")) Check(ok, "patched: " + what);
    }

    /// <summary>
    /// 4 plain threads each block in Wait() on an async method whose continuations (after Task.Delay) do an unlocked
    /// read-modify-write of a shared counter, while 4 more plain threads do the same between sleeps. Patched, every
    /// continuation is a green thread on the hub: none overlaps another green thread and no update is lost — and the
    /// thread blocked in Wait() is the one the continuations were posted from (no sync-over-async deadlock).
    /// </summary>
    private static void DiffAwaitOneAtATime()
    {
        const int Threads = 4, Rounds = 40;
        int counter = 0, inside = 0, overlapped = 0, offHub = 0, done = 0;
        void Critical()
        {
            if (Interlocked.Increment(ref inside) > 1) Interlocked.Increment(ref overlapped);
            int v = counter;
            Thread.SpinWait(2000);
            counter = v + 1;
            Interlocked.Decrement(ref inside);
            Interlocked.Increment(ref done);
        }

        async Task Bump()
        {
            for (int i = 0; i < Rounds; i++)
            {
                await Task.Delay(1);
                if (GreenThread.Current == null) Interlocked.Increment(ref offHub);
                Critical();
            }
        }

        var threads = Enumerable.Range(0, Threads).Select(_ => new Thread(() => Bump().Wait()))
            .Concat(Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
            {
                for (int i = 0; i < Rounds; i++)
                {
                    Thread.Sleep(1);
                    Critical();
                }
            }))).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe($"critical sections run: {done}");
        GreenOnly(offHub == 0, $"every continuation ran on a green thread ({offHub} did not)");
        GreenOnly(overlapped == 0 && counter == done, $"green threads ran one at a time (overlaps {overlapped}, counter {counter} of {done})");
    }

    /// <summary>
    /// .Result, .Wait() and GetAwaiter().GetResult() on async methods (Task.Yield, Task.Delay, a TaskCompletionSource
    /// set by another plain thread, a fault) from main and from a plain thread; SynchronizationContext.Send and Post
    /// from a plain thread and from a pool thread.
    /// </summary>
    private static void DiffAwaitResult()
    {
        bool allGreen = true;
        void NoteGreen() => allGreen &= GreenThread.Current != null;

        async Task<int> Twice(int x)
        {
            await Task.Yield();
            NoteGreen();
            await Task.Delay(5);
            NoteGreen();
            return 2 * x;
        }

        async Task<int> FromOtherThread()
        {
            var tcs = new TaskCompletionSource<int>();
            new Thread(() => { Thread.Sleep(10); tcs.SetResult(7); }).Start();
            int v = await tcs.Task;
            NoteGreen();
            await Task.Yield();
            NoteGreen();
            return v;
        }

        async Task<int> Fails()
        {
            await Task.Yield();
            throw new InvalidOperationException("boom");
        }

        void Block(string where)
        {
            Observe($"{where}: Result {Twice(1).Result}");
            var t = Twice(2);
            t.Wait();
            Observe($"{where}: Wait then Result {t.Result}");
            Observe($"{where}: GetResult {Twice(3).GetAwaiter().GetResult()}");
            Observe($"{where}: set by another thread {FromOtherThread().Result}");
            try { _ = Fails().Result; }
            catch (AggregateException e) { Observe($"{where}: Result of a fault throws {e.InnerException!.GetType().Name}"); }
            try { Fails().GetAwaiter().GetResult(); }
            catch (InvalidOperationException e) { Observe($"{where}: GetResult of a fault throws {e.Message}"); }
        }

        Block("main");
        var plain = new Thread(() => Block("plain thread"));
        plain.Start();
        plain.Join();
        GreenOnly(allGreen, "every continuation ran on a green thread");

        // Send and Post on the thread's context (plain .NET: none, so the default one).
        var sender = new Thread(() =>
        {
            var context = SynchronizationContext.Current ?? new SynchronizationContext();
            int got = 0;
            context.Send(_ => got = 5, null);
            Observe($"Send from a plain thread ran: {got}");
            try { context.Send(_ => throw new FormatException("from Send"), null); }
            catch (FormatException e) { Observe($"Send rethrows: {e.Message}"); }
            bool sentGreen = false, postedGreen = false;
            Task.Run(() => context.Send(_ => { got = 6; sentGreen = GreenThread.Current != null; }, null)).Wait();
            Observe($"Send from a pool thread ran: {got}");
            using var posted = new ManualResetEventSlim();
            Task.Run(() => context.Post(_ => { postedGreen = GreenThread.Current != null; posted.Set(); }, null)).Wait();
            posted.Wait();
            Observe("Post from a pool thread ran");
            GreenOnly(sentGreen && postedGreen, $"Send and Post from a pool thread ran green (Send {sentGreen}, Post {postedGreen})");
        });
        sender.Start();
        sender.Join();
    }

    /// <summary>ConfigureAwait(false) continuations and Task.Run bodies run on the thread pool, patched or not.</summary>
    private static void DiffAwaitPool()
    {
        bool greenAfterAwait = false, waitNotification = true;
        async Task Body()
        {
            Observe($"Task.Run body on the pool: {await Task.Run(() => Thread.CurrentThread.IsThreadPoolThread)}");
            greenAfterAwait = GreenThread.Current != null && !Thread.CurrentThread.IsThreadPoolThread;
            waitNotification = SynchronizationContext.Current?.IsWaitNotificationRequired() ?? true;
            await Task.Delay(5).ConfigureAwait(false);
            Observe($"after ConfigureAwait(false): pool {Thread.CurrentThread.IsThreadPoolThread}, context {SynchronizationContext.Current?.GetType().Name ?? "none"}");
            await Task.Delay(5);
            Observe($"a later await stays on the pool: {Thread.CurrentThread.IsThreadPoolThread}");
        }

        var thread = new Thread(() => Body().GetAwaiter().GetResult());
        thread.Start();
        thread.Join();
        GreenOnly(greenAfterAwait, "the continuation after a plain await ran green, off the pool");
        GreenOnly(!waitNotification, "the green context asks for no wait notification (WaitHandle waits stay ours)");
    }

    /// <summary>AsyncLocal values flow into continuations and posted callbacks, not back out; SuppressFlow stops them.</summary>
    private static void DiffAsyncLocal()
    {
        var local = new AsyncLocal<string>();
        bool green = true;
        async Task Inner()
        {
            await Task.Delay(1);
            green &= GreenThread.Current != null;
            Observe($"after await: {local.Value}");
            local.Value = "inner";
            await Task.Yield();
            green &= GreenThread.Current != null;
            Observe($"after a second await: {local.Value}");
            await Task.Delay(1).ConfigureAwait(false);
            Observe($"after ConfigureAwait(false): {local.Value}");
        }

        var thread = new Thread(() =>
        {
            local.Value = "outer";
            Inner().Wait();
            Observe($"back in the thread: {local.Value}");
            var context = SynchronizationContext.Current ?? new SynchronizationContext();
            using var posted = new ManualResetEventSlim();
            string? seen = "unset";
            context.Post(_ => { seen = local.Value; posted.Set(); }, null);
            posted.Wait();
            Observe($"in a posted callback: {seen}");
            posted.Reset();
            using (ExecutionContext.SuppressFlow()) context.Post(_ => { seen = local.Value ?? "null"; posted.Set(); }, null);
            posted.Wait();
            Observe($"posted with flow suppressed: {seen}");
        });
        thread.Start();
        thread.Join();
        GreenOnly(green, "every continuation ran on a green thread");
    }
}
