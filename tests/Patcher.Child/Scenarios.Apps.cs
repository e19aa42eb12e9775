using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Differential scenarios shaped like the applications a new user would write (a Kestrel app, the Generic Host, a
// Channels pipeline, a Timer job scheduler, a thread-per-connection server calling async code synchronously, a
// connection pool, Parallel.ForEach over HTTP): "diff-app-*", dispatched from RunDifferential's default branch.
internal static partial class Scenarios
{
    private static bool RunApps(string name)
    {
        switch (name)
        {
            case "diff-app-kestrel": DiffAppKestrel(); return true;
            case "diff-app-generic-host": DiffAppGenericHost(); return true;
            case "diff-app-console-logger": DiffAppConsoleLogger(); return true;
            case "diff-app-channels-pipeline": DiffAppChannelsPipeline(); return true;
            case "diff-app-timer-jobs": DiffAppTimerJobs(); return true;
            case "diff-app-sync-over-async-server": DiffAppSyncOverAsyncServer(); return true;
            case "diff-app-connection-pool": DiffAppConnectionPool(); return true;
            case "diff-app-parallel-http": DiffAppParallelHttp(); return true;
            case "diff-app-parallel-http-starved": DiffAppParallelHttpStarved(); return true;
            case "diff-app-pool-blocked-tasks": DiffAppPoolBlockedTasks(); return true;
            case "diff-app-serilog-background-sink": DiffAppSerilogBackgroundSink(); return true;
            case "diff-app-kestrel-handlers-block": DiffAppKestrelHandlersBlock(); return true;
            case "diff-app-host-blocking-services": DiffAppHostBlockingServices(); return true;
            case "diff-app-kestrel-run-shutdown-endpoint": DiffAppKestrelRunShutdownEndpoint(); return true;
            case "diff-app-host-sigterm": DiffAppHostSigterm(); return true;
            default: return false;
        }
    }

    private static WebApplication StartKestrel(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        map(app);
        app.StartAsync().GetAwaiter().GetResult();
        return app;
    }

    private static string KestrelAddress(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>A minimal Kestrel app (a blocking endpoint with lock + Thread.Sleep, an async one, one reading the
    /// body) driven by HttpClient from 10 plain threads, then StopAsync.</summary>
    private static void DiffAppKestrel()
    {
        var gate = new object();
        int hits = 0;
        var app = StartKestrel(app =>
        {
            app.MapGet("/sync/{i:int}", (int i) =>
            {
                lock (gate)
                {
                    Thread.Sleep(1);
                    hits++;
                }

                return $"sync {i}";
            });
            app.MapGet("/async/{i:int}", async (int i) =>
            {
                await Task.Delay(1);
                await Task.Yield();
                return $"async {i}";
            });
            app.MapPost("/echo", async (HttpRequest req) =>
            {
                using var reader = new StreamReader(req.Body);
                string body = await reader.ReadToEndAsync();
                return $"echo {body.Length}";
            });
        });
        string baseUrl = KestrelAddress(app);
        using var http = new HttpClient();
        var results = new ConcurrentBag<string>();
        var threads = Enumerable.Range(0, 10).Select(i => new Thread(() =>
        {
            results.Add(http.GetStringAsync($"{baseUrl}/sync/{i}").Result);
            results.Add(http.GetStringAsync($"{baseUrl}/async/{i}").GetAwaiter().GetResult());
            var resp = http.PostAsync($"{baseUrl}/echo", new StringContent(new string('x', 1000 * (i + 1)))).Result;
            results.Add(resp.Content.ReadAsStringAsync().Result);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        app.StopAsync().GetAwaiter().GetResult();
        ((IDisposable)app).Dispose();
        Observe($"hits {hits}");
        foreach (var r in results.Order(StringComparer.Ordinal)) Observe(r);
    }

    private sealed class AppWorker(Channel<int> jobs, ConcurrentQueue<string> log) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            int sum = 0;
            try
            {
                await foreach (int j in jobs.Reader.ReadAllAsync(stoppingToken))
                {
                    sum += j;
                }
            }
            catch (OperationCanceledException)
            {
                log.Enqueue("worker cancelled");
            }

            log.Enqueue($"worker sum {sum}");
        }
    }

    private sealed class AppLifecycle(ConcurrentQueue<string> log, IHostApplicationLifetime lifetime) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            lifetime.ApplicationStarted.Register(() => log.Enqueue("started"));
            lifetime.ApplicationStopping.Register(() => log.Enqueue("stopping"));
            log.Enqueue("lifecycle start");
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            await Task.Delay(1, cancellationToken);
            lock (log)
            {
                Thread.Sleep(1);
            }

            log.Enqueue("lifecycle stop");
        }
    }

    /// <summary>The Generic Host with a BackgroundService reading a channel and an IHostedService; a plain thread feeds
    /// the channel, completes it and calls StopApplication; Main blocks in host.Run().</summary>
    private static void DiffAppGenericHost()
    {
        var log = new ConcurrentQueue<string>();
        var jobs = Channel.CreateBounded<int>(4);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(log);
        builder.Services.AddSingleton(jobs);
        builder.Services.AddHostedService<AppLifecycle>();
        builder.Services.AddHostedService<AppWorker>();
        using var host = builder.Build();
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var feeder = new Thread(() =>
        {
            lifetime.ApplicationStarted.WaitHandle.WaitOne();
            for (int i = 1; i <= 100; i++) jobs.Writer.WriteAsync(i).AsTask().Wait();
            jobs.Writer.Complete();
            // Wait until the worker has drained the channel before asking the host to stop.
            jobs.Reader.Completion.Wait();
            while (!log.Any(l => l.StartsWith("worker", StringComparison.Ordinal))) Thread.Sleep(1);
            lifetime.StopApplication();
        });
        feeder.Start();
        host.Run();
        feeder.Join();
        foreach (var l in log) Observe(l);
    }

    /// <summary>Microsoft.Extensions.Logging's console logger (its own background writer thread) from 20 threads,
    /// then the factory is disposed (flushes).</summary>
    private static void DiffAppConsoleLogger()
    {
        int count = 0;
        var factory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        var threads = Enumerable.Range(0, 20).Select(i => new Thread(() =>
        {
            var logger = factory.CreateLogger($"T{i}");
            for (int k = 0; k < 50; k++)
            {
                logger.LogInformation("log {Thread} {Line}", i, k);
                Interlocked.Increment(ref count);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        factory.Dispose();
        Observe($"logged {count}");
    }

    /// <summary>A Channels pipeline: 5 plain producer threads → bounded channel → 3 async workers (Task.Run) → an
    /// unbounded channel → a plain consumer thread reading synchronously.</summary>
    private static void DiffAppChannelsPipeline()
    {
        var stage1 = Channel.CreateBounded<int>(new BoundedChannelOptions(8) { FullMode = BoundedChannelFullMode.Wait });
        var stage2 = Channel.CreateUnbounded<int>();
        var producers = Enumerable.Range(0, 5).Select(p => new Thread(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                stage1.Writer.WriteAsync(p * 1000 + i).AsTask().GetAwaiter().GetResult();
            }
        })).ToList();
        var workers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            await foreach (int v in stage1.Reader.ReadAllAsync())
            {
                await stage2.Writer.WriteAsync(v * 2);
            }
        })).ToArray();
        long sum = 0;
        int n = 0;
        var consumer = new Thread(() =>
        {
            while (stage2.Reader.WaitToReadAsync().AsTask().Result)
            {
                while (stage2.Reader.TryRead(out int v))
                {
                    sum += v;
                    n++;
                }
            }
        });
        consumer.Start();
        producers.ForEach(t => t.Start());
        producers.ForEach(t => t.Join());
        stage1.Writer.Complete();
        Task.WaitAll(workers);
        stage2.Writer.Complete();
        consumer.Join();
        Observe($"items {n} sum {sum}");
    }

    /// <summary>A job scheduler on System.Threading.Timer: 10 timers fire jobs that block (lock, Thread.Sleep, a
    /// Monitor.Wait hand-off, an async call waited synchronously); a CountdownEvent collects them.</summary>
    private static void DiffAppTimerJobs()
    {
        const int Jobs = 10, Runs = 3;
        var done = new CountdownEvent(Jobs * Runs);
        var gate = new object();
        var results = new ConcurrentDictionary<int, int>();
        var timers = new List<Timer>();
        var runs = new int[Jobs];
        for (int j = 0; j < Jobs; j++)
        {
            int id = j;
            Timer? timer = null;
            timer = new Timer(_ =>
            {
                int run = Interlocked.Increment(ref runs[id]);
                if (run > Runs) return;
                lock (gate)
                {
                    Thread.Sleep(1);
                }

                int v = Task.Run(async () =>
                {
                    await Task.Delay(1);
                    return id * 10 + run;
                }).GetAwaiter().GetResult();
                results.AddOrUpdate(id, v, (_, old) => old + v);
                done.Signal();
            }, null, 1, 5);
            timers.Add(timer);
        }

        bool all = done.Wait(TimeSpan.FromSeconds(10));
        foreach (var t in timers)
        {
            using var ev = new ManualResetEvent(false);
            t.Dispose(ev);
            ev.WaitOne();
        }

        Observe($"all {all}");
        foreach (var kv in results.OrderBy(kv => kv.Key)) Observe($"job {kv.Key} = {kv.Value}");
    }

    private static async Task<string> AppHandleLineAsync(Stream stream, string line)
    {
        await Task.Delay(1).ConfigureAwait(false);
        var bytes = Encoding.UTF8.GetBytes(line.ToUpperInvariant() + "\n");
        await stream.WriteAsync(bytes).ConfigureAwait(false);
        await stream.FlushAsync().ConfigureAwait(false);
        return line;
    }

    /// <summary>A thread-per-connection line protocol server whose handlers call an async library method
    /// synchronously (.GetAwaiter().GetResult()), 20 clients from plain threads.</summary>
    private static void DiffAppSyncOverAsyncServer()
    {
        var listener = Listen();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        const int Clients = 20;
        int handled = 0;
        var server = new Thread(() =>
        {
            var handlers = new List<Thread>();
            for (int i = 0; i < Clients; i++)
            {
                var client = listener.AcceptTcpClient();
                var h = new Thread(() =>
                {
                    using (client)
                    {
                        var stream = client.GetStream();
                        var reader = new StreamReader(stream);
                        string? line;
                        while ((line = reader.ReadLine()) != null)
                        {
                            AppHandleLineAsync(stream, line).GetAwaiter().GetResult();
                            Interlocked.Increment(ref handled);
                        }
                    }
                });
                handlers.Add(h);
                h.Start();
            }

            handlers.ForEach(h => h.Join());
        });
        server.Start();
        var answers = new ConcurrentBag<string>();
        var clients = Enumerable.Range(0, Clients).Select(i => new Thread(() =>
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            var stream = client.GetStream();
            var writer = new StreamWriter(stream) { AutoFlush = true };
            var reader = new StreamReader(stream);
            var got = new List<string>();
            for (int k = 0; k < 5; k++)
            {
                writer.WriteLine($"c{i}l{k}");
                got.Add(reader.ReadLine()!);
            }

            answers.Add(string.Join(",", got));
        })).ToList();
        clients.ForEach(t => t.Start());
        clients.ForEach(t => t.Join());
        server.Join();
        listener.Stop();
        Observe($"handled {handled}");
        foreach (var a in answers.Order(StringComparer.Ordinal)) Observe(a);
    }

    private sealed class AppConnection(int id)
    {
        public int Id { get; } = id;
        public int Uses;
    }

    private sealed class AppPool
    {
        private readonly SemaphoreSlim _slots;
        private readonly ConcurrentBag<AppConnection> _idle = new();
        private int _created;
        private int _inUse;
        public int MaxInUse;

        public AppPool(int size) => _slots = new SemaphoreSlim(size, size);

        public int Created => _created;

        public AppConnection Rent()
        {
            _slots.Wait();
            int now = Interlocked.Increment(ref _inUse);
            int seen;
            while (now > (seen = Volatile.Read(ref MaxInUse)) && Interlocked.CompareExchange(ref MaxInUse, now, seen) != seen)
            {
            }

            return _idle.TryTake(out var c) ? c : new AppConnection(Interlocked.Increment(ref _created));
        }

        public async Task<AppConnection> RentAsync()
        {
            await _slots.WaitAsync().ConfigureAwait(false);
            Interlocked.Increment(ref _inUse);
            return _idle.TryTake(out var c) ? c : new AppConnection(Interlocked.Increment(ref _created));
        }

        public void Return(AppConnection c)
        {
            _idle.Add(c);
            Interlocked.Decrement(ref _inUse);
            _slots.Release();
        }
    }

    /// <summary>A connection pool built from SemaphoreSlim + ConcurrentBag (size 5) used by 50 plain threads
    /// (synchronous Rent, work under a lock and a sleep) and 10 async callers (WaitAsync).</summary>
    private static void DiffAppConnectionPool()
    {
        var pool = new AppPool(5);
        int total = 0;
        var gate = new object();
        var threads = Enumerable.Range(0, 50).Select(i => new Thread(() =>
        {
            for (int k = 0; k < 4; k++)
            {
                var c = pool.Rent();
                Interlocked.Increment(ref c.Uses);
                lock (gate)
                {
                    total++;
                }

                Thread.Sleep(0);
                pool.Return(c);
            }
        })).ToList();
        var asyncCallers = Enumerable.Range(0, 10).Select(_ => Task.Run(async () =>
        {
            for (int k = 0; k < 4; k++)
            {
                var c = await pool.RentAsync();
                Interlocked.Increment(ref c.Uses);
                await Task.Yield();
                Interlocked.Increment(ref total);
                pool.Return(c);
            }
        })).ToArray();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Task.WaitAll(asyncCallers);
        Observe($"total {total}");
        Observe($"created <= 5: {pool.Created <= 5}");
        Observe($"max in use <= 5: {pool.MaxInUse <= 5}");
    }

    /// <summary>Parallel.ForEach over 40 HTTP calls (synchronous HttpClient.Send) against a Kestrel app, then
    /// Parallel.ForEachAsync over the same. The pool's minimum is raised first, as a service doing sync-over-async
    /// HTTP on the pool must: the replicas block pool threads that Kestrel needs (see diff-app-parallel-http-starved).</summary>
    private static void DiffAppParallelHttp() => ParallelHttp(raiseMinThreads: true);

    /// <summary>diff-app-parallel-http without raising the pool's minimum: the replicas' synchronous sends starve the
    /// pool Kestrel needs until its injection catches up. Same output both ways, but not in the suite: as written it
    /// takes ~1 s unpatched and ~5-6 s patched, yet plain .NET lands on either side too (the same loop run from a pool
    /// thread or a native thread: ~6 s unpatched; after one warm-up request: ~3.5 s unpatched, ~1 s patched), so the
    /// time measures the pool's starvation race, not a green wait.</summary>
    private static void DiffAppParallelHttpStarved() => ParallelHttp(raiseMinThreads: false);

    private static void ParallelHttp(bool raiseMinThreads)
    {
        ThreadPool.GetMinThreads(out int minWorkers, out int minIo);
        if (raiseMinThreads) ThreadPool.SetMinThreads(Math.Max(minWorkers, 24), minIo);
        var app = StartKestrel(app =>
        {
            app.MapGet("/square/{i:int}", (int i) => (i * i).ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
        string baseUrl = KestrelAddress(app);
        using var http = new HttpClient();
        long sum = 0;
        Parallel.ForEach(Enumerable.Range(0, 40), new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            using var resp = http.Send(new HttpRequestMessage(HttpMethod.Get, $"{baseUrl}/square/{i}"));
            using var reader = new StreamReader(resp.Content.ReadAsStream());
            Interlocked.Add(ref sum, long.Parse(reader.ReadToEnd(), System.Globalization.CultureInfo.InvariantCulture));
        });
        Observe($"sync sum {sum}");
        long sum2 = 0;
        Parallel.ForEachAsync(Enumerable.Range(0, 40), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            string s = await http.GetStringAsync($"{baseUrl}/square/{i}", ct);
            Interlocked.Add(ref sum2, long.Parse(s, System.Globalization.CultureInfo.InvariantCulture));
        }).GetAwaiter().GetResult();
        Observe($"async sum {sum2}");
        app.StopAsync().GetAwaiter().GetResult();
        ((IDisposable)app).Dispose();
        ThreadPool.SetMinThreads(minWorkers, minIo);
    }

    /// <summary>8 pool work items block in Task.Wait on one gate; the pool must inject threads for all of them (its
    /// blocking compensation, which a patched wait on a pool thread must keep) before the gate opens.</summary>
    private static void DiffAppPoolBlockedTasks()
    {
        var gate = new TaskCompletionSource();
        int started = 0;
        var items = Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            Interlocked.Increment(ref started);
            gate.Task.Wait();
        })).ToArray();
        while (Volatile.Read(ref started) < 8) Thread.Sleep(1);
        gate.SetResult();
        Task.WaitAll(items);
        Observe($"started {started}");
    }

    private sealed class AppBackgroundSink : Serilog.Core.ILogEventSink, IDisposable
    {
        private readonly System.Collections.Concurrent.BlockingCollection<Serilog.Events.LogEvent> _queue = new(100);
        private readonly Thread _writer;
        private readonly StringWriter _out = new();
        public int Written;

        public AppBackgroundSink()
        {
            _writer = new Thread(() =>
            {
                foreach (var e in _queue.GetConsumingEnumerable())
                {
                    lock (_out)
                    {
                        e.RenderMessage(_out);
                        _out.WriteLine();
                    }

                    Written++;
                }
            })
            { IsBackground = true, Name = "log writer" };
            _writer.Start();
        }

        public void Emit(Serilog.Events.LogEvent logEvent) => _queue.Add(logEvent);

        public string Text
        {
            get
            {
                lock (_out) return _out.ToString();
            }
        }

        public void Dispose()
        {
            _queue.CompleteAdding();
            _writer.Join();
        }
    }

    /// <summary>Serilog with a background sink (a bounded BlockingCollection drained by its own writer thread, as
    /// Serilog.Sinks.Async does) from 20 threads and 5 pool tasks, then CloseAndFlush.</summary>
    private static void DiffAppSerilogBackgroundSink()
    {
        var sink = new AppBackgroundSink();
        Serilog.Log.Logger = new Serilog.LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(sink).CreateLogger();
        var threads = Enumerable.Range(0, 20).Select(i => new Thread(() =>
        {
            for (int k = 0; k < 50; k++) Serilog.Log.Information("thread {Thread} line {Line}", i, k);
        })).ToList();
        var tasks = Enumerable.Range(0, 5).Select(i => Task.Run(async () =>
        {
            for (int k = 0; k < 20; k++)
            {
                Serilog.Log.Debug("task {Task} line {Line}", i, k);
                await Task.Yield();
            }
        })).ToArray();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Task.WaitAll(tasks);
        Serilog.Log.CloseAndFlush();
        sink.Dispose();
        var lines = sink.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Observe($"written {sink.Written} lines {lines.Length}");
        Observe($"thread 7 lines {lines.Count(l => l.StartsWith("thread 7 ", StringComparison.Ordinal))}");
        Observe($"task 3 lines {lines.Count(l => l.StartsWith("task 3 ", StringComparison.Ordinal))}");
    }

    /// <summary>Kestrel handlers that block as a user's would: a long poll parked on a ManualResetEventSlim until
    /// another request sets it, a handler that starts a worker Thread and joins it, one that calls an async method
    /// with .Result, and one reading the body synchronously (AllowSynchronousIO). Clients are plain threads.</summary>
    private static void DiffAppKestrelHandlersBlock()
    {
        ThreadPool.GetMinThreads(out int minWorkers, out int minIo);
        ThreadPool.SetMinThreads(Math.Max(minWorkers, 24), minIo);
        var released = new ManualResetEventSlim(false);
        int polling = 0;
        var app = StartKestrel(app =>
        {
            app.MapGet("/poll", () =>
            {
                Interlocked.Increment(ref polling);
                bool ok = released.Wait(TimeSpan.FromSeconds(10));
                return ok ? "released" : "timed out";
            });
            app.MapGet("/release", () =>
            {
                released.Set();
                return "set";
            });
            app.MapGet("/worker/{i:int}", (int i) =>
            {
                int result = 0;
                var t = new Thread(() =>
                {
                    Thread.Sleep(1);
                    result = i * 3;
                });
                t.Start();
                t.Join();
                return $"worker {result}";
            });
            app.MapGet("/result/{i:int}", (int i) =>
            {
                int v = Task.Run(async () =>
                {
                    await Task.Delay(1);
                    return i + 100;
                }).Result;
                return $"result {v}";
            });
            app.MapPost("/sync-body", (HttpContext ctx) =>
            {
                ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpBodyControlFeature>()!.AllowSynchronousIO = true;
                using var reader = new StreamReader(ctx.Request.Body);
                return $"body {reader.ReadToEnd().Length}";
            });
        });
        string baseUrl = KestrelAddress(app);
        using var http = new HttpClient();
        var results = new ConcurrentBag<string>();
        var pollers = Enumerable.Range(0, 4).Select(_ => new Thread(() => results.Add(http.GetStringAsync($"{baseUrl}/poll").Result))).ToList();
        pollers.ForEach(t => t.Start());
        while (Volatile.Read(ref polling) < 4) Thread.Sleep(1);
        var others = Enumerable.Range(0, 6).Select(i => new Thread(() =>
        {
            results.Add(http.GetStringAsync($"{baseUrl}/worker/{i}").Result);
            results.Add(http.GetStringAsync($"{baseUrl}/result/{i}").Result);
            var resp = http.PostAsync($"{baseUrl}/sync-body", new StringContent(new string('y', 5000 * (i + 1)))).Result;
            results.Add(resp.Content.ReadAsStringAsync().Result);
        })).ToList();
        others.ForEach(t => t.Start());
        others.ForEach(t => t.Join());
        results.Add(http.GetStringAsync($"{baseUrl}/release").Result);
        pollers.ForEach(t => t.Join());
        app.StopAsync().GetAwaiter().GetResult();
        ((IDisposable)app).Dispose();
        ThreadPool.SetMinThreads(minWorkers, minIo);
        foreach (var r in results.Order(StringComparer.Ordinal)) Observe(r);
    }

    private sealed class AppBlockingWorker(ConcurrentQueue<string> log, BlockingCollection<int> work) : BackgroundService
    {
        // Blocks before its first await, as a service ported from a thread-based one often does.
        protected override Task ExecuteAsync(CancellationToken stoppingToken)
        {
            int sum = 0;
            foreach (int w in work.GetConsumingEnumerable())
            {
                lock (log)
                {
                    sum += w;
                }
            }

            log.Enqueue($"blocking worker sum {sum}");
            return Task.CompletedTask;
        }
    }

    private sealed class AppThreadService(ConcurrentQueue<string> log, BlockingCollection<int> work) : IHostedService
    {
        private Thread? _thread;
        private readonly ManualResetEvent _stop = new(false);

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _thread = new Thread(() =>
            {
                int n = 0;
                while (n < 50)
                {
                    work.Add(++n);
                }

                work.CompleteAdding();
                _stop.WaitOne();
                log.Enqueue($"thread service produced {n}");
            });
            _thread.Start();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            _stop.Set();
            _thread!.Join();
            log.Enqueue("thread service stopped");
            return Task.CompletedTask;
        }
    }

    /// <summary>The Generic Host with a BackgroundService that blocks synchronously in ExecuteAsync (consuming a
    /// BlockingCollection) and an IHostedService that owns a plain Thread (joined in StopAsync); a plain thread waits
    /// for the work to finish and calls StopApplication; Main runs host.RunAsync().GetAwaiter().GetResult().</summary>
    private static void DiffAppHostBlockingServices()
    {
        var log = new ConcurrentQueue<string>();
        var work = new BlockingCollection<int>(8);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(log);
        builder.Services.AddSingleton(work);
        builder.Services.AddHostedService<AppThreadService>();
        builder.Services.AddHostedService<AppBlockingWorker>();
        using var host = builder.Build();
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopper = new Thread(() =>
        {
            lifetime.ApplicationStarted.WaitHandle.WaitOne();
            while (!log.Any(l => l.StartsWith("blocking worker", StringComparison.Ordinal))) Thread.Sleep(1);
            lifetime.StopApplication();
        });
        stopper.Start();
        host.RunAsync().GetAwaiter().GetResult();
        stopper.Join();
        foreach (var l in log) Observe(l);
    }

    /// <summary>Main blocks in WebApplication.Run() (Kestrel plus a BackgroundService draining a channel that the
    /// endpoints feed); a plain thread waits for ApplicationStarted, posts work from 5 client threads, then calls a
    /// /shutdown endpoint that calls IHostApplicationLifetime.StopApplication(); Run returns.</summary>
    private static void DiffAppKestrelRunShutdownEndpoint()
    {
        var log = new ConcurrentQueue<string>();
        var jobs = Channel.CreateUnbounded<int>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(log);
        builder.Services.AddSingleton(jobs);
        builder.Services.AddHostedService<AppWorker>();
        var app = builder.Build();
        app.MapPost("/job/{i:int}", async (int i) =>
        {
            await jobs.Writer.WriteAsync(i);
            return $"queued {i}";
        });
        app.MapPost("/shutdown", (IHostApplicationLifetime lifetime) =>
        {
            jobs.Writer.Complete();
            lifetime.StopApplication();
            return "stopping";
        });
        var driver = new Thread(() =>
        {
            var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
            lifetime.ApplicationStarted.WaitHandle.WaitOne();
            string baseUrl = KestrelAddress(app);
            using var http = new HttpClient();
            var clients = Enumerable.Range(0, 5).Select(c => new Thread(() =>
            {
                for (int k = 1; k <= 10; k++)
                {
                    using var resp = http.PostAsync($"{baseUrl}/job/{c * 10 + k}", null).Result;
                    resp.EnsureSuccessStatusCode();
                }
            })).ToList();
            clients.ForEach(t => t.Start());
            clients.ForEach(t => t.Join());
            log.Enqueue(http.PostAsync($"{baseUrl}/shutdown", null).Result.Content.ReadAsStringAsync().Result);
        });
        driver.Start();
        app.Run();
        driver.Join();
        ((IDisposable)app).Dispose();
        // The worker's line and the driver's race (both follow the /shutdown request): compare them as a set.
        foreach (var l in log.Order(StringComparer.Ordinal)) Observe(l);
    }

    /// <summary>"docker stop": the Generic Host (console lifetime) runs a BackgroundService and an IHostedService; once
    /// started, a plain thread sends the process SIGTERM with kill(1); the host shuts down gracefully and Run returns.</summary>
    private static void DiffAppHostSigterm()
    {
        var log = new ConcurrentQueue<string>();
        var jobs = Channel.CreateUnbounded<int>();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(log);
        builder.Services.AddSingleton(jobs);
        builder.Services.AddHostedService<AppLifecycle>();
        builder.Services.AddHostedService<AppWorker>();
        using var host = builder.Build();
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var killer = new Thread(() =>
        {
            lifetime.ApplicationStarted.WaitHandle.WaitOne();
            for (int i = 1; i <= 10; i++) jobs.Writer.TryWrite(i);
            // Let the worker take every job first (each is added to its sum as it is taken).
            while (jobs.Reader.Count > 0) Thread.Sleep(1);
            using var kill = System.Diagnostics.Process.Start("kill", ["-TERM", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
            log.Enqueue($"kill exited {kill.ExitCode}");
        });
        killer.Start();
        host.Run();
        killer.Join();
        foreach (var l in log.Order(StringComparer.Ordinal)) Observe(l);
    }
}
