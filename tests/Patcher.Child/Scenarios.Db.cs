using Evergreen;
using Evergreen.IO;
using Microsoft.Data.Sqlite;
using Npgsql;

// Database clients, unchanged: a pure-managed driver (Npgsql) over the patched sockets, and a native one (SQLite)
// that needs tpool.
internal static partial class Scenarios
{
    /// <summary>Exit code of a scenario that could not run here (e.g. no PostgreSQL); it prints "skip: reason".</summary>
    public const int SkipExitCode = 3;

    /// <summary>scripts/install-postgres.sh's server; EVERGREEN_TEST_PG_PORT overrides the port (e.g. to see the skip).</summary>
    private static readonly string PgConnectionString =
        $"Host=127.0.0.1;Port={Environment.GetEnvironmentVariable("EVERGREEN_TEST_PG_PORT") ?? "5432"};Username=evergreen;Password=evergreen;Database=evergreen;Pooling=false;Timeout=10;Command Timeout=60";

    /// <summary>
    /// Npgsql's synchronous API from 10 plain threads. Each runs a server-side barrier: a DO block that returns only
    /// once all 10 of this run's statements are active in pg_stat_activity at the same time (bounded: it raises after
    /// ~30 s). It can only pass if the 10 Execute calls overlap greenly. Also checks an in-process in-flight count
    /// and a parameterised result per thread.
    /// </summary>
    private static int NpgsqlGreen()
    {
        const int N = 10;
        try
        {
            using var probe = new NpgsqlConnection(PgConnectionString);
            probe.Open();
            using var cmd = new NpgsqlCommand("SELECT 1", probe);
            Check(Convert.ToInt32(cmd.ExecuteScalar()) == 1, "probe query");
        }
        catch (NpgsqlException ex)
        {
            Console.WriteLine($"skip: PostgreSQL not usable ({PgConnectionString.Split(";Username")[0]}) as evergreen/evergreen (run scripts/install-postgres.sh): {ex.GetType().Name}: {ex.Message}");
            return SkipExitCode;
        }

        // The barrier latches on "started": a backend's pg_stat_activity.query keeps the statement's text after it
        // ends, so each statement waits until all N have STARTED. The first to see that sees all N still active
        // (none can have ended before it: ending requires having seen it first), and it reports that active count.
        string marker = "evergreen_barrier_" + Guid.NewGuid().ToString("N");
        string barrier = $$"""
            DO $$
            DECLARE started int := 0; active int := 0;
            BEGIN
              FOR i IN 1..6000 LOOP
                PERFORM pg_stat_clear_snapshot();
                SELECT count(*), count(*) FILTER (WHERE state = 'active') INTO started, active
                  FROM pg_stat_activity WHERE query LIKE '%{{marker}}%';
                EXIT WHEN started >= {{N}};
                PERFORM pg_sleep(0.005);
              END LOOP;
              IF started < {{N}} THEN RAISE EXCEPTION 'only % of {{N}} statements started (bound reached)', started; END IF;
              RAISE NOTICE 'started=% active=%', started, active;
            END $$;
            """;
        int inFlight = 0, maxInFlight = 0, barriersDone = 0;
        var allDone = new Evergreen.Event();
        var started = new int[N];
        var activeAtExit = new int[N];
        var results = new long[N];
        var errors = new string?[N];
        var threads = new List<Thread>();
        for (int i = 0; i < N; i++)
        {
            int id = i;
            var t = new Thread(() =>
            {
                try
                {
                    using var conn = new NpgsqlConnection(PgConnectionString);
                    conn.Notice += (_, e) =>
                    {
                        var parts = e.Notice.MessageText.Split(' ', '=');
                        if (parts.Length == 4 && parts[0] == "started") { started[id] = int.Parse(parts[1]); activeAtExit[id] = int.Parse(parts[3]); }
                    };
                    conn.Open();
                    inFlight++; maxInFlight = Math.Max(maxInFlight, inFlight);
                    try
                    {
                        using var cmd = new NpgsqlCommand(barrier, conn);
                        cmd.ExecuteNonQuery();
                    }
                    finally
                    {
                        inFlight--;
                        if (++barriersDone == N) allDone.Send();
                    }
                    // Keep this session (and its last statement's text) until every barrier has ended.
                    allDone.Wait();
                    using var q = new NpgsqlCommand("SELECT @x::bigint * 1000 + 7", conn);
                    q.Parameters.AddWithValue("x", (long)id);
                    results[id] = (long)q.ExecuteScalar()!;
                }
                catch (Exception ex)
                {
                    errors[id] = ex.GetType().Name + ": " + ex.Message;
                }
            });
            threads.Add(t);
            t.Start();
        }
        foreach (var t in threads) t.Join();
        for (int i = 0; i < N; i++)
        {
            Check(errors[i] == null, $"thread {i}: {errors[i]}");
            Check(started[i] == N, $"thread {i}: the server saw {started[i]} of {N} statements started");
            Check(results[i] == i * 1000L + 7, $"thread {i}: result {results[i]}");
        }
        Check(activeAtExit.Max() == N, $"the server saw all {N} statements active at once (max {activeAtExit.Max()})");
        Check(maxInFlight == N, $"all {N} statements were in flight at once on the client (max {maxInFlight})");
        Console.WriteLine("pass");
        return 0;
    }

    // ---- SQLite: native code that blocks ----

    private static string NewSqliteFile(out string connectionString)
    {
        string path = Path.Combine(Path.GetTempPath(), $"evergreen-{Environment.ProcessId}-{Guid.NewGuid():N}.db");
        connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString();
        using var setup = new SqliteConnection(connectionString);
        setup.Open();
        Exec(setup, "CREATE TABLE t (x INTEGER)");
        return path;
    }

    private static int Exec(SqliteConnection c, string sql, int commandTimeoutSeconds = 30)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.CommandTimeout = commandTimeoutSeconds;
        return cmd.ExecuteNonQuery();
    }

    private static long Scalar(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return (long)cmd.ExecuteScalar()!;
    }

    /// <summary>
    /// Without tpool, and with taking the baton back off (EVERGREEN_TAKEBACK_MS=0): green X holds an EXCLUSIVE transaction
    /// and is runnable (it only needs to COMMIT); green Y inserts with busy_timeout=2000, so SQLite's busy handler sleeps
    /// in native code. The hub is frozen: X cannot run, Y gets SQLITE_BUSY after the bound and X has still not committed.
    /// </summary>
    private static void SqliteBusyFrozen()
    {
        string path = NewSqliteFile(out var cs);
        try
        {
            using var connX = new SqliteConnection(cs);
            using var connY = new SqliteConnection(cs);
            connX.Open(); connY.Open();
            Exec(connY, "PRAGMA busy_timeout = 2000"); // safety bound of the native wait, not a timing assertion
            var xLocked = new Evergreen.Event();
            var yGo = new Evergreen.Event();
            bool committed = false;
            var x = new Thread(() => { Exec(connX, "BEGIN EXCLUSIVE"); xLocked.Send(); yGo.Wait(); Exec(connX, "COMMIT"); committed = true; });
            x.Start();
            xLocked.Wait();
            yGo.Send(); // X is runnable from here on; it runs as soon as this thread blocks greenly
            int sqliteError = 0;
            bool committedWhenBusy = true;
            try
            {
                Exec(connY, "INSERT INTO t VALUES (1)", commandTimeoutSeconds: 1);
            }
            catch (SqliteException ex)
            {
                sqliteError = ex.SqliteErrorCode;
                committedWhenBusy = committed;
            }
            Check(sqliteError == 5, $"the insert failed with SQLITE_BUSY (got {sqliteError})");
            Check(!committedWhenBusy, "X did not run while SQLite waited natively (frozen hub)");
            x.Join();
            Check(committed, "X committed once this thread let it run");
            Check(Exec(connY, "INSERT INTO t VALUES (1)") == 1 && Scalar(connY, "SELECT count(*) FROM t") == 1, "the insert works after the commit");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    /// <summary>
    /// The same native busy wait, <paramref name="throughTpool"/> on a pool thread while Y waits greenly, else on the green
    /// thread itself with taking the baton back on (the default): the watchdog takes the baton from Y while SQLite sleeps
    /// in its busy handler. Either way X runs and commits, which is what lets the insert succeed (the EXCLUSIVE lock
    /// orders it after the commit).
    /// </summary>
    private static void SqliteBusyGreen(bool throughTpool)
    {
        string path = NewSqliteFile(out var cs);
        try
        {
            using var connX = new SqliteConnection(cs);
            using var connY = new SqliteConnection(cs);
            connX.Open(); connY.Open();
            Exec(connY, "PRAGMA busy_timeout = 20000"); // safety bound only
            var xLocked = new Evergreen.Event();
            var yGo = new Evergreen.Event();
            bool committed = false;
            var x = new Thread(() => { Exec(connX, "BEGIN EXCLUSIVE"); xLocked.Send(); yGo.Wait(); Exec(connX, "COMMIT"); committed = true; });
            x.Start();
            xLocked.Wait();
            yGo.Send();
            int inserted = throughTpool ? Tpool.Execute(() => Exec(connY, "INSERT INTO t VALUES (1)")) : Exec(connY, "INSERT INTO t VALUES (1)");
            Check(inserted == 1, "the insert succeeded");
            Check(committed, "X ran and committed while the insert waited in SQLite's busy handler");
            x.Join();
            Check(Scalar(connY, "SELECT count(*) FROM t") == 1, "one row");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    /// <summary>
    /// A SQLite function (connection.CreateFunction) called from inside sqlite3_step waits for an event that ANOTHER
    /// green thread sets. (a) A ManualResetEvent wait on the green thread: green since the WaitHandle patch (it froze the
    /// hub before: the other thread had not run when the wait gave up at its bound), even with sqlite3_step's native
    /// frames below it. (b) The same query through Tpool.Execute: green, the other thread
    /// sets the event and the function returns true. (c) ManualResetEventSlim on the green thread: its wait goes through
    /// the patched Monitor.Wait / Thread.Sleep, so it is green even with sqlite3_step's native frames below it.
    /// </summary>
    private static void SqliteFunctionWait()
    {
        using var conn = new SqliteConnection("Data Source=:memory:");
        conn.Open();

        // (a) a WaitHandle wait: green
        {
            using var ev = new ManualResetEvent(false);
            bool otherRan = false, otherRanWhenReturned = false;
            conn.CreateFunction("wait_native", () => { bool r = ev.WaitOne(20000); otherRanWhenReturned = otherRan; return r; });
            var other = new Thread(() => { otherRan = true; ev.Set(); });
            other.Start(); // runnable: it runs when this thread next blocks greenly
            long r = Scalar(conn, "SELECT wait_native()");
            Check(r == 1 && otherRanWhenReturned, $"(a) the ManualResetEvent wait inside the callback was green (r={r}, ran={otherRanWhenReturned})");
            other.Join();
            Check(otherRan, "(a) the other thread ran afterwards");
        }
        // (b) green through tpool
        {
            using var ev = new ManualResetEvent(false);
            bool otherRan = false, otherRanWhenReturned = false;
            conn.CreateFunction("wait_native2", () => { bool r = ev.WaitOne(20000); otherRanWhenReturned = otherRan; return r; });
            var other = new Thread(() => { otherRan = true; ev.Set(); });
            other.Start();
            long r = Tpool.Execute(() => Scalar(conn, "SELECT wait_native2()"));
            Check(r == 1 && otherRanWhenReturned, $"(b) through tpool the other thread ran and set the event (r={r})");
            other.Join();
        }
        // (c) ManualResetEventSlim on the green thread
        {
            using var ev = new ManualResetEventSlim(false);
            bool otherRan = false, otherRanWhenReturned = false;
            conn.CreateFunction("wait_slim", () => { bool r = ev.Wait(20000); otherRanWhenReturned = otherRan; return r; });
            var other = new Thread(() => { otherRan = true; ev.Set(); });
            other.Start();
            long r = Scalar(conn, "SELECT wait_slim()");
            Check(r == 1 && otherRanWhenReturned, $"(c) ManualResetEventSlim.Wait inside the callback was green (r={r})");
            other.Join();
        }
    }
}
