using System.Runtime.CompilerServices;
using System.Threading.Channels;

// Probe 3: async/await mixed with plain threads, tasks, process exit and unhandled exceptions, as a new user would
// write it. "diff-p3-*" run under RunDifferential (the "out:" lines must agree), "exit-p3-*" under RunExit (exit code,
// stdout and the "Unhandled exception." line must agree). No sleep is a synchronisation: every line is deterministic.
internal static partial class Scenarios
{
    /// <summary>Dispatches the probe-3 scenarios; false if <paramref name="name"/> is not one.</summary>
    private static bool RunProbe3(string name)
    {
        switch (name)
        {
            case "diff-p3-yield-delay-loops": DiffP3YieldDelayLoops(); return true;
            case "diff-p3-async-void-from-thread": DiffP3AsyncVoidFromThread(); return true;
            case "diff-p3-tcs-set-by-thread": DiffP3TcsSetByThread(); return true;
            case "diff-p3-whenall-whenany": DiffP3WhenAllWhenAny(); return true;
            case "diff-p3-waitall-waitany-async": DiffP3WaitAllWaitAnyAsync(); return true;
            case "diff-p3-parallel-foreachasync": DiffP3ParallelForEachAsync(); return true;
            case "diff-p3-semaphoreslim-async-lock": DiffP3SemaphoreSlimAsyncLock(); return true;
            case "diff-p3-channel": DiffP3Channel(); return true;
            case "diff-p3-async-enumerable": DiffP3AsyncEnumerable(); return true;
            case "diff-p3-periodic-timer": DiffP3PeriodicTimer(); return true;
            case "diff-p3-cancel-after": DiffP3CancelAfter(); return true;
            case "diff-p3-configureawait-false-monitor": DiffP3ConfigureAwaitFalseMonitor(); return true;
            case "diff-p3-sync-over-async-nested": DiffP3SyncOverAsyncNested(); return true;
            case "diff-p3-asynclocal-into-thread": DiffP3AsyncLocalIntoThread(); return true;
            case "diff-p3-unsafe-queue-work-item": DiffP3UnsafeQueueUserWorkItem(); return true;
            case "diff-p3-unobserved-task-exception": DiffP3UnobservedTaskException(); return true;
            case "diff-p3-long-running-task": DiffP3LongRunningTask(); return true;
            case "diff-p3-scheduler-current": DiffP3SchedulerCurrent(); return true;
            case "diff-p3-channel-sync-continuations": DiffP3ChannelSyncContinuations(); return true;
            case "diff-p3-finalizer-takes-lock": DiffP3FinalizerTakesLock(); return true;
            case "diff-p3-wait-with-token": DiffP3WaitWithToken(); return true;
            case "diff-p3-register-callback-context": DiffP3RegisterCallbackContext(); return true;
            case "diff-p3-culture-and-suppressflow": DiffP3CultureAndSuppressFlow(); return true;
            case "diff-p3-many-concurrent-awaits": DiffP3ManyConcurrentAwaits(); return true;
            case "diff-p3-suppressed-flow-post-leak": DiffP3SuppressedFlowPostLeak(); return true;
            case "diff-p3-register-wait": DiffP3RegisterWait(); return true;
            case "diff-p3-first-chance-exceptions": DiffP3FirstChanceExceptions(); return true;
            case "diff-p3-async-pump": DiffP3AsyncPump(); return true;
            case "diff-p3-tcs-set-on-pool": DiffP3TcsSetOnPool(); return true;
            case "diff-p3-deep-recursion-after-await": DiffP3DeepRecursionAfterAwait(); return true;
            case "diff-p3-poll-for-completion": DiffP3PollForCompletion(); return true;
            case "diff-p3-worker-service": DiffP3WorkerService(); return true;
            default: return false;
        }
    }

    /// <summary>8 threads each run an async loop of Task.Yield and Task.Delay(1) awaits, blocking in Wait().</summary>
    private static void DiffP3YieldDelayLoops()
    {
        int steps = 0;
        async Task<int> Loop(int id)
        {
            int mine = 0;
            for (int i = 0; i < 25; i++)
            {
                if (i % 2 == 0) await Task.Yield();
                else await Task.Delay(1);
                mine++;
                Interlocked.Increment(ref steps);
            }
            return id * 1000 + mine;
        }

        var results = new int[8];
        var threads = Enumerable.Range(0, 8).Select(i => new Thread(() => results[i] = Loop(i).Result)).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe($"steps {steps}; results {string.Join(",", results)}");
    }

    /// <summary>An async void method started from a plain thread, which waits on an event the method sets at its end.</summary>
    private static void DiffP3AsyncVoidFromThread()
    {
        var log = new List<string>();
        using var done = new ManualResetEventSlim();
        async void Fire(int n)
        {
            for (int i = 0; i < n; i++)
            {
                await Task.Delay(1);
                lock (log) log.Add($"tick {i}");
            }
            done.Set();
        }

        var thread = new Thread(() =>
        {
            Fire(3);
            lock (log) log.Add("Fire returned at its first await");
            done.Wait();
        });
        thread.Start();
        thread.Join();
        Observe(string.Join(", ", log));
    }

    /// <summary>
    /// A TaskCompletionSource completed by another plain thread while a thread awaits it: with inline continuations the
    /// continuation runs inside SetResult (unpatched: on the setter thread; patched: the setter is green and so is the
    /// captured context), with RunContinuationsAsynchronously SetResult returns first.
    /// </summary>
    private static void DiffP3TcsSetByThread()
    {
        foreach (var options in new[] { TaskCreationOptions.None, TaskCreationOptions.RunContinuationsAsynchronously })
        {
            var tcs = new TaskCompletionSource<int>(options);
            var log = new List<string>();
            using var registered = new ManualResetEventSlim();
            async Task Awaiter()
            {
                int v = await tcs.Task;
                lock (log) log.Add($"continuation got {v}");
            }

            // Awaiter() returns to its caller only once its await has registered the continuation: then the setter may run.
            var waiter = new Thread(() =>
            {
                var running = Awaiter();
                registered.Set();
                running.Wait();
            });
            waiter.Start();
            var setter = new Thread(() =>
            {
                registered.Wait();
                tcs.SetResult(42);
                lock (log) log.Add("SetResult returned");
            });
            setter.Start();
            setter.Join();
            waiter.Join();
            lock (log)
            {
                var sorted = options == TaskCreationOptions.None ? log : log.Order().ToList(); // async: either order
                Observe($"{options}: {string.Join(", ", sorted)}");
            }
        }
    }

    /// <summary>Task.WhenAll / WhenAny of Task.Run work awaited on a plain thread, then .Wait()ed.</summary>
    private static void DiffP3WhenAllWhenAny()
    {
        async Task<string> Combine()
        {
            var work = Enumerable.Range(1, 5).Select(i => Task.Run(() => { Thread.Sleep(i); return i * i; })).ToArray();
            int[] all = await Task.WhenAll(work);
            var gate = new TaskCompletionSource<int>();
            var first = await Task.WhenAny(gate.Task, Task.Run(() => 99));
            string any = first == gate.Task ? "gate" : $"run {await first}";
            var faults = new[] { Task.Run(() => throw new InvalidOperationException("a")), Task.Run(() => throw new FormatException("b")) };
            string fault;
            try { await Task.WhenAll(faults); fault = "none"; }
            catch (Exception e) // which of the two is thrown depends on which task faulted first, in plain .NET too
            {
                var inner = Task.WhenAll(faults).Exception!.InnerExceptions.Select(x => x.GetType().Name).Order();
                fault = $"{(e is InvalidOperationException or FormatException ? "one of them" : e.GetType().Name)}, inner {string.Join("+", inner)}";
            }
            return $"all {string.Join(",", all)}; any {any}; fault {fault}";
        }

        string result = "";
        var thread = new Thread(() =>
        {
            var t = Combine();
            t.Wait();
            result = t.Result;
        });
        thread.Start();
        thread.Join();
        Observe(result);
    }

    /// <summary>Task.WaitAll / WaitAny from a plain thread on async methods whose continuations need the hub.</summary>
    private static void DiffP3WaitAllWaitAnyAsync()
    {
        async Task<int> After(int ms, int v)
        {
            await Task.Delay(ms);
            await Task.Yield();
            return v;
        }

        int any = -1, sum = 0;
        bool timedOut = true;
        var thread = new Thread(() =>
        {
            var tasks = new[] { After(5, 1), After(10, 2), After(15, 3) };
            Task.WaitAll(tasks);
            sum = tasks.Sum(t => t.Result);
            var never = new TaskCompletionSource<int>().Task;
            any = Task.WaitAny(never, After(5, 4));
            timedOut = Task.WaitAny([never], 30) == -1;
        });
        thread.Start();
        thread.Join();
        Observe($"WaitAll sum {sum}; WaitAny index {any}; WaitAny timed out {timedOut}");
    }

    /// <summary>Parallel.ForEachAsync from a plain thread, with awaits in the body and a degree of parallelism of 3.</summary>
    private static void DiffP3ParallelForEachAsync()
    {
        long sum = 0;
        int inside = 0, maxInside = 0;
        var thread = new Thread(() =>
        {
            Parallel.ForEachAsync(Enumerable.Range(1, 30), new ParallelOptions { MaxDegreeOfParallelism = 3 }, async (i, ct) =>
            {
                int now = Interlocked.Increment(ref inside);
                lock (s_observed) maxInside = Math.Max(maxInside, now);
                await Task.Delay(1, ct);
                Interlocked.Add(ref sum, i);
                Interlocked.Decrement(ref inside);
            }).Wait();
        });
        thread.Start();
        thread.Join();
        Observe($"sum {sum}; at most 3 at once {maxInside <= 3}");
    }

    /// <summary>SemaphoreSlim(1) as an async lock shared by 6 threads, each awaiting inside the critical section.</summary>
    private static void DiffP3SemaphoreSlimAsyncLock()
    {
        using var gate = new SemaphoreSlim(1, 1);
        int inside = 0, overlaps = 0, entries = 0;
        async Task Work()
        {
            for (int i = 0; i < 10; i++)
            {
                await gate.WaitAsync();
                try
                {
                    if (Interlocked.Increment(ref inside) > 1) Interlocked.Increment(ref overlaps);
                    await Task.Delay(1);
                    entries++;
                    Interlocked.Decrement(ref inside);
                }
                finally
                {
                    gate.Release();
                }
            }
        }

        var threads = Enumerable.Range(0, 6).Select(_ => new Thread(() => Work().GetAwaiter().GetResult())).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        bool timedOut = !gate.WaitAsync(0).Result; // free now: taken at once
        Observe($"entries {entries}, overlaps {overlaps}, WaitAsync(0) on a free gate timed out {timedOut}");
        gate.Release();
    }

    /// <summary>A bounded Channel: a writer thread, an async reader awaited by another thread, completion ends the read loop.</summary>
    private static void DiffP3Channel()
    {
        var channel = Channel.CreateBounded<int>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
        var writer = new Thread(() =>
        {
            for (int i = 1; i <= 50; i++)
            {
                if (!channel.Writer.TryWrite(i)) channel.Writer.WriteAsync(i).AsTask().Wait(); // blocks while full
            }
            channel.Writer.Complete();
        });
        async Task<(int Count, long Sum, bool Ordered)> ReadAll()
        {
            int count = 0, last = 0;
            long sum = 0;
            bool ordered = true;
            await foreach (int v in channel.Reader.ReadAllAsync())
            {
                ordered &= v == last + 1;
                last = v;
                count++;
                sum += v;
            }
            return (count, sum, ordered);
        }

        (int, long, bool) got = default;
        var reader = new Thread(() => got = ReadAll().Result);
        reader.Start();
        writer.Start();
        writer.Join();
        reader.Join();
        Observe($"read (count, sum, in order) {got}; completion done {channel.Reader.Completion.IsCompleted}");
    }

    /// <summary>An async iterator with awaits, consumed with await foreach (and a break that disposes it) from a thread.</summary>
    private static void DiffP3AsyncEnumerable()
    {
        var log = new List<string>();
        async IAsyncEnumerable<int> Numbers([EnumeratorCancellation] CancellationToken ct = default)
        {
            try
            {
                for (int i = 0; i < 10; i++)
                {
                    await Task.Delay(1, ct);
                    yield return i;
                    await Task.Yield();
                }
            }
            finally
            {
                lock (log) log.Add("iterator finally");
            }
        }

        async Task Consume()
        {
            int total = 0;
            await foreach (int n in Numbers()) total += n;
            lock (log) log.Add($"total {total}");
            await foreach (int n in Numbers())
            {
                if (n == 3) break;
            }
            lock (log) log.Add("broke at 3");
            using var cts = new CancellationTokenSource();
            try
            {
                await foreach (int n in Numbers().WithCancellation(cts.Token))
                {
                    if (n == 2) cts.Cancel();
                }
            }
            catch (OperationCanceledException e)
            {
                lock (log) log.Add($"cancelled: {e.GetType().Name}, token matches {e.CancellationToken == cts.Token}");
            }
        }

        var thread = new Thread(() => Consume().Wait());
        thread.Start();
        thread.Join();
        Observe(string.Join("; ", log));
    }

    /// <summary>A PeriodicTimer awaited 5 times from a thread, then disposed: the pending wait returns false.</summary>
    private static void DiffP3PeriodicTimer()
    {
        string result = "";
        var thread = new Thread(() =>
        {
            async Task<string> Run()
            {
                using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(2));
                int ticks = 0;
                while (ticks < 5 && await timer.WaitForNextTickAsync()) ticks++;
                var pending = timer.WaitForNextTickAsync();
                timer.Dispose();
                bool afterDispose = await pending;
                return $"ticks {ticks}; wait pending at Dispose returned {afterDispose}";
            }

            result = Run().GetAwaiter().GetResult();
        });
        thread.Start();
        thread.Join();
        Observe(result);
    }

    /// <summary>CancelAfter cancelling an awaited Task.Delay, and a linked token: the exception's shape.</summary>
    private static void DiffP3CancelAfter()
    {
        var lines = new List<string>();
        async Task Run()
        {
            using var cts = new CancellationTokenSource();
            cts.CancelAfter(20);
            try
            {
                await Task.Delay(Timeout.Infinite, cts.Token);
            }
            catch (OperationCanceledException e)
            {
                lines.Add($"{e.GetType().Name}; token matches {e.CancellationToken == cts.Token}; IsCancellationRequested {cts.IsCancellationRequested}");
            }
            using var outer = new CancellationTokenSource();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(outer.Token);
            var delay = Task.Delay(Timeout.Infinite, linked.Token);
            outer.CancelAfter(10);
            try { await delay; }
            catch (TaskCanceledException) { lines.Add($"linked: status {delay.Status}"); }
            var t = Task.Run(() => { Thread.Sleep(5); return 1; }, new CancellationToken(true));
            try { await t; }
            catch (TaskCanceledException e) { lines.Add($"pre-cancelled Task.Run: {t.Status}, task matches {e.Task == t}"); }
            try { t.Wait(); }
            catch (AggregateException e) { lines.Add($"Wait: {e.InnerException!.GetType().Name}"); }
        }

        var thread = new Thread(() => Run().Wait());
        thread.Start();
        thread.Join();
        foreach (var l in lines) Observe(l);
    }

    /// <summary>
    /// After ConfigureAwait(false) the continuation takes a lock and Monitor.Wait()s on the pool, while a plain thread
    /// (green, patched) produces under the same lock and pulses: a lock shared by a pool thread and green threads.
    /// </summary>
    private static void DiffP3ConfigureAwaitFalseMonitor()
    {
        var gate = new object();
        var items = new Queue<int>();
        bool finished = false;
        async Task<long> Consume()
        {
            await Task.Delay(1).ConfigureAwait(false);
            bool pool = Thread.CurrentThread.IsThreadPoolThread;
            long sum = 0;
            while (true)
            {
                lock (gate)
                {
                    while (items.Count == 0 && !finished) Monitor.Wait(gate);
                    if (items.Count == 0) break;
                    sum += items.Dequeue();
                    Monitor.PulseAll(gate);
                }
            }
            return pool ? sum : -sum;
        }

        long got = 0;
        var consumer = new Thread(() => got = Consume().Result);
        consumer.Start();
        var producer = new Thread(() =>
        {
            for (int i = 1; i <= 100; i++)
            {
                lock (gate)
                {
                    while (items.Count >= 3) Monitor.Wait(gate);
                    items.Enqueue(i);
                    Monitor.PulseAll(gate);
                }
            }
            lock (gate)
            {
                finished = true;
                Monitor.PulseAll(gate);
            }
        });
        producer.Start();
        producer.Join();
        consumer.Join();
        Observe($"consumed on the pool, sum {got}");
    }

    /// <summary>Sync-over-async three deep: each level blocks in GetAwaiter().GetResult() on an async method that awaits.</summary>
    private static void DiffP3SyncOverAsyncNested()
    {
        async Task<int> Level(int depth)
        {
            await Task.Yield();
            if (depth == 0)
            {
                await Task.Delay(2);
                return 1;
            }
            int below = Level(depth - 1).GetAwaiter().GetResult(); // sync over async, inside async
            await Task.Delay(1);
            return below + 1;
        }

        int fromMain = Level(3).GetAwaiter().GetResult();
        int fromThread = 0;
        var thread = new Thread(() => fromThread = Level(3).GetAwaiter().GetResult());
        thread.Start();
        thread.Join();
        int fromPool = Task.Run(() => Level(3).GetAwaiter().GetResult()).Result;
        Observe($"main {fromMain}, thread {fromThread}, pool {fromPool}");
    }

    /// <summary>AsyncLocal flows into a new Thread (ExecutionContext captured at Start), not back out; UnsafeStart does not flow.</summary>
    private static void DiffP3AsyncLocalIntoThread()
    {
        var local = new AsyncLocal<string>();
        async Task Body()
        {
            local.Value = "set before await";
            await Task.Delay(1);
            string? inThread = null, afterChild = null, inUnsafe = null;
            var child = new Thread(() =>
            {
                inThread = local.Value;
                local.Value = "changed in child";
            });
            child.Start();
            child.Join();
            afterChild = local.Value;
            var unflowed = new Thread(() => inUnsafe = local.Value ?? "null");
            unflowed.UnsafeStart();
            unflowed.Join();
            Observe($"in child {inThread}; after child {afterChild}; UnsafeStart child {inUnsafe}");
        }

        var thread = new Thread(() => Body().Wait());
        thread.Start();
        thread.Join();
    }

    /// <summary>ThreadPool.UnsafeQueueUserWorkItem and QueueUserWorkItem from a green thread: pool thread, flow or not.</summary>
    private static void DiffP3UnsafeQueueUserWorkItem()
    {
        var local = new AsyncLocal<int>();
        var thread = new Thread(() =>
        {
            local.Value = 7;
            using var done = new CountdownEvent(2);
            string safe = "", unsafeSeen = "";
            ThreadPool.QueueUserWorkItem(_ => { safe = $"pool {Thread.CurrentThread.IsThreadPoolThread}, local {local.Value}, context {SynchronizationContext.Current?.GetType().Name ?? "none"}"; done.Signal(); });
            ThreadPool.UnsafeQueueUserWorkItem(_ => { unsafeSeen = $"pool {Thread.CurrentThread.IsThreadPoolThread}, local {local.Value}"; done.Signal(); }, null);
            done.Wait();
            Observe($"QueueUserWorkItem: {safe}");
            Observe($"UnsafeQueueUserWorkItem: {unsafeSeen}");
        });
        thread.Start();
        thread.Join();
    }

    /// <summary>An unobserved faulted task raises TaskScheduler.UnobservedTaskException after GC; observed ones do not.</summary>
    private static void DiffP3UnobservedTaskException()
    {
        int raised = 0;
        string? message = null;
        EventHandler<UnobservedTaskExceptionEventArgs> handler = (_, e) =>
        {
            Interlocked.Increment(ref raised);
            message = e.Exception.InnerException?.Message;
            e.SetObserved();
        };
        TaskScheduler.UnobservedTaskException += handler;
        try
        {
            var thread = new Thread(() =>
            {
                [MethodImpl(MethodImplOptions.NoInlining)]
                static void Abandon()
                {
                    async Task Fail()
                    {
                        await Task.Yield();
                        throw new InvalidOperationException("nobody looked");
                    }

                    var t = Fail();
                    ((IAsyncResult)t).AsyncWaitHandle.WaitOne(); // completed, never observed
                    var observed = Fail();
                    try { observed.Wait(); }
                    catch (AggregateException) { }
                }

                Abandon();
            });
            thread.Start();
            thread.Join();
            for (int i = 0; i < 5 && Volatile.Read(ref raised) == 0; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            Observe($"UnobservedTaskException raised {raised} time(s): {message}");
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= handler;
        }
    }

    /// <summary>Task.Factory.StartNew(LongRunning) from a plain thread: a dedicated background thread, awaited and waited.</summary>
    private static void DiffP3LongRunningTask()
    {
        string shape = "";
        int value = 0;
        var thread = new Thread(() =>
        {
            var t = Task.Factory.StartNew(() =>
            {
                shape = $"pool {Thread.CurrentThread.IsThreadPoolThread}, background {Thread.CurrentThread.IsBackground}";
                Thread.Sleep(5);
                return 5;
            }, TaskCreationOptions.LongRunning);
            async Task<int> Twice() => 2 * await t;
            value = Twice().Result;
        });
        thread.Start();
        thread.Join();
        Observe($"long-running body: {shape}; awaited twice {value}");
    }

    /// <summary>
    /// What user code sees of the schedulers. TaskScheduler.Current is the default one, inside and outside an await,
    /// patched or not. SynchronizationContext.Current differs by design (patched, a green thread carries the green
    /// context, README "await stays green"), so only whether a Task.Run body and a ConfigureAwait(false) continuation see
    /// none is compared here.
    /// </summary>
    private static void DiffP3SchedulerCurrent()
    {
        var thread = new Thread(() =>
        {
            async Task Body()
            {
                Observe($"TaskScheduler.Current is Default on a thread: {TaskScheduler.Current == TaskScheduler.Default}");
                await Task.Delay(1);
                Observe($"after an await: {TaskScheduler.Current == TaskScheduler.Default}");
                Observe($"context in Task.Run: {await Task.Run(() => SynchronizationContext.Current?.GetType().Name ?? "none")}");
                await Task.Delay(1).ConfigureAwait(false);
                Observe($"context after ConfigureAwait(false): {SynchronizationContext.Current?.GetType().Name ?? "none"}");
            }

            Body().Wait();
        });
        thread.Start();
        thread.Join();
    }
    /// <summary>Runs a probe-3 exit scenario; null if <paramref name="name"/> is not one.</summary>
    private static int? RunProbe3Exit(string name)
    {
        switch (name)
        {
            case "exit-p3-environment-exit-from-pool":
                Task.Run(() =>
                {
                    Console.WriteLine("pool thread calls Environment.Exit(6)");
                    Environment.Exit(6);
                });
                new ManualResetEvent(false).WaitOne(); // never set: the exit ends the wait
                Console.WriteLine("not reached");
                return 1;
            case "exit-p3-environment-exit-from-continuation":
                async Task ExitAfterAwait()
                {
                    await Task.Delay(5);
                    Console.WriteLine("continuation calls Environment.Exit(8)");
                    Environment.Exit(8);
                }

                ExitAfterAwait().Wait();
                Console.WriteLine("not reached");
                return 1;
            case "exit-p3-async-void-throws-on-thread":
                AppDomain.CurrentDomain.UnhandledException += (_, e) => Console.WriteLine("unhandled: " + ((Exception)e.ExceptionObject).Message);
                async void ThrowAfterAwait()
                {
                    await Task.Delay(5);
                    throw new InvalidOperationException("boom after an await in async void");
                }

                new Thread(() =>
                {
                    ThrowAfterAwait();
                    new ManualResetEvent(false).WaitOne(); // the crash ends it
                }).Start();
                return 1;
            case "exit-p3-async-void-throws-before-await":
                AppDomain.CurrentDomain.UnhandledException += (_, e) => Console.WriteLine("unhandled: " + ((Exception)e.ExceptionObject).Message);
                async void ThrowAtOnce(bool now)
                {
                    if (now) throw new FormatException("boom before any await in async void");
                    await Task.Yield();
                }

                var starter = new Thread(() =>
                {
                    ThrowAtOnce(true); // returns to here; the exception is raised on the pool, racing this thread (in both runs)
                    new ManualResetEvent(false).WaitOne();
                });
                starter.Start();
                return 1;
            case "exit-p3-exit-code-set-by-thread-after-main":
                new Thread(() =>
                {
                    Thread.Sleep(200); // after Main's return 3
                    Environment.ExitCode = 9;
                    Console.WriteLine("thread set Environment.ExitCode = 9");
                }).Start();
                Console.WriteLine("main returns 3");
                return 3;
            case "exit-p3-processexit-joins-thread":
                {
                    var stop = new ManualResetEvent(false);
                    var gate = new object();
                    var worker = new Thread(() =>
                    {
                        stop.WaitOne();
                        lock (gate) Console.WriteLine("worker stopped");
                    })
                    { IsBackground = true };
                    worker.Start();
                    AppDomain.CurrentDomain.ProcessExit += (_, _) =>
                    {
                        lock (gate)
                        {
                            stop.Set();
                            Console.WriteLine("ProcessExit: stop signalled under the lock");
                        }
                        worker.Join();
                        Console.WriteLine("ProcessExit: worker joined");
                    };
                    Console.WriteLine("main returns 5");
                    return 5;
                }
            case "exit-p3-long-running-task-does-not-hold-exit":
                Task.Factory.StartNew(() => new ManualResetEvent(false).WaitOne(), TaskCreationOptions.LongRunning);
                Console.WriteLine("main returns 2");
                return 2;
            case "exit-p3-foreground-from-timer-callback":
                {
                    using var started = new ManualResetEventSlim();
                    using var timer = new Timer(_ =>
                    {
                        new Thread(() =>
                        {
                            Thread.Sleep(200);
                            Console.WriteLine("thread started by a timer callback: finished after Main");
                        }).Start();
                        started.Set();
                    }, null, 5, Timeout.Infinite);
                    started.Wait();
                    Console.WriteLine("main returns 0");
                    return 0;
                }
            case "exit-p3-foreground-blocked-in-await":
                async Task LateWork()
                {
                    await Task.Delay(200);
                    await Task.Yield();
                    Console.WriteLine("foreground thread's await finished after Main");
                }

                new Thread(() => LateWork().Wait()).Start();
                Console.WriteLine("main returns 0");
                return 0;
            case "exit-p3-unhandled-on-pool-work-item":
                ThreadPool.QueueUserWorkItem(_ => throw new ArgumentException("boom on a pool thread"));
                new ManualResetEvent(false).WaitOne();
                return 1;
            case "exit-p3-exit-with-green-threads-in-lock-and-await":
                {
                    var gate = new object();
                    var parked = new CountdownEvent(2);
                    Monitor.Enter(gate); // main holds it for good: the contender parks
                    new Thread(() => { parked.Signal(); lock (gate) Console.WriteLine("not reached"); }).Start();
                    new Thread(() => { parked.Signal(); new TaskCompletionSource().Task.Wait(); }).Start();
                    parked.Wait();
                    new Thread(() =>
                    {
                        Console.WriteLine("third thread calls Environment.Exit(4) while two threads block");
                        Environment.Exit(4);
                    }).Start();
                    new ManualResetEvent(false).WaitOne();
                    return 1;
                }
            case "exit-p3-exit-code-set-in-processexit":
                AppDomain.CurrentDomain.ProcessExit += (_, _) =>
                {
                    Console.WriteLine("ProcessExit sets Environment.ExitCode = 11");
                    Environment.ExitCode = 11;
                };
                Console.WriteLine("main returns 3");
                return 3;
            case "exit-p3-environment-exit-from-pool-processexit-joins":
                {
                    var stop = new ManualResetEventSlim();
                    var worker = new Thread(() =>
                    {
                        stop.Wait();
                        Console.WriteLine("worker saw the stop");
                    })
                    { IsBackground = true };
                    worker.Start();
                    AppDomain.CurrentDomain.ProcessExit += (_, _) =>
                    {
                        stop.Set();
                        worker.Join();
                        var late = new Thread(() => Console.WriteLine("thread started in ProcessExit ran"));
                        late.Start();
                        late.Join();
                        Console.WriteLine("ProcessExit done");
                    };
                    Task.Run(() => Environment.Exit(12));
                    new ManualResetEvent(false).WaitOne();
                    return 1;
                }
            case "exit-p3-failfast-in-continuation":
                async Task FailAfterAwait()
                {
                    await Task.Delay(5);
                    Console.WriteLine("continuation calls Environment.FailFast");
                    Console.Out.Flush();
                    Environment.FailFast("fail fast from a continuation");
                }

                FailAfterAwait().Wait();
                return 1;
            case "exit-p3-unhandled-handler-flushes-logger":
                {
                    var pending = new Queue<string>();
                    var gate = new object();
                    bool closing = false;
                    var logger = new Thread(() =>
                    {
                        lock (gate)
                        {
                            while (true)
                            {
                                while (pending.Count > 0) Console.WriteLine("log: " + pending.Dequeue());
                                if (closing) break;
                                Monitor.Wait(gate);
                            }
                        }
                    })
                    { IsBackground = true };
                    logger.Start();
                    AppDomain.CurrentDomain.UnhandledException += (_, e) =>
                    {
                        lock (gate)
                        {
                            pending.Enqueue("fatal: " + ((Exception)e.ExceptionObject).Message);
                            closing = true;
                            Monitor.PulseAll(gate);
                        }
                        logger.Join(); // Serilog's CloseAndFlush, in small
                        Console.WriteLine("handler: logger flushed");
                    };
                    lock (gate)
                    {
                        pending.Enqueue("starting");
                        Monitor.PulseAll(gate);
                    }
                    var worker = new Thread(() =>
                    {
                        async Task Fail()
                        {
                            await Task.Delay(5);
                            throw new InvalidOperationException("worker failed");
                        }

                        Fail().GetAwaiter().GetResult(); // rethrown here: unhandled on this thread
                    });
                    worker.Start();
                    worker.Join();
                    return 1;
                }
            case "exit-p3-sigterm-graceful-shutdown":
                {
                    using var stopping = new CancellationTokenSource();
                    using var registration = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
                    {
                        context.Cancel = true; // we shut down ourselves
                        Console.WriteLine("SIGTERM: stopping");
                        stopping.Cancel();
                    });
                    async Task<int> Serve()
                    {
                        var worker = new Thread(() =>
                        {
                            stopping.Token.WaitHandle.WaitOne();
                            Console.WriteLine("worker thread stopped");
                        });
                        worker.Start();
                        _ = Task.Run(() => Kill(Environment.ProcessId, 15));
                        try { await Task.Delay(Timeout.Infinite, stopping.Token); }
                        catch (OperationCanceledException) { Console.WriteLine("serve loop cancelled"); }
                        worker.Join();
                        return 0;
                    }

                    int code = Serve().GetAwaiter().GetResult();
                    Console.WriteLine("main returns " + code);
                    return code;
                }
            case "exit-p3-sigterm-default":
                {
                    // SIGTERM with no handler of ours ends the process with 143; on .NET 10 this handler does not run in
                    // either run (measured), and a patched process must not add or lose a line.
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => Console.WriteLine("ProcessExit after SIGTERM");
                    async Task Wait()
                    {
                        _ = Task.Run(() => Kill(Environment.ProcessId, 15));
                        await Task.Delay(Timeout.Infinite);
                    }

                    new Thread(() => Wait().Wait()).Start();
                    new ManualResetEvent(false).WaitOne();
                    return 1;
                }
            case "exit-p3-unhandled-after-main-returned":
                new Thread(() =>
                {
                    Thread.Sleep(100); // after Main's return
                    Console.WriteLine("foreground thread throws after Main returned");
                    throw new InvalidOperationException("boom after Main");
                }).Start();
                Console.WriteLine("main returns 0");
                return 0;
            case "exit-p3-processexit-flushes-async":
                AppDomain.CurrentDomain.ProcessExit += (_, _) => FlushAsync("ProcessExit").GetAwaiter().GetResult();
                Console.WriteLine("main returns 6");
                return 6;
            case "exit-p3-unhandled-handler-flushes-async":
                AppDomain.CurrentDomain.UnhandledException += (_, e) => FlushAsync("UnhandledException").Wait();
                var failing = new Thread(() => throw new InvalidOperationException("boom before an async flush"));
                failing.Start();
                failing.Join();
                return 1;
            case "exit-p3-async-void-fault-handler-flushes-async":
                AppDomain.CurrentDomain.UnhandledException += (_, e) => FlushAsync("UnhandledException (async void)").Wait();
                async void FaultLater()
                {
                    await Task.Delay(5);
                    throw new InvalidOperationException("boom in async void before an async flush");
                }

                new Thread(() =>
                {
                    FaultLater();
                    new ManualResetEvent(false).WaitOne();
                }).Start();
                return 1;
            case "exit-p3-processexit-handler-throws":
                AppDomain.CurrentDomain.ProcessExit += (_, _) =>
                {
                    Console.WriteLine("ProcessExit handler throws");
                    throw new InvalidOperationException("boom in ProcessExit");
                };
                Console.WriteLine("main returns 0");
                return 0;
            default:
                return null;
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    /// <summary>
    /// A Channel with AllowSynchronousContinuations: a plain thread awaits ReadAsync, another writes. Plain .NET runs the
    /// reader's continuation inside TryWrite (no context: inline); patched, it runs inline too (the reader's captured
    /// context is the green one, the writer's current one).
    /// </summary>
    private static void DiffP3ChannelSyncContinuations()
    {
        var channel = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { AllowSynchronousContinuations = true });
        var log = new List<string>();
        using var registered = new ManualResetEventSlim();
        async Task Read()
        {
            int v = await channel.Reader.ReadAsync();
            lock (log) log.Add($"read {v}");
        }

        var reader = new Thread(() =>
        {
            var t = Read();
            registered.Set();
            t.Wait();
        });
        reader.Start();
        var writer = new Thread(() =>
        {
            registered.Wait();
            channel.Writer.TryWrite(1);
            lock (log) log.Add("TryWrite returned");
        });
        writer.Start();
        writer.Join();
        reader.Join();
        Observe(string.Join(", ", log));
    }

    private sealed class Finalizable(object gate, List<string> log)
    {
        ~Finalizable()
        {
            lock (gate) log.Add("finalizer ran under the lock");
        }
    }

    /// <summary>GC.WaitForPendingFinalizers on a thread while a finalizer needs a lock another (sleeping) thread holds.</summary>
    private static void DiffP3FinalizerTakesLock()
    {
        var gate = new object();
        var log = new List<string>();
        using var holding = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            lock (gate)
            {
                holding.Set();
                Thread.Sleep(50);
                log.Add("holder releases");
            }
        });
        holder.Start();
        holding.Wait();
        [MethodImpl(MethodImplOptions.NoInlining)]
        static void Drop(object gate, List<string> log) => _ = new Finalizable(gate, log);
        var collector = new Thread(() =>
        {
            Drop(gate, log);
            // Some computing first (no green call, on the CPU): the hub's watchdog samples this thread's run before the
            // collection, as it would under load. Patched, WaitForPendingFinalizers then blocks natively with the baton
            // until the watchdog takes it back (the holder must run to release the lock the finalizer needs): a GC
            // during this thread's run must not excuse the native wait after it.
            var spin = System.Diagnostics.Stopwatch.StartNew();
            while (spin.ElapsedMilliseconds < 30) { }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            lock (gate) log.Add("finalizers done");
        });
        collector.Start();
        collector.Join();
        holder.Join();
        Observe(string.Join(", ", log));
    }

    /// <summary>Waits with a token CancelAfter cancels, from a plain thread: Task.Wait, MRES, SemaphoreSlim, the token's WaitHandle.</summary>
    private static void DiffP3WaitWithToken()
    {
        var thread = new Thread(() =>
        {
            string Try(string what, Action<CancellationToken> wait)
            {
                using var cts = new CancellationTokenSource();
                cts.CancelAfter(10);
                try
                {
                    wait(cts.Token);
                    return $"{what}: returned";
                }
                catch (OperationCanceledException e)
                {
                    return $"{what}: {e.GetType().Name}, token matches {e.CancellationToken == cts.Token}";
                }
            }

            Observe(Try("Task.Wait(ct)", ct => new TaskCompletionSource().Task.Wait(ct)));
            Observe(Try("ManualResetEventSlim.Wait(ct)", ct => new ManualResetEventSlim().Wait(ct)));
            Observe(Try("SemaphoreSlim.Wait(ct)", ct => new SemaphoreSlim(0).Wait(ct)));
            Observe(Try("token.WaitHandle.WaitOne()", ct => Observe($"WaitHandle signalled: {ct.WaitHandle.WaitOne()}")));
            Observe(Try("Task.WaitAny(ct)", ct => Task.WaitAny([new TaskCompletionSource().Task], ct)));
            Observe(Try("BlockingCollection.Take(ct)", ct => new System.Collections.Concurrent.BlockingCollection<int>().Take(ct)));
        });
        thread.Start();
        thread.Join();
    }

    /// <summary>
    /// Token.Register with useSynchronizationContext: true on one thread, Cancel() on another: the callback has run when
    /// Cancel returns (plain: inline, no context; patched: the green context's Send runs it inline), and its exception
    /// comes out of Cancel as an AggregateException.
    /// </summary>
    private static void DiffP3RegisterCallbackContext()
    {
        using var cts = new CancellationTokenSource();
        var log = new List<string>();
        using var registeredEvent = new ManualResetEventSlim();
        var registrar = new Thread(() =>
        {
            cts.Token.Register(() => { lock (log) log.Add("callback ran"); }, useSynchronizationContext: true);
            cts.Token.Register(() => throw new FormatException("from a callback"), useSynchronizationContext: true);
            registeredEvent.Set();
        });
        registrar.Start();
        registeredEvent.Wait();
        var canceller = new Thread(() =>
        {
            try { cts.Cancel(); }
            catch (AggregateException e) { lock (log) log.Add($"Cancel threw {e.InnerException!.GetType().Name}"); }
            lock (log) log.Add("Cancel returned");
        });
        canceller.Start();
        canceller.Join();
        registrar.Join();
        Observe(string.Join(", ", log));
    }

    /// <summary>CurrentCulture set on a thread flows into continuations; a thread started with flow suppressed sees no AsyncLocal.</summary>
    private static void DiffP3CultureAndSuppressFlow()
    {
        var local = new AsyncLocal<string>();
        var thread = new Thread(() =>
        {
            System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.InvariantCulture;
            local.Value = "flows";
            async Task Body()
            {
                await Task.Delay(1);
                Observe($"culture after await: '{System.Globalization.CultureInfo.CurrentCulture.Name}'");
                await Task.Delay(1).ConfigureAwait(false);
                Observe($"culture after ConfigureAwait(false): '{System.Globalization.CultureInfo.CurrentCulture.Name}'");
            }

            Body().Wait();
            string? seen = "unset";
            Thread child;
            using (ExecutionContext.SuppressFlow()) child = new Thread(() => seen = local.Value ?? "null");
            using (ExecutionContext.SuppressFlow()) child.Start();
            child.Join();
            Observe($"thread started with flow suppressed: {seen}");
            Observe($"back on the thread: {local.Value}");
        });
        thread.Start();
        thread.Join();
    }

    /// <summary>
    /// Many async operations in flight at once, started from one plain thread, awaited with Task.WhenAll: each
    /// continuation after the Task.Delay is a green thread of its own when patched (500 here: 0.4 s patched, 0.1 s plain).
    /// </summary>
    /// <remarks>
    /// Past the OS-thread ceiling (P3_N=20000; ~15,200 threads here, vm.max_map_count; too slow for DifferentialTests, run
    /// it by hand): every pending posted continuation binds an OS thread at once (GreenSynchronizationContext.Post →
    /// Hub.SpawnFromAnyThread → Start → CreateWorker). Before the context kept the callbacks past the ceiling, with
    /// Task.Delay (posts from the timer's thread) they were dropped, logged only, and WhenAll never completed — a hang;
    /// with P3_YIELD=1 (posts from the green thread) GreenThreadLimitException escaped AwaitUnsafeOnCompleted — a crash.
    /// Now both complete, in ~16 s against plain .NET's 0.1 s (thread creation and GC over 15,000 stacks): a bounded,
    /// elastic set of green threads draining the posts would close that gap (see the probe-3 report).
    /// </remarks>
    private static void DiffP3ManyConcurrentAwaits()
    {
        int n = int.TryParse(Environment.GetEnvironmentVariable("P3_N"), out int v) ? v : 2000;
        long sum = 0;
        bool yield = Environment.GetEnvironmentVariable("P3_YIELD") == "1";
        async Task One(int i)
        {
            if (yield) await Task.Yield();
            else await Task.Delay(20);
            Interlocked.Add(ref sum, i);
        }

        var thread = new Thread(() => Task.WhenAll(Enumerable.Range(0, n).Select(One)).Wait());
        thread.Start();
        thread.Join();
        Observe($"{n} awaits, sum {sum}");
    }

    /// <summary>
    /// Callbacks posted to the thread's context with flow suppressed run in a clean ExecutionContext: an AsyncLocal set by
    /// one does not show in the next (plain: each pool work item starts with the default context).
    /// </summary>
    private static void DiffP3SuppressedFlowPostLeak()
    {
        var local = new AsyncLocal<string>();
        var thread = new Thread(() =>
        {
            var context = SynchronizationContext.Current ?? new SynchronizationContext();
            var seen = new List<string>();
            using var done = new CountdownEvent(20);
            for (int i = 0; i < 10; i++)
            {
                int n = i;
                using (ExecutionContext.SuppressFlow())
                {
                    context.Post(_ => { local.Value = "set by callback " + n; done.Signal(); }, null);
                    context.Post(_ => { lock (seen) seen.Add(local.Value ?? "null"); done.Signal(); }, null);
                }
            }
            done.Wait();
            Observe($"values seen by the later callbacks: {string.Join(",", seen.Distinct())}");
        });
        thread.Start();
        thread.Join();
    }

    /// <summary>ThreadPool.RegisterWaitForSingleObject on events a plain thread sets, and one that times out.</summary>
    private static void DiffP3RegisterWait()
    {
        var thread = new Thread(() =>
        {
            using var ev = new AutoResetEvent(false);
            using var fired = new CountdownEvent(3);
            var results = new List<bool>();
            var handle = ThreadPool.RegisterWaitForSingleObject(ev, (_, timedOut) => { lock (results) results.Add(timedOut); fired.Signal(); }, null, Timeout.Infinite, executeOnlyOnce: false);
            for (int i = 0; i < 3; i++)
            {
                ev.Set();
                while (fired.CurrentCount > 2 - i) Thread.Sleep(1); // one callback a Set (auto-reset)
            }
            fired.Wait();
            handle.Unregister(null);
            using var never = new ManualResetEvent(false);
            using var timedOutOnce = new ManualResetEventSlim();
            bool sawTimeout = false;
            var h2 = ThreadPool.RegisterWaitForSingleObject(never, (_, t) => { sawTimeout = t; timedOutOnce.Set(); }, null, 20, executeOnlyOnce: true);
            timedOutOnce.Wait();
            h2.Unregister(null);
            Observe($"callbacks timedOut flags: {string.Join(",", results)}; timeout callback timedOut {sawTimeout}");
        });
        thread.Start();
        thread.Join();
    }

    /// <summary>
    /// A FirstChanceException handler counting every exception thrown while ordinary thread and async code runs, which
    /// itself throws exactly two (caught): the runtime's (and a patch's) own exceptions must not show up extra.
    /// </summary>
    private static void DiffP3FirstChanceExceptions()
    {
        var seen = new List<string>();
        bool counting = true;
        EventHandler<System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs> handler = (_, e) =>
        {
            if (Volatile.Read(ref counting)) lock (seen) seen.Add(e.Exception.GetType().Name);
        };
        AppDomain.CurrentDomain.FirstChanceException += handler;
        try
        {
            async Task<int> Work(int i)
            {
                await Task.Delay(1);
                await Task.Yield();
                return i;
            }

            var gate = new object();
            int total = 0;
            var threads = Enumerable.Range(0, 4).Select(i => new Thread(() =>
            {
                for (int k = 0; k < 5; k++)
                {
                    int v = Work(k).Result;
                    lock (gate) total += v;
                    Thread.Sleep(1);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            try { throw new FormatException("mine"); }
            catch (FormatException) { }
            try { Task.Run(() => throw new ArgumentException("mine too")).Wait(); }
            catch (AggregateException) { }
            Volatile.Write(ref counting, false);
            lock (seen) Observe($"total {total}; first-chance exceptions: {string.Join(",", seen.Order())}");
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= handler;
        }
    }

    /// <summary>What a logger's async flush looks like: awaits (a timer, a yield, the pool), then writes a line.</summary>
    private static async Task FlushAsync(string who)
    {
        await Task.Delay(10);
        await Task.Yield();
        await Task.Run(() => Thread.Sleep(1));
        Console.WriteLine(who + ": flushed asynchronously");
    }

    /// <summary>Stephen Toub's AsyncPump: a user's single-threaded SynchronizationContext drained by a loop on the calling thread.</summary>
    private sealed class PumpContext : SynchronizationContext
    {
        private readonly System.Collections.Concurrent.BlockingCollection<(SendOrPostCallback, object?)> _queue = new();

        public override void Post(SendOrPostCallback d, object? state) => _queue.Add((d, state));

        public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException();

        public void Complete() => _queue.CompleteAdding();

        public void RunOnCurrentThread()
        {
            foreach (var (d, state) in _queue.GetConsumingEnumerable()) d(state);
        }

        public static T Run<T>(Func<Task<T>> body)
        {
            var previous = Current;
            var context = new PumpContext();
            SetSynchronizationContext(context);
            try
            {
                var task = body();
                task.ContinueWith(_ => context.Complete(), TaskScheduler.Default);
                context.RunOnCurrentThread();
                return task.GetAwaiter().GetResult();
            }
            finally
            {
                SetSynchronizationContext(previous);
            }
        }
    }

    /// <summary>
    /// AsyncPump.Run on plain threads: every continuation of the body runs on the pumping thread (the user's context, not
    /// the pool or another green thread), and the thread's own context is back afterwards.
    /// </summary>
    private static void DiffP3AsyncPump()
    {
        var results = new string[3];
        var threads = Enumerable.Range(0, 3).Select(i => new Thread(() =>
        {
            var before = SynchronizationContext.Current;
            int pumpThread = Environment.CurrentManagedThreadId;
            int offThread = 0;
            int sum = PumpContext.Run(async () =>
            {
                int acc = 0;
                for (int k = 0; k < 10; k++)
                {
                    await Task.Delay(1);
                    if (Environment.CurrentManagedThreadId != pumpThread) offThread++;
                    acc += await Task.Run(() => k);
                    if (Environment.CurrentManagedThreadId != pumpThread) offThread++;
                    await Task.Yield();
                    if (Environment.CurrentManagedThreadId != pumpThread) offThread++;
                }
                return acc;
            });
            results[i] = $"sum {sum}, continuations off the pump thread {offThread}, context restored {SynchronizationContext.Current == before}";
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        foreach (var r in results) Observe(r);
    }

    /// <summary>
    /// A TaskCompletionSource awaited on a plain thread and completed from a pool thread: plain .NET runs the continuation
    /// inline inside SetResult (the awaiting thread had no context), so the pool thread sees its effect right after.
    /// </summary>
    /// <remarks>
    /// Known divergence (probe 3, by design, not in DifferentialTests): patched, the await captured the green context and
    /// the pool thread is not green, so Task posts the continuation (SynchronizationContextAwaitTaskContinuation inlines
    /// only when the completer's context is the captured one): it runs later on the hub and the pool thread reads 0.
    /// Post cannot run it synchronously instead: it cannot tell this inline-able completion from one plain .NET would
    /// queue (RunContinuationsAsynchronously, SemaphoreSlim.WaitAsync), where blocking the completer could deadlock.
    /// </remarks>
    private static void DiffP3TcsSetOnPool()
    {
        var thread = new Thread(() =>
        {
            var tcs = new TaskCompletionSource<int>();
            int x = 0;
            async Task Continue()
            {
                x = await tcs.Task;
            }

            var t = Continue();
            int seen = Task.Run(() =>
            {
                tcs.SetResult(1);
                return Volatile.Read(ref x);
            }).Result;
            t.Wait();
            Observe($"after SetResult on the pool the continuation had run: {seen == 1}");
        });
        thread.Start();
        thread.Join();
    }

    /// <summary>Recursion 2,000 deep with a 256-byte frame: about 0.6 MB of stack (a .NET thread has 1.5 MB).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int RecurseWithFrame(int depth)
    {
        Span<byte> frame = stackalloc byte[256];
        frame[depth % 256] = (byte)depth;
        return depth == 0 ? 0 : RecurseWithFrame(depth - 1) + (frame[depth % 256] & 1);
    }

    /// <summary>
    /// Deep recursion where user code runs: on a plain thread, after an await on that thread, after ConfigureAwait(false),
    /// and how much stack RuntimeHelpers.TryEnsureSufficientExecutionStack reports left after an await.
    /// </summary>
    private static void DiffP3DeepRecursionAfterAwait()
    {
        int depth = int.TryParse(Environment.GetEnvironmentVariable("P3_DEPTH"), out int d) ? d : 2000;
        var thread = new Thread(() =>
        {
            async Task Body()
            {
                Observe($"on the thread: {RecurseWithFrame(depth)}");
                await Task.Delay(1);
                Observe($"after an await: {RecurseWithFrame(depth)}");
                Observe($"sufficient stack after an await: {RuntimeHelpers.TryEnsureSufficientExecutionStack()}");
                await Task.Delay(1).ConfigureAwait(false);
                Observe($"after ConfigureAwait(false): {RecurseWithFrame(depth)}");
            }

            Body().Wait();
        });
        thread.Start();
        thread.Join();
    }

    /// <summary>
    /// Polling a task for completion instead of waiting on it, with a yield in the loop: Thread.Sleep(0), Thread.Yield,
    /// SpinWait.SpinUntil and SpinWait.SpinOnce, on a plain thread whose async work needs its continuations to run.
    /// </summary>
    private static void DiffP3PollForCompletion()
    {
        async Task<int> Work(int v)
        {
            await Task.Delay(2);
            await Task.Yield();
            return v;
        }

        var thread = new Thread(() =>
        {
            var t1 = Work(1);
            while (!t1.IsCompleted) Thread.Sleep(0);
            var t2 = Work(2);
            while (!t2.IsCompleted) Thread.Yield();
            var t3 = Work(3);
            SpinWait.SpinUntil(() => t3.IsCompleted);
            var t4 = Work(4);
            var spinner = new SpinWait();
            while (!t4.IsCompleted) spinner.SpinOnce();
            var t5 = Work(5);
            SpinWait.SpinUntil(() => t5.IsCompleted, 5000);
            Observe($"polled results {t1.Result},{t2.Result},{t3.Result},{t4.Result},{t5.Result}");
        });
        thread.Start();
        thread.Join();
    }

    /// <summary>
    /// A small "worker service" as a console app writes it: a producer Thread feeding a BlockingCollection, two async
    /// consumer loops (one started with Task.Run, one on a plain thread) that await per item and stop on a token, a
    /// watchdog that cancels when everything is processed, Task.WhenAny against a timeout, and a shutdown that waits.
    /// </summary>
    private static void DiffP3WorkerService()
    {
        using var queue = new System.Collections.Concurrent.BlockingCollection<int>(boundedCapacity: 8);
        using var stopping = new CancellationTokenSource();
        int processed = 0;
        long sum = 0;
        var perConsumer = new int[2];
        var producer = new Thread(() =>
        {
            for (int i = 1; i <= 200; i++) queue.Add(i);
            queue.CompleteAdding();
        })
        { Name = "producer" };

        async Task Consume(int id, CancellationToken token)
        {
            try
            {
                while (!token.IsCancellationRequested)
                {
                    if (!queue.TryTake(out int item, 5, token))
                    {
                        if (queue.IsCompleted) break;
                        await Task.Yield();
                        continue;
                    }
                    await Task.Delay(0, token);
                    if (item % 10 == 0) await Task.Delay(1, token);
                    Interlocked.Add(ref sum, item);
                    Interlocked.Increment(ref perConsumer[id]);
                    if (Interlocked.Increment(ref processed) == 200) stopping.CancelAfter(5);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        producer.Start();
        var pooled = Task.Run(() => Consume(0, stopping.Token));
        Task? onThread = null;
        var consumerThread = new Thread(() =>
        {
            onThread = Consume(1, stopping.Token);
            onThread.Wait();
        });
        consumerThread.Start();
        producer.Join();
        consumerThread.Join();
        var finished = Task.WhenAny(pooled, Task.Delay(10_000)).Result;
        Observe($"processed {processed}, sum {sum}, by the two consumers {perConsumer.Sum()}");
        Observe($"pooled consumer finished before the timeout: {finished == pooled}; thread consumer status {onThread!.Status}");
    }
}
