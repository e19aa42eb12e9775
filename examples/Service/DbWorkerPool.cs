using Npgsql;
using Serilog;

namespace ServiceExample;

/// <summary>
/// N worker threads taking jobs from a queue guarded by <c>lock</c>/<see cref="Monitor.Wait(object)"/>/<see cref="Monitor.Pulse"/>;
/// each keeps one PostgreSQL connection and runs the query with Npgsql's synchronous API. A caller blocks on its
/// job (Monitor.Wait on the job) until a worker has answered it.
/// </summary>
/// <remarks>
/// The database is probed once at start. If it cannot be reached the pool logs one warning and every DB request
/// is answered <c>ERR database unavailable: ...</c> at once, without queueing; the rest of the service is unaffected.
/// A query that fails later (the database went away) is answered <c>ERR database: ...</c> and its worker reconnects
/// for the next job.
/// </remarks>
internal sealed class DbWorkerPool(string connectionString, int workers)
{
    public const int MaxN = 10_000_000;

    private const string Query = "SELECT COALESCE(sum(i), 0)::bigint FROM generate_series(1, @n::bigint) AS i";

    private sealed class Job(int n)
    {
        public int N { get; } = n;
        public string? Reply { get; set; }
    }

    private readonly ILogger _log = Log.ForContext("SourceContext", "DbWorkerPool");
    private readonly Queue<Job> _queue = new();
    private readonly object _gate = new();
    private readonly HighWater _inFlight = new();
    private readonly List<Thread> _threads = [];
    private bool _stopping;
    private string? _unavailable;
    private long _queries;
    private long _failures;

    public int Workers { get; } = workers;

    /// <summary>False when the start-up probe could not reach the database.</summary>
    public bool Available => Volatile.Read(ref _unavailable) == null;

    public string? UnavailableReason => Volatile.Read(ref _unavailable);
    public long Queries => Interlocked.Read(ref _queries);
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>The most queries that were running in the database at one moment.</summary>
    public int MaxInFlight => _inFlight.Max;

    public void Start()
    {
        Probe();
        for (int i = 0; i < Workers; i++)
        {
            int id = i;
            var t = new Thread(() => Work(id)) { IsBackground = true, Name = $"db-worker-{id}" };
            _threads.Add(t);
            t.Start();
        }
    }

    /// <summary>Lets the workers finish the queued jobs, then ends them.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        foreach (var t in _threads) t.Join();
    }

    /// <summary>Queues "sum of 1..n" for the workers and waits for the reply line.</summary>
    public string Run(int n)
    {
        if (UnavailableReason is { } why) return "ERR database unavailable: " + why; // no database: no need to queue
        var job = new Job(n);
        lock (_gate)
        {
            if (_stopping) return "ERR shutting down";
            _queue.Enqueue(job);
            Monitor.Pulse(_gate);
        }
        lock (job)
        {
            while (job.Reply == null) Monitor.Wait(job);
            return job.Reply;
        }
    }

    private void Probe()
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        try
        {
            using var connection = new NpgsqlConnection(connectionString);
            connection.Open();
            using var command = new NpgsqlCommand("SELECT current_setting('server_version')", connection);
            _log.Information("Database {Host}:{Port}/{Database} is PostgreSQL {Version}",
                builder.Host, builder.Port, builder.Database, command.ExecuteScalar());
        }
        catch (Exception e) when (IsDatabaseFailure(e))
        {
            string reason = e.InnerException is { } inner && e is not PostgresException ? $"{e.Message} ({inner.Message})" : e.Message;
            Volatile.Write(ref _unavailable, reason);
            _log.Warning("Database {Host}:{Port}/{Database} is unreachable: {Reason}. DB requests will be answered with an error line; " +
                         "everything else runs. (scripts/install-postgres.sh sets up the default database.)",
                builder.Host, builder.Port, builder.Database, reason);
        }
    }

    private void Work(int id)
    {
        NpgsqlConnection? connection = null;
        try
        {
            while (true)
            {
                Job job;
                lock (_gate)
                {
                    while (_queue.Count == 0 && !_stopping) Monitor.Wait(_gate);
                    if (_queue.Count == 0) return; // stopping and drained
                    job = _queue.Dequeue();
                }
                string reply = Execute(id, ref connection, job.N);
                lock (job)
                {
                    job.Reply = reply;
                    Monitor.Pulse(job);
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }
    }

    private string Execute(int id, ref NpgsqlConnection? connection, int n)
    {
        _inFlight.Enter();
        try
        {
            if (connection == null)
            {
                connection = new NpgsqlConnection(connectionString);
                connection.Open();
            }
            using var command = new NpgsqlCommand(Query, connection);
            command.Parameters.AddWithValue("n", (long)n);
            long sum = (long)command.ExecuteScalar()!;
            Interlocked.Increment(ref _queries);
            return "DB " + sum;
        }
        catch (Exception e) when (IsDatabaseFailure(e))
        {
            // A broken connection is dropped and opened again for the next job.
            Interlocked.Increment(ref _failures);
            _log.Warning("Worker {Worker}: query failed: {Reason}", id, e.Message);
            connection?.Dispose();
            connection = null;
            return "ERR database: " + e.Message.ReplaceLineEndings(" ");
        }
        finally
        {
            _inFlight.Exit();
        }
    }

    private static bool IsDatabaseFailure(Exception e) =>
        e is NpgsqlException or IOException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException;
}
