using System.Net;
using System.Net.Sockets;

// Differential scenarios (issue 11): ordinary System.Threading code, written as a user would, run once unpatched
// (EVERGREEN_NO_PATCH=1) and once patched. Each prints its observable results as "out: ..." lines, which must be equal
// in both runs; a plain ticker thread runs throughout and must have advanced while the others waited (patched, a
// frozen hub would stop it — and everything else).
internal static partial class Scenarios
{
    private static readonly List<string> s_observed = new();

    private static void Observe(string line)
    {
        lock (s_observed)
        {
            s_observed.Add(line);
        }
    }

    public static int RunDifferential(string name)
    {
        int ticks = 0;
        bool stop = false;
        var ticker = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                Thread.Sleep(5);
                Interlocked.Increment(ref ticks);
            }
        })
        { IsBackground = true }; // a scenario that throws ends the process at once, with its failure, not at the bound
        ticker.Start();
        switch (name)
        {
            case "diff-autoresetevent": DiffAutoResetEvent(); break;
            case "diff-event-waitany-waitall": DiffEventWaitAnyWaitAll(); break;
            case "diff-rwlockslim": DiffReaderWriterLockSlim(); break;
            case "diff-mutex": DiffMutex(); break;
            case "diff-semaphore": DiffSemaphore(); break;
            case "diff-signalandwait": DiffSignalAndWait(); break;
            case "diff-httplistener": DiffHttpListener(); break;
            case "diff-await-one-at-a-time": DiffAwaitOneAtATime(); break;
            case "diff-await-result": DiffAwaitResult(); break;
            case "diff-await-pool": DiffAwaitPool(); break;
            case "diff-asynclocal": DiffAsyncLocal(); break;
            case "diff-interrupt-sleep": DiffInterruptSleep(); break;
            case "diff-interrupt-monitor-wait": DiffInterruptMonitorWait(); break;
            case "diff-interrupt-join": DiffInterruptJoin(); break;
            case "diff-interrupt-contended-lock": DiffInterruptContendedLock(); break;
            case "diff-interrupt-waitone": DiffInterruptWaitOne(); break;
            case "diff-interrupt-running-then-later-waits": DiffInterruptRunningThenLaterWaits(); break;
            case "diff-interrupt-native-thread": DiffInterruptNativeThread(); break;
            case "diff-interrupt-before-start": DiffInterruptBeforeStart(); break;
            case "diff-interrupt-zero-waits": DiffInterruptZeroWaits(); break;
            case "diff-interrupt-from-native-thread": DiffInterruptFromNativeThread(); break;
            default:
                if (!RunConformance(name) && !RunNativeBlocking(name) && !RunProbe3(name) && !RunProbe1(name) && !RunProbe2(name) && !RunHandOff(name) && !RunApps(name) && !RunEdges(name)) throw new ArgumentException("unknown differential scenario " + name);
                break;
        }

        Volatile.Write(ref stop, true);
        ticker.Join();
        foreach (var line in s_observed)
        {
            Console.WriteLine("out: " + line);
        }

        // Not an "out:" line: unpatched, the native ticker may not tick at all in a scenario shorter than its 5 ms sleep;
        // patched, it must have (the hub stayed live), which DifferentialTests checks.
        Console.WriteLine(ticks > 0 ? "ticker: advanced" : "ticker: never ran");

        return 0;
    }

    /// <summary>10 threads each wait on their own AutoResetEvent; another thread sets them after a sleep.</summary>
    private static void DiffAutoResetEvent()
    {
        var events = Enumerable.Range(0, 10).Select(_ => new AutoResetEvent(false)).ToArray();
        int woken = 0;
        var waiters = events.Select(e => new Thread(() => { e.WaitOne(); Interlocked.Increment(ref woken); })).ToList();
        waiters.ForEach(t => t.Start());
        var setter = new Thread(() =>
        {
            Thread.Sleep(100);
            foreach (var e in events) e.Set();
        });
        setter.Start();
        waiters.ForEach(t => t.Join());
        setter.Join();
        Observe($"woken {woken}");
        // Auto-reset: each Set released exactly one wait; a second wait times out.
        Observe($"second wait: {events[0].WaitOne(20)}");
    }

    /// <summary>WaitAny picks the set event, WaitAll waits for all, a timed WaitOne on an unset event times out.</summary>
    private static void DiffEventWaitAnyWaitAll()
    {
        var events = Enumerable.Range(0, 3).Select(_ => new ManualResetEvent(false)).ToArray();
        int any = -1;
        var waiter = new Thread(() => any = WaitHandle.WaitAny(events));
        waiter.Start();
        new Thread(() => { Thread.Sleep(50); events[2].Set(); }).Start();
        waiter.Join();
        Observe($"WaitAny returned {any}");
        bool all = false;
        var allWaiter = new Thread(() => all = WaitHandle.WaitAll(events, 5000));
        allWaiter.Start();
        new Thread(() => { Thread.Sleep(30); events[0].Set(); Thread.Sleep(30); events[1].Set(); }).Start();
        allWaiter.Join();
        Observe($"WaitAll returned {all}");
        using var never = new ManualResetEvent(false);
        Observe($"timed WaitOne on an unset event: {never.WaitOne(30)}");
        Observe($"WaitAny with a timeout: {WaitHandle.WaitAny([never], 30) == WaitHandle.WaitTimeout}");
    }

    /// <summary>10 readers wait while a writer holds the lock; upgradeable, timeouts and the recursion policy.</summary>
    private static void DiffReaderWriterLockSlim()
    {
        var rw = new ReaderWriterLockSlim();
        int value = 0, readersSawWrite = 0;
        var writerIn = new ManualResetEventSlim();
        var writer = new Thread(() =>
        {
            rw.EnterWriteLock();
            writerIn.Set();
            Thread.Sleep(100);
            value = 42;
            rw.ExitWriteLock();
        });
        writer.Start();
        writerIn.Wait();
        var readers = Enumerable.Range(0, 10).Select(_ => new Thread(() =>
        {
            rw.EnterReadLock();
            if (value == 42) Interlocked.Increment(ref readersSawWrite);
            rw.ExitReadLock();
        })).ToList();
        readers.ForEach(t => t.Start());
        readers.ForEach(t => t.Join());
        writer.Join();
        Observe($"readers that saw the write: {readersSawWrite}");

        // A writer times out while a reader holds the lock; an upgradeable reader upgrades once the reader leaves.
        var readerIn = new ManualResetEventSlim();
        var readerGo = new ManualResetEventSlim();
        var reader = new Thread(() => { rw.EnterReadLock(); readerIn.Set(); readerGo.Wait(); rw.ExitReadLock(); });
        reader.Start();
        readerIn.Wait();
        bool timedWrite = true;
        var tryWriter = new Thread(() => { timedWrite = rw.TryEnterWriteLock(30); if (timedWrite) rw.ExitWriteLock(); });
        tryWriter.Start();
        tryWriter.Join();
        Observe($"TryEnterWriteLock(30) while read-held: {timedWrite}");
        bool upgraded = false;
        var upgrader = new Thread(() =>
        {
            rw.EnterUpgradeableReadLock();
            rw.EnterWriteLock(); // waits for the reader
            upgraded = true;
            rw.ExitWriteLock();
            rw.ExitUpgradeableReadLock();
        });
        upgrader.Start();
        new Thread(() => { Thread.Sleep(50); readerGo.Set(); }).Start();
        upgrader.Join();
        reader.Join();
        Observe($"upgraded: {upgraded}");
        string recursion;
        try
        {
            rw.EnterReadLock();
            rw.EnterReadLock();
            recursion = "no exception";
        }
        catch (LockRecursionException)
        {
            recursion = "LockRecursionException";
        }
        finally
        {
            while (rw.IsReadLockHeld) rw.ExitReadLock();
        }

        Observe($"recursive read under NoRecursion: {recursion}");
    }

    /// <summary>Mutex contention, ownership (release by a non-owner throws) and abandonment.</summary>
    private static void DiffMutex()
    {
        using var mutex = new Mutex();
        int inside = 0, maxInside = 0, entries = 0;
        var threads = Enumerable.Range(0, 5).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < 5; i++)
            {
                mutex.WaitOne();
                maxInside = Math.Max(maxInside, ++inside);
                Thread.Sleep(2);
                inside--;
                entries++;
                mutex.ReleaseMutex();
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe($"entries {entries}, most inside at once {maxInside}");
        string nonOwner = "no exception";
        var stranger = new Thread(() =>
        {
            try { mutex.ReleaseMutex(); }
            catch (ApplicationException e) { nonOwner = e.GetType().Name; }
        });
        stranger.Start();
        stranger.Join();
        Observe($"ReleaseMutex by a non-owner: {nonOwner}");
        using var abandoned = new Mutex();
        var quitter = new Thread(() => abandoned.WaitOne()); // ends while owning it
        quitter.Start();
        quitter.Join();
        string after;
        try
        {
            abandoned.WaitOne();
            after = "acquired";
            abandoned.ReleaseMutex();
        }
        catch (AbandonedMutexException)
        {
            after = "AbandonedMutexException";
            abandoned.ReleaseMutex();
        }

        Observe($"wait on an abandoned mutex: {after}");
    }

    /// <summary>Semaphore(2, 2) across 6 threads; releasing past the maximum throws.</summary>
    private static void DiffSemaphore()
    {
        using var sem = new Semaphore(2, 2);
        int inside = 0, maxInside = 0;
        var threads = Enumerable.Range(0, 6).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < 4; i++)
            {
                sem.WaitOne();
                int now = Interlocked.Increment(ref inside);
                lock (sem) maxInside = Math.Max(maxInside, now);
                Thread.Sleep(3);
                Interlocked.Decrement(ref inside);
                sem.Release();
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe($"most inside at once {maxInside}");
        string over;
        try { sem.Release(); over = "no exception"; }
        catch (SemaphoreFullException) { over = "SemaphoreFullException"; }
        Observe($"release past the maximum: {over}");
    }

    /// <summary>Ping-pong between two threads with WaitHandle.SignalAndWait.</summary>
    private static void DiffSignalAndWait()
    {
        var ping = new AutoResetEvent(false);
        var pong = new AutoResetEvent(false);
        var log = new List<string>();
        var other = new Thread(() =>
        {
            for (int i = 0; i < 5; i++)
            {
                ping.WaitOne();
                lock (log) log.Add($"pong {i}");
                if (i < 4) WaitHandle.SignalAndWait(pong, ping, 5000, false);
                else pong.Set();
                if (i < 4) ping.Set(); // hand the turn back for the next WaitOne
            }
        });
        other.Start();
        for (int i = 0; i < 5; i++)
        {
            lock (log) log.Add($"ping {i}");
            ping.Set();
            pong.WaitOne();
        }

        other.Join();
        Observe(string.Join(",", log));
    }

    /// <summary>An HttpListener loop on one thread, a new Thread per request, 20 plain-thread HttpClient.Send clients.</summary>
    private static void DiffHttpListener()
    {
        int port = FreePort();

        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        const int Clients = 20;
        int served = 0;
        var server = new Thread(() =>
        {
            for (int i = 0; i < Clients; i++)
            {
                var context = listener.GetContext();
                new Thread(() =>
                {
                    byte[] body = System.Text.Encoding.UTF8.GetBytes("hello " + context.Request.Url!.AbsolutePath.TrimStart('/'));
                    context.Response.ContentLength64 = body.Length;
                    context.Response.OutputStream.Write(body);
                    context.Response.Close();
                    Interlocked.Increment(ref served);
                }).Start();
            }
        });
        server.Start();
        using var client = new HttpClient();
        int ok = 0;
        var clients = Enumerable.Range(0, Clients).Select(i => new Thread(() =>
        {
            using var response = client.Send(new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/{i}"));
            string text = new StreamReader(response.Content.ReadAsStream()).ReadToEnd();
            if (text == $"hello {i}") Interlocked.Increment(ref ok);
        })).ToList();
        clients.ForEach(t => t.Start());
        clients.ForEach(t => t.Join());
        server.Join();
        listener.Stop();
        Observe($"clients answered correctly: {ok}");
    }
}
