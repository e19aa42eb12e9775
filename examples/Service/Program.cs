// A service in the shape of an OpenStack service under eventlet: plain BCL code — `new Thread`, Thread.Sleep,
// `lock`/Monitor.Wait/Pulse, TcpListener/TcpClient/NetworkStream, Npgsql's synchronous API — made green by one
// line at the top of Main. Nothing below knows about green threads.
//
//   * a heartbeat thread writes a timestamp to a file every second (the seeds' period_heartbeat_file);
//   * a thread-per-connection TCP server speaks a line protocol on an in-memory dictionary guarded by `lock`:
//       PUT key value -> OK        GET key -> VALUE value | NOT_FOUND        DB n -> DB <1+2+..+n>        QUIT -> BYE
//   * DB requests go through a pool of N worker threads that take jobs from a queue guarded by
//     lock/Monitor.Wait/Pulse and query PostgreSQL with Npgsql's synchronous API. If the database cannot be
//     reached, the pool says so once and answers DB requests with an "ERR database unavailable" line.
//
//   dotnet run --project examples/Service -c Release -- --demo     start everything, run an in-process load
//                                                                  (50 client threads x 20 requests), print a summary, exit
//   dotnet run --project examples/Service -c Release -- [--port 7070] [--workers 4] [--heartbeat-file PATH] [--db CONNSTR]
//                                                                  serve until Ctrl-C / SIGTERM
//
// The database defaults to Host=127.0.0.1;Username=evergreen;Password=evergreen;Database=evergreen
// (scripts/install-postgres.sh sets it up); --db or EVERGREEN_SERVICE_DB overrides it.
// EVERGREEN_NO_PATCH=1 runs the same binary unpatched, on OS threads.
using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using Evergreen.Patching;
using Serilog;
using Serilog.Events;

// Not under Evergreen.*: this program is plain BCL code that sees nothing of Evergreen but Patcher.
namespace ServiceExample;

internal static class Program
{
    // Npgsql's default pooling: its pool-pruning Timer makes the runtime start its ".NET Timer" thread from a green
    // worker; the thread patch keeps such runtime threads native (an early version made it green and the hub froze).
    internal const string DefaultDatabase =
        "Host=127.0.0.1;Port=5432;Username=evergreen;Password=evergreen;Database=evergreen;Timeout=5;Command Timeout=30";

    private static readonly object s_stopGate = new();
    private static bool s_stop;

    // Logging is configured before Main, so that MonkeyPatch's own report ("Patched thread: ...") reaches the
    // console too. A static constructor runs once — not again when MonkeyPatch re-enters Main — and building a
    // Serilog console logger starts no thread and opens no socket, which is all the late-patch check refuses.
    static Program()
    {
        Log.Logger = new LoggerConfiguration()
            .MinimumLevel.Information()
            .WriteTo.Console(
                outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} [{SourceContext}] {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose) // logs on stderr; stdout carries READY and the summary
            .CreateLogger();
    }

    private static int Main(string[] args)
    {
        Patcher.MonkeyPatch(os: false); // must be the first line: Main runs again from here, green

        try
        {
            return Run(args);
        }
        finally
        {
            Log.CloseAndFlush();
        }
    }

    private static int Run(string[] args)
    {
        var log = Log.ForContext("SourceContext", "Service");
        if (!Options.TryParse(args, out var o, out string? error))
        {
            Console.Error.WriteLine(error);
            Console.Error.WriteLine(Options.Usage);
            return 2;
        }

        var heartbeat = new Heartbeat(o.HeartbeatFile);
        heartbeat.Start();
        var pool = new DbWorkerPool(o.Database, o.Workers);
        pool.Start();
        var server = new KeyValueServer(pool);
        IPEndPoint endPoint = server.Start(new IPEndPoint(IPAddress.Loopback, o.Demo ? 0 : o.Port));
        log.Information("Serving on {EndPoint}: {Workers} DB workers, heartbeat every second to {File} (patched: {Patched})",
            endPoint, o.Workers, o.HeartbeatFile, string.Join(", ", Patcher.Areas.Where(Patcher.IsMonkeyPatched)));

        int code = 0;
        if (o.Demo)
        {
            var result = DemoLoad.Run(endPoint, o.Clients, o.Requests, pool.Available);
            server.Stop();
            pool.Stop();
            result.Print(Console.Out, heartbeat, server, pool);
            code = result.Succeeded ? 0 : 1;
        }
        else
        {
            Console.WriteLine($"READY {endPoint}");
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            lock (s_stopGate)
            {
                while (!s_stop) Monitor.Wait(s_stopGate);
            }
            log.Information("Stopping: {Connections} connections served, {Requests} requests, {Queries} database queries, {Heartbeats} heartbeats",
                server.ConnectionsServed, server.Requests, pool.Queries, heartbeat.Written);
            server.Stop();
            pool.Stop();
        }
        return code;
    }

    // Runs on a runtime signal thread (not green): it only flips the flag the green main thread waits on.
    private static void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        lock (s_stopGate)
        {
            s_stop = true;
            Monitor.PulseAll(s_stopGate);
        }
    }
}

internal sealed record Options
{
    public const string Usage =
        "usage: Service [--demo [--clients N] [--requests N]] [--port N] [--workers N] [--heartbeat-file PATH] [--db CONNECTION-STRING]";

    public bool Demo { get; init; }
    public int Port { get; init; } = 7070;
    public int Workers { get; init; } = 4;
    public int Clients { get; init; } = 50;
    public int Requests { get; init; } = 20;
    public string HeartbeatFile { get; init; } = Path.Combine(Path.GetTempPath(), "evergreen-service.heartbeat");
    public string Database { get; init; } = Environment.GetEnvironmentVariable("EVERGREEN_SERVICE_DB") ?? Program.DefaultDatabase;

    public static bool TryParse(string[] args, out Options options, out string? error)
    {
        options = new Options();
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            bool Int(out int n, int min) => int.TryParse(value, out n) && n >= min;
            switch (a)
            {
                case "--demo": options = options with { Demo = true }; continue;
                case "--port" when Int(out int p, 0) && p <= 65535: options = options with { Port = p }; break;
                case "--workers" when Int(out int w, 1): options = options with { Workers = w }; break;
                case "--clients" when Int(out int c, 1): options = options with { Clients = c }; break;
                case "--requests" when Int(out int r, 1): options = options with { Requests = r }; break;
                case "--heartbeat-file" when value != null: options = options with { HeartbeatFile = value }; break;
                case "--db" when value != null: options = options with { Database = value }; break;
                default:
                    error = $"bad argument '{a}'" + (value == null ? "" : $" (value '{value}')");
                    return false;
            }
            i++;
        }
        return true;
    }
}

/// <summary>Counts the current and the highest number of things in progress at once.</summary>
internal sealed class HighWater
{
    private readonly object _gate = new();
    private int _current;

    public int Max { get; private set; }

    public void Enter()
    {
        lock (_gate)
        {
            _current++;
            if (_current > Max) Max = _current;
        }
    }

    public void Exit()
    {
        lock (_gate) _current--;
    }
}

internal static class Elapsed
{
    public static double Ms(long startTimestamp) => Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;
}
