using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Serilog;

namespace ServiceExample;

/// <summary>
/// The in-process load of <c>--demo</c>: C plain client threads, each with its own TcpClient, connect, wait at a
/// start gate (lock + Monitor.Wait/PulseAll) until all are connected, then send R requests each — PUT, GET of the
/// key just put, DB — checking every answer.
/// </summary>
internal static class DemoLoad
{
    private static readonly Encoding s_utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    internal sealed class Result
    {
        public int Clients { get; init; }
        public int RequestsPerClient { get; init; }
        public double ElapsedMs { get; set; }
        public bool DatabaseAvailable { get; init; }
        public long Put, Get, Db, DbUnavailable, Ok, Errors;
        public string? FirstError;

        public long Requests => Put + Get + Db;

        /// <summary>Every request answered as expected (DB requests too: with the error line when there is no database).</summary>
        public bool Succeeded => Errors == 0 && Ok == (long)Clients * RequestsPerClient;

        public void Print(TextWriter o, Heartbeat heartbeat, KeyValueServer server, DbWorkerPool pool)
        {
            o.WriteLine($"service demo: {Clients} client threads x {RequestsPerClient} requests = {Requests} requests " +
                        $"(PUT {Put}, GET {Get}, DB {Db}) in {ElapsedMs:0} ms, {Requests / (ElapsedMs / 1000):0} req/s");
            o.WriteLine($"  answered as expected: {Ok}/{(long)Clients * RequestsPerClient}, errors: {Errors}" +
                        (FirstError == null ? "" : $" (first: {FirstError})"));
            o.WriteLine(DatabaseAvailable
                ? $"  database: {pool.Queries} queries on {pool.Workers} worker threads, at most {pool.MaxInFlight} in flight at once, {pool.Failures} failed"
                : $"  database: unavailable — {DbUnavailable} DB requests answered with the error line ({pool.UnavailableReason})");
            o.WriteLine($"  max concurrent connections: {server.MaxConcurrentConnections}; connections served: {server.ConnectionsServed}");
            o.WriteLine($"  heartbeats written: {heartbeat.Written} to {heartbeat.Path}" +
                        (heartbeat.Written >= 2 ? $" (longest gap {heartbeat.MaxGapMs:0} ms, ideal 1000)" : "") +
                        (File.Exists(heartbeat.Path) ? $", last: {File.ReadAllText(heartbeat.Path).Trim()}" : ""));
            o.WriteLine($"  {(Succeeded ? "OK" : "FAILED")}");
        }
    }

    public static Result Run(IPEndPoint server, int clients, int requestsPerClient, bool databaseAvailable)
    {
        var log = Log.ForContext("SourceContext", "DemoLoad");
        var result = new Result { Clients = clients, RequestsPerClient = requestsPerClient, DatabaseAvailable = databaseAvailable };
        var gate = new object();
        int connected = 0;
        long start = 0;
        var threads = new List<Thread>(clients);
        for (int id = 0; id < clients; id++)
        {
            int me = id;
            threads.Add(new Thread(() => Client(me)) { Name = $"client-{me}" });
        }
        log.Information("Demo load: {Clients} client threads x {Requests} requests (PUT, GET, DB) against {Server}",
            clients, requestsPerClient, server);
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        result.ElapsedMs = Elapsed.Ms(start);
        return result;

        void Client(int id)
        {
            int done = 0;
            var tcp = new TcpClient { NoDelay = true };
            SocketException? connectError = null;
            try
            {
                tcp.Connect(server);
            }
            catch (SocketException e)
            {
                connectError = e;
            }
            lock (gate) // the start gate: everyone connected (or failed to) before anyone sends
            {
                if (++connected == clients)
                {
                    start = Stopwatch.GetTimestamp();
                    Monitor.PulseAll(gate);
                }
                else
                {
                    while (connected < clients) Monitor.Wait(gate);
                }
            }
            try
            {
                if (connectError != null) throw connectError;
                using var stream = tcp.GetStream();
                using var reader = new StreamReader(stream, s_utf8);
                using var writer = new StreamWriter(stream, s_utf8) { NewLine = "\n", AutoFlush = true };

                for (int k = 0; k < requestsPerClient; k++, done++)
                {
                    string key = $"client{id}-key{k / 3}";
                    string value = $"value-{id}-{k}";
                    string request, expected;
                    bool isDbUnavailable = false;
                    switch (k % 3)
                    {
                        case 0:
                            request = $"PUT {key} {value}";
                            expected = "OK";
                            Interlocked.Increment(ref result.Put);
                            break;
                        case 1:
                            request = $"GET {key}";
                            expected = $"VALUE value-{id}-{k - 1}";
                            Interlocked.Increment(ref result.Get);
                            break;
                        default:
                            long n = 1 + (id * 7919L + k * 104729L) % 10_000;
                            request = $"DB {n}";
                            expected = databaseAvailable ? $"DB {n * (n + 1) / 2}" : "ERR database unavailable: ";
                            isDbUnavailable = !databaseAvailable;
                            Interlocked.Increment(ref result.Db);
                            break;
                    }
                    writer.WriteLine(request);
                    string reply = reader.ReadLine() ?? throw new EndOfStreamException("the server closed the connection");
                    bool ok = isDbUnavailable ? reply.StartsWith(expected, StringComparison.Ordinal) : reply == expected;
                    if (ok)
                    {
                        Interlocked.Increment(ref result.Ok);
                        if (isDbUnavailable) Interlocked.Increment(ref result.DbUnavailable);
                    }
                    else
                    {
                        Error($"client {id}: '{request}' answered '{reply}', expected '{expected}'", 1);
                    }
                }
                writer.WriteLine("QUIT");
                reader.ReadLine();
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                Error($"client {id}: {e.GetType().Name}: {e.Message}", requestsPerClient - done);
            }
            finally
            {
                tcp.Dispose();
            }
        }

        void Error(string what, int count)
        {
            Interlocked.Add(ref result.Errors, count);
            if (Interlocked.CompareExchange(ref result.FirstError, what, null) == null) log.Warning("{Error}", what);
        }
    }
}
