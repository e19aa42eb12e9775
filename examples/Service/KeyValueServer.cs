using System.Net;
using System.Net.Sockets;
using System.Text;
using Serilog;

namespace ServiceExample;

/// <summary>
/// Thread-per-connection TCP server with a line protocol over an in-memory dictionary guarded by <c>lock</c>:
/// <c>PUT key value</c> → <c>OK</c>; <c>GET key</c> → <c>VALUE value</c> or <c>NOT_FOUND</c>; <c>DB n</c> → the
/// database's answer through <see cref="DbWorkerPool"/>; <c>QUIT</c> → <c>BYE</c>; anything else → <c>ERR ...</c>.
/// </summary>
internal sealed class KeyValueServer(DbWorkerPool db)
{
    private static readonly Encoding s_utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
    private readonly ILogger _log = Log.ForContext("SourceContext", "KeyValueServer");
    private readonly Dictionary<string, string> _data = new(StringComparer.Ordinal);
    private readonly object _dataLock = new();
    private readonly HighWater _connections = new();
    private TcpListener? _listener;
    private Thread? _acceptThread;
    private volatile bool _stopping;
    private long _served;
    private long _requests;

    public int MaxConcurrentConnections => _connections.Max;
    public long ConnectionsServed => Interlocked.Read(ref _served);
    public long Requests => Interlocked.Read(ref _requests);

    public IPEndPoint Start(IPEndPoint at)
    {
        _listener = new TcpListener(at);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start(1024);
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = "accept" };
        _acceptThread.Start();
        return (IPEndPoint)_listener.LocalEndpoint;
    }

    /// <summary>Stops accepting (closing the listener wakes the blocked accept) and waits for the accept thread.</summary>
    public void Stop()
    {
        _stopping = true;
        _listener?.Stop();
        _acceptThread?.Join();
    }

    private void AcceptLoop()
    {
        var listener = _listener!;
        while (true)
        {
            TcpClient client;
            try
            {
                client = listener.AcceptTcpClient();
            }
            catch (Exception e) when (_stopping && e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            catch (SocketException e)
            {
                _log.Warning("Accept failed: {Error}", e.SocketErrorCode);
                continue;
            }
            long n = Interlocked.Increment(ref _served);
            new Thread(() => Serve(client)) { IsBackground = true, Name = $"conn-{n}" }.Start();
        }
    }

    private void Serve(TcpClient client)
    {
        _connections.Enter();
        try
        {
            client.NoDelay = true;
            using var stream = client.GetStream();
            using var reader = new StreamReader(stream, s_utf8);
            using var writer = new StreamWriter(stream, s_utf8) { NewLine = "\n", AutoFlush = true };
            string? line;
            while ((line = reader.ReadLine()) != null)
            {
                Interlocked.Increment(ref _requests);
                string reply = Handle(line);
                writer.WriteLine(reply);
                if (reply == "BYE") break;
            }
        }
        catch (IOException)
        {
            // the client went away mid-line
        }
        finally
        {
            client.Dispose();
            _connections.Exit();
        }
    }

    private string Handle(string line)
    {
        string[] part = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        string verb = part.Length > 0 ? part[0].ToUpperInvariant() : "";
        switch (verb)
        {
            case "PUT" when part.Length == 3:
                lock (_dataLock) _data[part[1]] = part[2];
                return "OK";
            case "GET" when part.Length == 2:
                string? value;
                lock (_dataLock) _data.TryGetValue(part[1], out value);
                return value == null ? "NOT_FOUND" : "VALUE " + value;
            case "DB" when part.Length == 2 && int.TryParse(part[1], out int n) && n is >= 0 and <= DbWorkerPool.MaxN:
                return db.Run(n);
            case "QUIT" when part.Length == 1:
                return "BYE";
            default:
                return $"ERR bad request (PUT key value | GET key | DB n, 0 <= n <= {DbWorkerPool.MaxN} | QUIT)";
        }
    }
}
