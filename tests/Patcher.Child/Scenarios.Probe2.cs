using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipes;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

// Differential probes of I/O written as a new user would (sockets, streams, HTTP, pipes, processes, files, console):
// each runs unpatched and patched and must print the same "out:" lines (Scenarios.Waits.cs runs the ticker).
internal static partial class Scenarios
{
    private static bool RunProbe2(string name)
    {
        switch (name)
        {
            case "diff-p2-line-server-half-close": DiffP2LineServerHalfClose(); return true;
            case "diff-p2-bulk-both-ways": DiffP2BulkBothWays(); return true;
            case "diff-p2-send-timeout": DiffP2SendTimeout(); return true;
            case "diff-p2-connect-hostname": DiffP2ConnectHostname(); return true;
            case "diff-p2-unix-socket": DiffP2UnixSocket(); return true;
            case "diff-p2-named-pipe": DiffP2NamedPipe(); return true;
            case "diff-p2-socket-async-from-threads": DiffP2SocketAsyncFromThreads(); return true;
            case "diff-p2-readasync-cancel": DiffP2ReadAsyncCancel(); return true;
            case "diff-p2-httpclient-threads": DiffP2HttpClientThreads(); return true;
            case "diff-p2-httpclient-timeout": DiffP2HttpClientTimeout(); return true;
            case "diff-p2-udp-receive-timeout": DiffP2UdpReceiveTimeout(); return true;
            case "diff-p2-select-many": DiffP2SelectMany(); return true;
            case "diff-p2-accept-listener-closed": DiffP2AcceptListenerClosed(); return true;
            case "diff-p2-receive-socket-closed": DiffP2ReceiveSocketClosed(); return true;
            case "diff-p2-pipes-many-readers": DiffP2PipesManyReaders(); return true;
            case "diff-p2-process-output-events": DiffP2ProcessOutputEvents(); return true;
            case "diff-p2-process-many": DiffP2ProcessMany(); return true;
            case "diff-p2-files-threads": DiffP2FilesThreads(); return true;
            case "diff-p2-process-readers-first": DiffP2ProcessReadersFirst(); return true;
            case "diff-p2-named-pipes-many-readers": DiffP2NamedPipesManyReaders(); return true;
            case "diff-p2-pipe-big-write": DiffP2PipeBigWrite(); return true;
            case "diff-p2-waitforexit-many": DiffP2WaitForExitMany(); return true;
            case "diff-p2-acceptors-share-listener": DiffP2AcceptorsShareListener(); return true;
            case "diff-p2-udp-receivers-share-socket": DiffP2UdpReceiversShareSocket(); return true;
            case "diff-p2-user-nonblocking": DiffP2UserNonBlocking(); return true;
            case "diff-p2-select-per-connection": DiffP2SelectPerConnection(); return true;
            case "diff-p2-select-two-per-connection": DiffP2SelectPerConnection(withControl: true); return true;
            case "diff-p2-writers-share-stream": DiffP2WritersShareStream(); return true;
            case "diff-p2-stdin-readline": DiffP2StdinReadLine(); return true;
            case "diff-p2-stdin-child": DiffP2StdinChild(); return true;
            case "diff-p2-webclient-webrequest": DiffP2WebClientWebRequest(); return true;
            case "diff-p2-websocket": DiffP2WebSocket(); return true;
            case "diff-p2-receivemessagefrom": DiffP2ReceiveMessageFrom(); return true;
            case "diff-p2-receivefrom-socketaddress": DiffP2ReceiveFromSocketAddress(); return true;
            case "diff-p2-gather-send-error-code": DiffP2GatherSendErrorCode(); return true;
            case "diff-p2-poll-beside-receive": DiffP2PollBesideReceive(); return true;
            case "diff-p2-select-closed-during": DiffP2SelectClosedDuring(); return true;
            case "diff-p2-shutdown-unblocks": DiffP2ShutdownUnblocks(); return true;
            case "diff-p2-console-flood": DiffP2ConsoleFlood(); return true;
            case "diff-p2-ssl-shapes": DiffP2SslShapes(); return true;
            case "diff-p2-close-blocked-send": DiffP2CloseBlockedSend(); return true;
            case "diff-p2-http-big-bodies": DiffP2HttpBigBodies(); return true;
            case "diff-p2-console-flood-child": DiffP2ConsoleFloodChild(); return true;
            default: return false;
        }
    }

    /// <summary>A line server, 20 clients: each sends its lines, half-closes (Shutdown(Send)) and reads the reply to EOF.</summary>
    private static void DiffP2LineServerHalfClose()
    {
        var listener = Listen();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        const int Clients = 20;
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
                        var writer = new StreamWriter(stream) { AutoFlush = true };
                        var lines = new List<string>();
                        string? line;
                        while ((line = reader.ReadLine()) != null) lines.Add(line);
                        writer.WriteLine($"got {lines.Count}: {string.Join("+", lines)}");
                        writer.WriteLine("bye");
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
            for (int k = 0; k <= i % 3; k++) writer.WriteLine($"{i}.{k}");
            client.Client.Shutdown(SocketShutdown.Send);
            string all = new StreamReader(stream).ReadToEnd();
            answers.Add(all.Replace("\n", "|"));
        })).ToList();
        clients.ForEach(t => t.Start());
        clients.ForEach(t => t.Join());
        server.Join();
        listener.Stop();
        Observe($"answers {answers.Count}");
        foreach (var a in answers.Order(StringComparer.Ordinal)) Observe(a);
    }

    /// <summary>10 MB each way at once on one connection: each end has a writer thread and a reader thread.</summary>
    private static void DiffP2BulkBothWays()
    {
        const int Size = 10 * 1024 * 1024;
        var listener = Listen();
        using var client = new TcpClient();
        client.Connect((IPEndPoint)listener.LocalEndpoint);
        using var accepted = listener.AcceptTcpClient();
        listener.Stop();
        var results = new ConcurrentDictionary<string, string>();
        Thread Writer(NetworkStream s, byte seed) => new(() =>
        {
            var chunk = new byte[64 * 1024];
            for (int sent = 0; sent < Size; sent += chunk.Length)
            {
                for (int j = 0; j < chunk.Length; j++) chunk[j] = (byte)(seed + sent / chunk.Length + j);
                s.Write(chunk);
            }
        });
        Thread Reader(NetworkStream s, byte seed, string who) => new(() =>
        {
            var buf = new byte[37 * 1024];
            long total = 0;
            bool ok = true;
            int n;
            while (total < Size && (n = s.Read(buf)) > 0)
            {
                for (int j = 0; j < n; j++)
                {
                    long pos = total + j;
                    if (buf[j] != (byte)(seed + pos / (64 * 1024) + pos % (64 * 1024))) ok = false;
                }
                total += n;
            }
            results[who] = $"{who} read {total} bytes, intact {ok}";
        });
        var threads = new[]
        {
            Writer(client.GetStream(), 1), Writer(accepted.GetStream(), 2),
            Reader(accepted.GetStream(), 1, "server"), Reader(client.GetStream(), 2, "client"),
        };
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        foreach (var kv in results.OrderBy(kv => kv.Key, StringComparer.Ordinal)) Observe(kv.Value);
    }

    /// <summary>NetworkStream.Write with a WriteTimeout to a peer that never reads: the IOException's shape.</summary>
    private static void DiffP2SendTimeout()
    {
        var listener = Listen();
        using var client = new TcpClient();
        client.Connect((IPEndPoint)listener.LocalEndpoint);
        using var accepted = listener.AcceptTcpClient();
        listener.Stop();
        client.SendBufferSize = 16 * 1024;
        accepted.ReceiveBufferSize = 16 * 1024;
        var stream = client.GetStream();
        stream.WriteTimeout = 100;
        string outcome;
        try
        {
            var block = new byte[64 * 1024];
            for (int i = 0; i < 1000; i++) stream.Write(block);
            outcome = "no exception";
        }
        catch (IOException e)
        {
            outcome = $"IOException({e.InnerException?.GetType().Name} {(e.InnerException as SocketException)?.SocketErrorCode})";
        }
        Observe($"Write with WriteTimeout to a peer that never reads: {outcome}");
        string socketOutcome;
        client.Client.SendTimeout = 100;
        try
        {
            client.Client.Send(new byte[1024 * 1024]);
            socketOutcome = "no exception";
        }
        catch (SocketException e)
        {
            socketOutcome = $"SocketException {e.SocketErrorCode}";
        }
        catch (ObjectDisposedException)
        {
            socketOutcome = "ObjectDisposedException";
        }
        Observe($"Socket.Send after: {socketOutcome}; connected {client.Connected}");
    }

    /// <summary>TcpClient.Connect("localhost", port), new TcpClient("localhost", port) and Socket.Connect(DnsEndPoint).</summary>
    private static void DiffP2ConnectHostname()
    {
        var listener = new TcpListener(IPAddress.IPv6Any, 0);
        listener.Server.DualMode = true;
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = new Thread(() =>
        {
            for (int i = 0; i < 3; i++)
            {
                using var c = listener.AcceptTcpClient();
                c.GetStream().Write(new[] { (byte)('a' + i) });
            }
        });
        server.Start();
        var got = new List<string>();
        using (var c1 = new TcpClient())
        {
            c1.Connect("localhost", port);
            got.Add($"Connect(string): {(char)c1.GetStream().ReadByte()} connected {c1.Connected}");
        }
        using (var c2 = new TcpClient("localhost", port))
        {
            got.Add($"ctor(string): {(char)c2.GetStream().ReadByte()} connected {c2.Connected}");
        }
        using (var s = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            s.Connect(new DnsEndPoint("localhost", port));
            var one = new byte[1];
            s.Receive(one);
            got.Add($"Socket.Connect(DnsEndPoint): {(char)one[0]} connected {s.Connected}");
        }
        server.Join();
        listener.Stop();
        got.ForEach(Observe);
        string unknown;
        try { using var bad = new TcpClient(); bad.Connect("no-such-host.invalid", port); unknown = "connected"; }
        catch (SocketException e) { unknown = $"SocketException {e.SocketErrorCode}"; }
        Observe($"unknown host: {unknown}");
    }

    /// <summary>A Unix-domain stream server with a thread per client, and 5 clients.</summary>
    private static void DiffP2UnixSocket()
    {
        string path = Path.Combine(Path.GetTempPath(), $"evergreen-p2-{Environment.ProcessId}.sock");
        File.Delete(path);
        var endpoint = new UnixDomainSocketEndPoint(path);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(endpoint);
        listener.Listen(10);
        const int Clients = 5;
        var server = new Thread(() =>
        {
            var handlers = new List<Thread>();
            for (int i = 0; i < Clients; i++)
            {
                var conn = listener.Accept();
                var h = new Thread(() =>
                {
                    using var stream = new NetworkStream(conn, ownsSocket: true);
                    var reader = new StreamReader(stream);
                    var writer = new StreamWriter(stream) { AutoFlush = true };
                    string? line;
                    while ((line = reader.ReadLine()) != null) writer.WriteLine(line.ToUpperInvariant());
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
            using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            s.Connect(endpoint);
            using var stream = new NetworkStream(s);
            var reader = new StreamReader(stream);
            var writer = new StreamWriter(stream) { AutoFlush = true };
            for (int k = 0; k < 3; k++)
            {
                writer.WriteLine($"client{i}-{k}");
                answers.Add(reader.ReadLine()!);
            }
            s.Shutdown(SocketShutdown.Send);
            answers.Add($"client{i} eof: {reader.ReadLine() == null}");
        })).ToList();
        clients.ForEach(t => t.Start());
        clients.ForEach(t => t.Join());
        server.Join();
        File.Delete(path);
        Observe(string.Join(",", answers.Order(StringComparer.Ordinal)));
    }

    /// <summary>NamedPipeServerStream.WaitForConnection on a thread, a NamedPipeClientStream, lines both ways.</summary>
    private static void DiffP2NamedPipe()
    {
        string name = $"evergreen-p2-{Environment.ProcessId}";
        string serverSaw = "";
        var server = new Thread(() =>
        {
            using var pipe = new NamedPipeServerStream(name, PipeDirection.InOut);
            pipe.WaitForConnection();
            var reader = new StreamReader(pipe);
            var writer = new StreamWriter(pipe) { AutoFlush = true };
            string? line;
            var seen = new List<string>();
            while ((line = reader.ReadLine()) != "quit" && line != null)
            {
                seen.Add(line);
                writer.WriteLine("re:" + line);
            }
            serverSaw = string.Join(",", seen);
        });
        server.Start();
        using var client = new NamedPipeClientStream(".", name, PipeDirection.InOut);
        client.Connect(5000);
        var r = new StreamReader(client);
        var w = new StreamWriter(client) { AutoFlush = true };
        var replies = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            w.WriteLine($"m{i}");
            replies.Add(r.ReadLine()!);
        }
        w.WriteLine("quit");
        server.Join();
        Observe($"client got {string.Join(",", replies)}; server saw {serverSaw}; connected {client.IsConnected}");
    }

    /// <summary>Socket's Task and SocketAsyncEventArgs APIs used from plain threads: .Result, .Wait(), a completion event.</summary>
    private static void DiffP2SocketAsyncFromThreads()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(10);
        var ep = listener.LocalEndPoint!;
        string serverSide = "";
        var server = new Thread(() =>
        {
            var acceptTask = listener.AcceptAsync();
            acceptTask.Wait();
            using var conn = acceptTask.Result;
            var buf = new byte[100];
            int n = conn.ReceiveAsync(buf, SocketFlags.None).Result;
            string got = Encoding.ASCII.GetString(buf, 0, n);
            int sent = conn.SendAsync(Encoding.ASCII.GetBytes("pong:" + got), SocketFlags.None).GetAwaiter().GetResult();
            // A SocketAsyncEventArgs receive completed through its event.
            using var done = new ManualResetEvent(false);
            using var args = new SocketAsyncEventArgs();
            args.SetBuffer(new byte[100], 0, 100);
            args.Completed += (_, _) => done.Set();
            if (!conn.ReceiveAsync(args)) done.Set();
            done.WaitOne();
            serverSide = $"server got '{got}', sent {sent}, SAEA got '{Encoding.ASCII.GetString(args.Buffer!, 0, args.BytesTransferred)}' {args.SocketError}";
        });
        server.Start();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.ConnectAsync(ep).Wait();
        client.Send("ping"u8);
        var reply = new byte[100];
        int r = client.ReceiveAsync(reply.AsMemory(), SocketFlags.None).AsTask().Result;
        client.Send("third"u8);
        server.Join();
        Observe($"client got '{Encoding.ASCII.GetString(reply, 0, r)}'");
        Observe(serverSide);
        // Sync and async on the same socket after each other.
        client.Shutdown(SocketShutdown.Send);
        Observe($"sync receive after async ones: {client.Receive(reply)} (EOF)");
    }

    /// <summary>NetworkStream.ReadAsync with a CancellationToken that fires, waited on with .Result from a plain thread.</summary>
    private static void DiffP2ReadAsyncCancel()
    {
        var listener = Listen();
        using var client = new TcpClient();
        client.Connect((IPEndPoint)listener.LocalEndpoint);
        using var accepted = listener.AcceptTcpClient();
        listener.Stop();
        string outcome = "";
        var t = new Thread(() =>
        {
            using var cts = new CancellationTokenSource(50);
            try
            {
                int n = client.GetStream().ReadAsync(new byte[10], cts.Token).AsTask().Result;
                outcome = $"read {n}";
            }
            catch (AggregateException e)
            {
                outcome = $"AggregateException({e.InnerException?.GetType().Name}) token matches {(e.InnerException as OperationCanceledException)?.CancellationToken == cts.Token}";
            }
        });
        t.Start();
        t.Join();
        Observe($"ReadAsync cancelled: {outcome}");
        accepted.GetStream().Write("z"u8);
        var one = new byte[1];
        string after;
        try { after = $"read {client.GetStream().Read(one)} '{(char)one[0]}'"; }
        catch (Exception e) { after = e.GetType().Name; }
        Observe($"sync Read after the cancelled ReadAsync: {after}");
    }

    /// <summary>HttpClient.GetStringAsync(..).Result from 20 plain threads against an HttpListener served with GetContextAsync.</summary>
    private static void DiffP2HttpClientThreads()
    {
        int port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        const int Requests = 20;
        var server = new Thread(() =>
        {
            for (int i = 0; i < Requests; i++)
            {
                var ctx = listener.GetContextAsync().Result;
                using var response = ctx.Response;
                byte[] body = Encoding.UTF8.GetBytes("hello " + ctx.Request.Url!.AbsolutePath.TrimStart('/'));
                response.ContentLength64 = body.Length;
                response.OutputStream.Write(body);
            }
        });
        server.Start();
        using var http = new HttpClient();
        var results = new ConcurrentBag<string>();
        var clients = Enumerable.Range(0, Requests).Select(i => new Thread(() =>
            results.Add(http.GetStringAsync($"http://127.0.0.1:{port}/c{i}").Result))).ToList();
        clients.ForEach(t => t.Start());
        clients.ForEach(t => t.Join());
        server.Join();
        Observe($"{results.Count} answers: {string.Join(",", results.Order(StringComparer.Ordinal))}");
    }

    /// <summary>HttpClient with a Timeout against a server that accepts but never answers: the exception's shape.</summary>
    private static void DiffP2HttpClientTimeout()
    {
        var listener = Listen();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var held = new List<TcpClient>();
        var server = new Thread(() =>
        {
            for (int i = 0; i < 2; i++) held.Add(listener.AcceptTcpClient());
        });
        server.Start();
        using var http = new HttpClient { Timeout = TimeSpan.FromMilliseconds(200) };
        string async, sync;
        try { http.GetStringAsync($"http://127.0.0.1:{port}/").Wait(); async = "answered"; }
        catch (AggregateException e)
        {
            async = $"{e.InnerException?.GetType().Name} inner {e.InnerException?.InnerException?.GetType().Name}";
        }
        try { http.Send(new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/")); sync = "answered"; }
        catch (Exception e) { sync = $"{e.GetType().Name} inner {e.InnerException?.GetType().Name}"; }
        server.Join();
        held.ForEach(c => c.Dispose());
        listener.Stop();
        Observe($"GetStringAsync: {async}");
        Observe($"Send: {sync}");
    }

    /// <summary>UdpClient.Receive with Client.ReceiveTimeout, then a datagram from another thread.</summary>
    private static void DiffP2UdpReceiveTimeout()
    {
        using var server = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        server.Client.ReceiveTimeout = 50;
        var from = new IPEndPoint(IPAddress.Any, 0);
        string first;
        try { server.Receive(ref from); first = "received"; }
        catch (SocketException e) { first = $"SocketException {e.SocketErrorCode}"; }
        Observe($"Receive with ReceiveTimeout and no datagram: {first}");
        var port = ((IPEndPoint)server.Client.LocalEndPoint!).Port;
        var sender = new Thread(() =>
        {
            using var c = new UdpClient();
            c.Send("dgram"u8.ToArray(), 5, new IPEndPoint(IPAddress.Loopback, port));
        });
        sender.Start();
        server.Client.ReceiveTimeout = 5000;
        var data = server.Receive(ref from);
        sender.Join();
        Observe($"then: '{Encoding.ASCII.GetString(data)}' from loopback {IPAddress.IsLoopback(from.Address)}");
        var buf = new byte[2];
        server.Client.ReceiveTimeout = 0;
        using (var c = new UdpClient()) c.Send("toolong"u8.ToArray(), 7, new IPEndPoint(IPAddress.Loopback, port));
        string trunc;
        try { server.Client.Receive(buf); trunc = "no exception"; }
        catch (SocketException e) { trunc = $"SocketException {e.SocketErrorCode}"; }
        Observe($"Receive of a datagram into a short buffer: {trunc} '{Encoding.ASCII.GetString(buf)}'");
    }

    /// <summary>Socket.Select over 30 connections, 10 of which have data, from a plain thread.</summary>
    private static void DiffP2SelectMany()
    {
        var listener = Listen();
        var pairs = new List<(Socket client, Socket server)>();
        for (int i = 0; i < 30; i++)
        {
            var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            c.Connect(listener.LocalEndpoint);
            pairs.Add((c, listener.AcceptSocket()));
        }
        listener.Stop();
        string result = "";
        var t = new Thread(() =>
        {
            for (int i = 0; i < 30; i += 3) pairs[i].client.Send(new[] { (byte)i });
            var ready = new List<int>();
            while (ready.Count < 10)
            {
                var check = pairs.Select(p => p.server).Where((_, i) => !ready.Contains(i)).ToList();
                Socket.Select(check, null, null, 2_000_000);
                foreach (var s in check)
                {
                    int idx = pairs.FindIndex(p => p.server == s);
                    var one = new byte[1];
                    s.Receive(one);
                    if (one[0] == idx) ready.Add(idx);
                }
            }
            var writable = pairs.Select(p => p.client).ToList();
            Socket.Select(null, writable, null, 1000);
            result = $"readable {string.Join(",", ready.Order())}; writable {writable.Count}";
        });
        t.Start();
        t.Join();
        foreach (var (c, s) in pairs) { c.Dispose(); s.Dispose(); }
        Observe(result);
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> (a thread blocks in a socket call, another closes the socket under it after a
    /// moment) until the close came while the call was blocked: a close that came first (a thread slow to start, on a
    /// loaded machine) ends it with ObjectDisposedException in both runs, and is tried again with fresh sockets.
    /// </summary>
    private static string WhileBlocked(Func<string> attempt)
    {
        string outcome = "";
        for (int i = 0; i < 5 && (outcome = attempt()) == "ObjectDisposedException"; i++) { }
        return outcome;
    }

    /// <summary>Starts <paramref name="blocking"/> on a thread, lets it block, runs <paramref name="close"/>, and returns how the call ended.</summary>
    private static string CloseUnder(Func<string> blocking, Action close)
    {
        string outcome = "";
        var t = new Thread(() =>
        {
            try { outcome = blocking(); }
            catch (SocketException e) { outcome = $"SocketException {e.SocketErrorCode}"; }
            catch (IOException e) { outcome = $"IOException({(e.InnerException as SocketException)?.SocketErrorCode})"; }
            catch (ObjectDisposedException) { outcome = "ObjectDisposedException"; }
        });
        t.Start();
        Thread.Sleep(50); // the call has blocked by now, both ways; when it has not, WhileBlocked tries again
        close();
        t.Join();
        return outcome;
    }

    /// <summary>A thread blocked in Accept while another stops the listener (TcpListener) or closes the socket.</summary>
    private static void DiffP2AcceptListenerClosed()
    {
        Observe("Accept when the listener stops: " + WhileBlocked(() =>
        {
            var listener = Listen();
            return CloseUnder(() => { listener.AcceptSocket(); return "accepted"; }, listener.Stop);
        }));
        Observe("Socket.Accept when the socket is closed: " + WhileBlocked(() =>
        {
            var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            raw.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            raw.Listen();
            return CloseUnder(() => { raw.Accept(); return "accepted"; }, raw.Close);
        }));
    }

    /// <summary>A thread blocked in Receive (socket and stream) while another closes the socket.</summary>
    private static void DiffP2ReceiveSocketClosed()
    {
        Observe("Socket.Receive when closed: " + WhileBlocked(() =>
        {
            var (client, accepted) = ConnectedPair();
            using (accepted)
                return CloseUnder(() => $"returned {client.Client.Receive(new byte[10])}", client.Client.Close);
        }));
        string outcome = WhileBlocked(() =>
        {
            var (client, accepted) = ConnectedPair();
            var stream = client.GetStream();
            using (accepted)
                return CloseUnder(() => $"returned {stream.Read(new byte[10])}", client.Close);
        });
        // Racy unpatched: NetworkStream.Dispose shuts the socket down (the read may see EOF) and then closes it (the
        // read may see the close first).
        Observe($"NetworkStream.Read when the TcpClient closes: EOF or aborted {outcome is "returned 0" or "IOException(ConnectionAborted)"}");
    }

    /// <summary>A TcpClient connected to a listener of its own, and the accepted end (the listener is stopped).</summary>
    private static (TcpClient Client, Socket Accepted) ConnectedPair()
    {
        var listener = Listen();
        var client = new TcpClient();
        client.Connect((IPEndPoint)listener.LocalEndpoint);
        var accepted = listener.AcceptSocket();
        listener.Stop();
        return (client, accepted);
    }

    /// <summary>30 threads each read their own anonymous pipe; the writers write only once all readers started.</summary>
    private static void DiffP2PipesManyReaders()
    {
        const int Pipes = 30;
        var servers = Enumerable.Range(0, Pipes).Select(_ => new AnonymousPipeServerStream(PipeDirection.Out)).ToList();
        var clients = servers.Select(s => new AnonymousPipeClientStream(PipeDirection.In, s.ClientSafePipeHandle)).ToList();
        var got = new ConcurrentBag<string>();
        var readers = clients.Select((c, i) => new Thread(() => got.Add(new StreamReader(c).ReadToEnd()))).ToList();
        readers.ForEach(t => t.Start());
        for (int i = 0; i < Pipes; i++)
        {
            using var w = new StreamWriter(servers[i]);
            w.Write($"p{i:00}");
        }
        readers.ForEach(t => t.Join());
        clients.ForEach(c => c.Dispose());
        Observe($"{got.Count}: {string.Join(",", got.Order(StringComparer.Ordinal))}");
    }

    /// <summary>Process output by OutputDataReceived, WaitForExit(timeout) on a sleeper, Kill, HasExited.</summary>
    private static void DiffP2ProcessOutputEvents()
    {
        var lines = new List<string>();
        var p = new Process { StartInfo = new ProcessStartInfo("/bin/sh", ["-c", "for i in 1 2 3; do echo line$i; done; echo err >&2"]) { RedirectStandardOutput = true, RedirectStandardError = true } };
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (lines) lines.Add(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Observe($"events: {string.Join(",", lines)}; stderr '{err.Trim()}'; exit {p.ExitCode}");
        var sleeper = Process.Start(new ProcessStartInfo("/bin/sleep", "30"))!;
        Observe($"WaitForExit(50) on a sleeper: {sleeper.WaitForExit(50)}; HasExited {sleeper.HasExited}");
        sleeper.Kill();
        Observe($"after Kill: WaitForExit(5000) {sleeper.WaitForExit(5000)}; HasExited {sleeper.HasExited}; exit {sleeper.ExitCode}");
        var exited = new ManualResetEvent(false);
        var q = new Process { StartInfo = new ProcessStartInfo("/bin/true"), EnableRaisingEvents = true };
        q.Exited += (_, _) => exited.Set();
        q.Start();
        Observe($"Exited event: {exited.WaitOne(5000)}");
    }

    /// <summary>25 `cat` processes at once, each fed and read by its own pair of threads.</summary>
    private static void DiffP2ProcessMany()
    {
        const int Count = 25;
        var got = new ConcurrentBag<string>();
        var threads = Enumerable.Range(0, Count).Select(i => new Thread(() =>
        {
            using var cat = Process.Start(new ProcessStartInfo("/bin/cat") { RedirectStandardInput = true, RedirectStandardOutput = true })!;
            string output = "";
            var reader = new Thread(() => output = cat.StandardOutput.ReadToEnd());
            reader.Start();
            cat.StandardInput.WriteLine($"cat{i:00}");
            cat.StandardInput.Close();
            reader.Join();
            cat.WaitForExit();
            got.Add(output.Trim() + ":" + cat.ExitCode);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Observe($"{got.Count}: {string.Join(",", got.Order(StringComparer.Ordinal))}");
    }

    /// <summary>FileStream writes from 10 threads into one file (locked) and their own files, File.ReadAllLines, a FileSystemWatcher.</summary>
    private static void DiffP2FilesThreads()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"evergreen-p2-files-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            string shared = Path.Combine(dir, "shared.txt");
            var gate = new object();
            using (var fs = new FileStream(shared, FileMode.Create, FileAccess.Write, FileShare.Read))
            using (var w = new StreamWriter(fs))
            {
                var writers = Enumerable.Range(0, 10).Select(i => new Thread(() =>
                {
                    for (int k = 0; k < 100; k++)
                    {
                        lock (gate) w.WriteLine($"{i}:{k}");
                    }
                    File.WriteAllText(Path.Combine(dir, $"own{i}.txt"), $"thread {i}\n");
                })).ToList();
                writers.ForEach(t => t.Start());
                writers.ForEach(t => t.Join());
            }
            var lines = File.ReadAllLines(shared);
            Observe($"shared lines {lines.Length}, distinct {lines.Distinct().Count()}");
            Observe($"own files: {string.Join(",", Directory.GetFiles(dir, "own*.txt").Select(f => File.ReadAllText(f).Trim()).Order(StringComparer.Ordinal))}");
            using var watcher = new FileSystemWatcher(dir, "*.new");
            using var created = new ManualResetEvent(false);
            string? seen = null;
            watcher.Created += (_, e) => { seen = e.Name; created.Set(); };
            watcher.EnableRaisingEvents = true;
            var maker = new Thread(() => File.WriteAllText(Path.Combine(dir, "made.new"), "x"));
            maker.Start();
            maker.Join();
            Observe($"watcher saw {(created.WaitOne(5000) ? seen : "nothing")}");
            var changed = watcher.WaitForChanged(WatcherChangeTypes.Deleted, 50);
            Observe($"WaitForChanged with nothing happening: timed out {changed.TimedOut}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>25 `cat` processes; a reader thread per process is blocked on its stdout before anything is written.</summary>
    private static void DiffP2ProcessReadersFirst()
    {
        const int Count = 25;
        var cats = Enumerable.Range(0, Count).Select(_ =>
            Process.Start(new ProcessStartInfo("/bin/cat") { RedirectStandardInput = true, RedirectStandardOutput = true })!).ToList();
        var got = new ConcurrentBag<string>();
        var readers = cats.Select(c => new Thread(() => got.Add(c.StandardOutput.ReadLine()!))).ToList();
        readers.ForEach(t => t.Start());
        for (int i = 0; i < Count; i++) cats[i].StandardInput.WriteLine($"cat{i:00}");
        readers.ForEach(t => t.Join());
        foreach (var c in cats)
        {
            c.StandardInput.Close();
            c.WaitForExit();
            c.Dispose();
        }
        Observe($"{got.Count}: {string.Join(",", got.Order(StringComparer.Ordinal))}");
    }

    /// <summary>25 named pipes, a server thread reading each; the client writes only once all server threads started.</summary>
    private static void DiffP2NamedPipesManyReaders()
    {
        const int Count = 25;
        string prefix = $"evergreen-p2-many-{Environment.ProcessId}-";
        var got = new ConcurrentBag<string>();
        var servers = Enumerable.Range(0, Count).Select(i => new Thread(() =>
        {
            using var pipe = new NamedPipeServerStream(prefix + i, PipeDirection.In);
            pipe.WaitForConnection();
            got.Add(new StreamReader(pipe).ReadLine()!);
        })).ToList();
        servers.ForEach(t => t.Start());
        var clients = Enumerable.Range(0, Count).Select(i =>
        {
            var c = new NamedPipeClientStream(".", prefix + i, PipeDirection.Out);
            c.Connect(5000);
            return c;
        }).ToList();
        for (int i = 0; i < Count; i++)
        {
            using var w = new StreamWriter(clients[i]);
            w.WriteLine($"np{i:00}");
        }
        servers.ForEach(t => t.Join());
        Observe($"{got.Count}: {string.Join(",", got.Order(StringComparer.Ordinal))}");
    }

    /// <summary>4 MB through an anonymous pipe: the writer fills the pipe long before the reader (started after it) drains it.</summary>
    private static void DiffP2PipeBigWrite()
    {
        const int Size = 4 * 1024 * 1024;
        using var server = new AnonymousPipeServerStream(PipeDirection.Out);
        using var client = new AnonymousPipeClientStream(PipeDirection.In, server.ClientSafePipeHandle);
        var writer = new Thread(() =>
        {
            var data = new byte[Size];
            for (int i = 0; i < Size; i++) data[i] = (byte)(i % 251);
            server.Write(data);
            server.Dispose();
        });
        long total = 0;
        bool intact = true;
        var reader = new Thread(() =>
        {
            var buf = new byte[100_000];
            int n;
            while ((n = client.Read(buf)) > 0)
            {
                for (int j = 0; j < n; j++) intact &= buf[j] == (byte)((total + j) % 251);
                total += n;
            }
        });
        writer.Start();
        reader.Start();
        writer.Join();
        reader.Join();
        Observe($"read {total} bytes, intact {intact}");
    }

    /// <summary>
    /// 25 threads each wait in WaitForExit() for their own `cat`; main resolves a name, then closes every cat's stdin
    /// (a supervisor waiting on its workers from threads while it goes on working).
    /// </summary>
    private static void DiffP2WaitForExitMany()
    {
        const int Count = 25;
        var cats = Enumerable.Range(0, Count).Select(_ =>
            Process.Start(new ProcessStartInfo("/bin/cat") { RedirectStandardInput = true })!).ToList();
        int exited = 0;
        var waiters = cats.Select(c => new Thread(() =>
        {
            c.WaitForExit();
            Interlocked.Increment(ref exited);
        })).ToList();
        waiters.ForEach(t => t.Start());
        bool resolved = Dns.GetHostAddresses("localhost").Length > 0;
        bool timedWait = cats[0].WaitForExit(10);
        cats.ForEach(c => c.StandardInput.Close());
        waiters.ForEach(t => t.Join());
        Observe($"resolved {resolved}; WaitForExit(10) while running {timedWait}; exited {exited}, codes {string.Join("", cats.Select(c => c.ExitCode))}");
        cats.ForEach(c => c.Dispose());
        // Thread.Interrupt reaches a thread in WaitForExit (an alertable wait in .NET); an interrupt before the wait began
        // is thrown at it, so this does not depend on timing.
        using var sleeper = Process.Start(new ProcessStartInfo("/bin/sleep", "30"))!;
        string interrupted = "not interrupted";
        var waiter = new Thread(() =>
        {
            try { sleeper.WaitForExit(); }
            catch (ThreadInterruptedException) { interrupted = "ThreadInterruptedException"; }
        });
        waiter.Start();
        waiter.Interrupt();
        waiter.Join();
        sleeper.Kill();
        sleeper.WaitForExit();
        Observe($"Interrupt of a thread in WaitForExit: {interrupted}");
    }

    /// <summary>4 threads all block in AcceptTcpClient on one listener (a pool of acceptors); 12 clients connect.</summary>
    private static void DiffP2AcceptorsShareListener()
    {
        var listener = Listen();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        int served = 0;
        var errors = new ConcurrentBag<string>();
        var acceptors = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            for (int k = 0; k < 3; k++)
            {
                try
                {
                    using var c = listener.AcceptTcpClient();
                    c.GetStream().WriteByte(42);
                    Interlocked.Increment(ref served);
                }
                catch (Exception e)
                {
                    errors.Add(e.GetType().Name);
                    return;
                }
            }
        })).ToList();
        acceptors.ForEach(t => t.Start());
        int answered = 0;
        for (int i = 0; i < 12; i++)
        {
            using var c = new TcpClient();
            c.Connect(IPAddress.Loopback, port);
            if (c.GetStream().ReadByte() == 42) answered++;
        }
        acceptors.ForEach(t => t.Join());
        listener.Stop();
        Observe($"served {served}, answered {answered}, errors {string.Join(",", errors.Order(StringComparer.Ordinal))}");
    }

    /// <summary>
    /// 3 threads all block in ReceiveFrom on one UDP socket (a pool of receivers); 9 datagrams arrive. (A raw Socket, each
    /// thread with its own buffer: UdpClient.Receive shares one buffer and is not safe from several threads unpatched.)
    /// </summary>
    private static void DiffP2UdpReceiversShareSocket()
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)server.LocalEndPoint!).Port;
        var got = new ConcurrentBag<string>();
        var errors = new ConcurrentBag<string>();
        var receivers = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
        {
            for (int k = 0; k < 3; k++)
            {
                try
                {
                    EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                    var buf = new byte[16];
                    int n = server.ReceiveFrom(buf, ref from);
                    got.Add(Encoding.ASCII.GetString(buf, 0, n));
                }
                catch (Exception e)
                {
                    errors.Add(e.GetType().Name);
                    return;
                }
            }
        })).ToList();
        receivers.ForEach(t => t.Start());
        using var client = new UdpClient();
        for (int i = 0; i < 9; i++) client.Send(Encoding.ASCII.GetBytes($"d{i}"), new IPEndPoint(IPAddress.Loopback, port));
        receivers.ForEach(t => t.Join());
        Observe($"got {got.Count}: {string.Join(",", got.Order(StringComparer.Ordinal))}; errors {string.Join(",", errors)}");
    }

    /// <summary>A socket the user made non-blocking: WouldBlock, Available, Poll, then blocking again.</summary>
    private static void DiffP2UserNonBlocking()
    {
        var listener = Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
        string connect;
        try { client.Connect(listener.LocalEndpoint); connect = "connected at once"; }
        catch (SocketException e) { connect = $"SocketException {e.SocketErrorCode}"; }
        Observe($"non-blocking Connect: {connect}; Blocking {client.Blocking}");
        Observe($"Poll(write) until connected: {client.Poll(5_000_000, SelectMode.SelectWrite)}; Connected {client.Connected}");
        using var server = listener.AcceptSocket();
        listener.Stop();
        string receive;
        try { client.Receive(new byte[4]); receive = "no exception"; }
        catch (SocketException e) { receive = $"SocketException {e.SocketErrorCode}"; }
        int n = client.Receive(new byte[4], 0, 4, SocketFlags.None, out var err);
        Observe($"Receive with nothing there: {receive}; out-error overload: {n} {err}");
        server.Send("abcd"u8);
        Observe($"Poll(read): {client.Poll(5_000_000, SelectMode.SelectRead)}; Available {client.Available}");
        var buf = new byte[4];
        Observe($"Receive: {client.Receive(buf)} '{Encoding.ASCII.GetString(buf)}'");
        client.Blocking = true;
        var sender = new Thread(() => server.Send("efgh"u8));
        sender.Start();
        int m = client.Receive(buf);
        sender.Join();
        Observe($"blocking again: Blocking {client.Blocking}, Receive {m} '{Encoding.ASCII.GetString(buf)}'");
        server.Blocking = false;
        var big = new byte[8 * 1024 * 1024];
        string send;
        try { int sent = server.Send(big); send = $"sent {(sent < big.Length ? "part" : "all")}"; }
        catch (SocketException e) { send = $"SocketException {e.SocketErrorCode}"; }
        Observe($"non-blocking Send of 8 MB: {send}");
    }

    /// <summary>
    /// 25 connections, each served by a thread that loops on Socket.Select(its socket, no timeout) then Receive/Send; one
    /// client thread talks to them in turn, forth and back (a select loop per connection, as ported C code does).
    /// </summary>
    /// <remarks>
    /// withControl (diff-p2-select-two-per-connection): each loop selects over two sockets, its connection and a control
    /// socket; when such a Select ran on a tpool thread, 20 waiting loops left none for the 21st and the program hung.
    /// </remarks>
    private static void DiffP2SelectPerConnection(bool withControl = false)
    {
        const int Count = 25;
        var listener = Listen();
        var clients = new List<Socket>();
        var handlers = new List<Thread>();
        for (int i = 0; i < Count; i++)
        {
            var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            c.Connect(listener.LocalEndpoint);
            clients.Add(c);
            var conn = listener.AcceptSocket();
            // withControl: each loop also watches a control socket of its own (nothing ever arrives on it).
            var control = withControl ? new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) : null;
            control?.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var h = new Thread(() =>
            {
                var buf = new byte[16];
                while (true)
                {
                    var check = control == null ? new List<Socket> { conn } : new List<Socket> { conn, control };
                    Socket.Select(check, null, null, -1);
                    int n = conn.Receive(buf);
                    if (n == 0) break;
                    conn.Send(buf, n, SocketFlags.None);
                }
                conn.Dispose();
                control?.Dispose();
            });
            handlers.Add(h);
            h.Start();
        }
        listener.Stop();
        int echoed = 0;
        var one = new byte[1];
        for (int round = 0; round < 2; round++)
        {
            for (int k = 0; k < Count; k++)
            {
                int i = round == 0 ? k : Count - 1 - k; // forth, then back
                clients[i].Send(new[] { (byte)i });
                if (clients[i].Receive(one) == 1 && one[0] == i) echoed++;
            }
        }
        clients.ForEach(c => c.Shutdown(SocketShutdown.Send));
        handlers.ForEach(h => h.Join());
        clients.ForEach(c => c.Dispose());
        Observe($"echoed {echoed} of {2 * Count}");
    }

    /// <summary>
    /// This program run again as a child whose stdin is a pipe: its Console.In.ReadLine thread reads lines while another
    /// thread counts; the parent writes the lines and reads the child's answers (the child inherits EVERGREEN_NO_PATCH).
    /// </summary>
    private static void DiffP2StdinReadLine()
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!, [Environment.GetCommandLineArgs()[0], "diff-p2-stdin-child"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        psi.Environment["EVERGREEN_CHILD_BOUND_S"] = "20";
        using var child = Process.Start(psi)!;
        for (int i = 0; i < 3; i++) child.StandardInput.WriteLine($"line {i}");
        child.StandardInput.Close();
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        foreach (var line in output.Split('\n').Where(l => l.StartsWith("out: ", StringComparison.Ordinal))) Observe("child " + line[5..]);
        Observe($"child exit {child.ExitCode}");
    }

    /// <summary>The child of <see cref="DiffP2StdinReadLine"/>: one thread reads stdin to EOF, another counts meanwhile.</summary>
    private static void DiffP2StdinChild()
    {
        var lines = new List<string>();
        bool done = false;
        int counted = 0;
        var reader = new Thread(() =>
        {
            string? line;
            while ((line = Console.In.ReadLine()) != null) lines.Add(line);
            Volatile.Write(ref done, true);
        });
        var counter = new Thread(() =>
        {
            while (!Volatile.Read(ref done))
            {
                Thread.Sleep(1);
                counted++;
            }
        });
        reader.Start();
        counter.Start();
        reader.Join();
        counter.Join();
        Observe($"read {string.Join(",", lines)}"); // the counter's count depends on timing: not compared
    }

    /// <summary>WebClient.DownloadString/UploadString and HttpWebRequest.GetResponse (obsolete, still used) from plain threads.</summary>
    private static void DiffP2WebClientWebRequest()
    {
        int port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var server = new Thread(() =>
        {
            for (int i = 0; i < 3; i++)
            {
                var ctx = listener.GetContext();
                using var response = ctx.Response;
                string body = new StreamReader(ctx.Request.InputStream).ReadToEnd();
                byte[] reply = Encoding.UTF8.GetBytes($"{ctx.Request.HttpMethod} {ctx.Request.Url!.AbsolutePath} [{body}]");
                response.StatusCode = ctx.Request.Url.AbsolutePath == "/teapot" ? 418 : 200;
                response.OutputStream.Write(reply);
            }
        });
        server.Start();
        var results = new List<string>();
        var client = new Thread(() =>
        {
#pragma warning disable SYSLIB0014 // WebClient and WebRequest are obsolete, and still in use
            using var wc = new WebClient();
            results.Add(wc.DownloadString($"http://127.0.0.1:{port}/get"));
            results.Add(wc.UploadString($"http://127.0.0.1:{port}/post", "payload"));
            var request = (HttpWebRequest)WebRequest.Create($"http://127.0.0.1:{port}/teapot");
#pragma warning restore SYSLIB0014
            try
            {
                using var response = request.GetResponse();
                results.Add("no exception");
            }
            catch (WebException e)
            {
                var r = (HttpWebResponse)e.Response!;
                results.Add($"WebException {e.Status} {(int)r.StatusCode} '{new StreamReader(r.GetResponseStream()).ReadToEnd()}'");
            }
        });
        client.Start();
        client.Join();
        server.Join();
        results.ForEach(Observe);
    }

    /// <summary>ClientWebSocket against HttpListener's AcceptWebSocketAsync, both driven with .Result/.Wait() from plain threads.</summary>
    private static void DiffP2WebSocket()
    {
        int port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        string serverSaw = "";
        var server = new Thread(() =>
        {
            var ctx = listener.GetContext();
            var ws = ctx.AcceptWebSocketAsync(null).Result.WebSocket;
            var buf = new byte[100];
            var seen = new List<string>();
            while (true)
            {
                var r = ws.ReceiveAsync(buf, CancellationToken.None).Result;
                if (r.MessageType == System.Net.WebSockets.WebSocketMessageType.Close) break;
                string text = Encoding.UTF8.GetString(buf, 0, r.Count);
                seen.Add(text);
                ws.SendAsync(Encoding.UTF8.GetBytes("re:" + text), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None).Wait();
            }
            ws.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).Wait();
            ws.Dispose();
            ctx.Response.Abort(); // ends the TCP connection, which the client's CloseAsync waits for (up to 1 s)
            serverSaw = string.Join(",", seen);
        });
        server.Start();
        using var client = new System.Net.WebSockets.ClientWebSocket();
        client.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"), CancellationToken.None).Wait();
        var replies = new List<string>();
        var rbuf = new byte[100];
        for (int i = 0; i < 3; i++)
        {
            client.SendAsync(Encoding.UTF8.GetBytes($"m{i}"), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None).Wait();
            var r = client.ReceiveAsync(rbuf, CancellationToken.None).Result;
            replies.Add(Encoding.UTF8.GetString(rbuf, 0, r.Count));
        }
        client.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None).Wait();
        server.Join();
        Observe($"client got {string.Join(",", replies)}; server saw {serverSaw}; state {client.State} {client.CloseStatus} '{client.CloseStatusDescription}'");
    }

    /// <summary>Socket.ReceiveMessageFrom (IP_PKTINFO) on a UDP socket, blocking until another thread sends, after a ReceiveFrom.</summary>
    private static void DiffP2ReceiveMessageFrom()
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.PacketInformation, true);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var target = server.LocalEndPoint!;
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.SendTo("first"u8, target);
        var buf = new byte[64];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        int n = server.ReceiveFrom(buf, ref from);
        Observe($"ReceiveFrom: '{Encoding.ASCII.GetString(buf, 0, n)}'");
        // The receive is waiting before the datagram comes (the output does not depend on it: without it the patched
        // receive may find the datagram already there and so not show the WouldBlock it once gave).
        var sender = new Thread(() =>
        {
            Thread.Sleep(20);
            client.SendTo("second"u8, target);
        });
        string outcome;
        try
        {
            sender.Start();
            var flags = SocketFlags.None;
            int m = server.ReceiveMessageFrom(buf, 0, buf.Length, ref flags, ref from, out var info);
            outcome = $"'{Encoding.ASCII.GetString(buf, 0, m)}' to {info.Address}";
        }
        catch (SocketException e)
        {
            outcome = $"SocketException {e.SocketErrorCode}";
        }
        sender.Join();
        Observe($"ReceiveMessageFrom: {outcome}; Blocking {server.Blocking}");
    }

    /// <summary>A thread blocked in Receive while another shuts the socket down for receiving; one while the peer resets.</summary>
    private static void DiffP2ShutdownUnblocks()
    {
        var listener = Listen();
        using var client = new TcpClient();
        client.Connect((IPEndPoint)listener.LocalEndpoint);
        using var accepted = listener.AcceptSocket();
        listener.Stop();
        string outcome = "";
        var reader = new Thread(() =>
        {
            try { outcome = $"returned {client.Client.Receive(new byte[10])}"; }
            catch (SocketException e) { outcome = $"SocketException {e.SocketErrorCode}"; }
        });
        reader.Start();
        Thread.Sleep(50); // the reader is inside Receive by now (both ways)
        client.Client.Shutdown(SocketShutdown.Receive);
        reader.Join();
        Observe($"Receive when the socket is shut down for receiving: {outcome}");
        // The peer resets the connection under a blocked Receive.
        var l2 = Listen();
        using var c2 = new TcpClient();
        c2.Connect((IPEndPoint)l2.LocalEndpoint);
        var a2 = l2.AcceptSocket();
        l2.Stop();
        var stream2 = c2.GetStream();
        var reader2 = new Thread(() =>
        {
            try { outcome = $"returned {stream2.Read(new byte[10])}"; }
            catch (IOException e) { outcome = $"IOException({(e.InnerException as SocketException)?.SocketErrorCode})"; }
        });
        reader2.Start();
        Thread.Sleep(50);
        a2.LingerState = new LingerOption(true, 0);
        a2.Close(); // RST
        reader2.Join();
        Observe($"NetworkStream.Read when the peer resets: {outcome}");
        string write;
        try { stream2.Write(new byte[10]); stream2.Write(new byte[10]); write = "no exception"; }
        catch (IOException e) { write = $"IOException({(e.InnerException as SocketException)?.SocketErrorCode})"; }
        Observe($"Write after the reset: {write}");
    }

    /// <summary>This program run again as a child whose 20 threads each write 300 lines to Console.Out; the parent checks them.</summary>
    private static void DiffP2ConsoleFlood()
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!, [Environment.GetCommandLineArgs()[0], "diff-p2-console-flood-child"])
        {
            RedirectStandardOutput = true,
        };
        psi.Environment["EVERGREEN_CHILD_BOUND_S"] = "20";
        using var child = Process.Start(psi)!;
        var lines = new List<string>();
        string? line;
        while ((line = child.StandardOutput.ReadLine()) != null) lines.Add(line);
        child.WaitForExit();
        var flood = lines.Where(l => l.StartsWith("flood ", StringComparison.Ordinal)).ToList();
        bool intact = flood.All(l => l.Length == "flood 00 000 ".Length + 100);
        Observe($"child exit {child.ExitCode}; flood lines {flood.Count}, distinct {flood.Distinct().Count()}, intact {intact}");
        foreach (var l in lines.Where(l => l.StartsWith("out: ", StringComparison.Ordinal))) Observe("child " + l[5..]);
    }

    private static void DiffP2ConsoleFloodChild()
    {
        var writers = Enumerable.Range(0, 20).Select(i => new Thread(() =>
        {
            for (int k = 0; k < 300; k++) Console.WriteLine($"flood {i:00} {k:000} {new string((char)('a' + i), 100)}");
        })).ToList();
        writers.ForEach(t => t.Start());
        writers.ForEach(t => t.Join());
        Observe("writers done");
    }

    /// <summary>
    /// 4 threads Send 10 KB messages to one TCP socket at once while the peer reads 4 MB (a slow client's buffer fills):
    /// .NET lets every writer wait on the full socket; patched, the second waiting writer once got
    /// InvalidOperationException ("Second simultaneous write", eventlet's one-waiter guard).
    /// </summary>
    private static void DiffP2WritersShareStream()
    {
        var listener = Listen();
        using var client = new TcpClient();
        client.Connect((IPEndPoint)listener.LocalEndpoint);
        using var accepted = listener.AcceptSocket();
        listener.Stop();
        accepted.SendBufferSize = 16 * 1024;
        client.ReceiveBufferSize = 16 * 1024;
        var errors = new ConcurrentBag<string>();
        var writers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            try
            {
                for (int k = 0; k < 100; k++) accepted.Send(new byte[10 * 1024]);
            }
            catch (Exception e)
            {
                errors.Add(e.GetType().Name);
            }
        })).ToList();
        writers.ForEach(t => t.Start());
        long total = 0;
        var reader = new Thread(() =>
        {
            var buf = new byte[64 * 1024];
            int n;
            while ((n = client.Client.Receive(buf)) > 0) total += n;
        });
        reader.Start();
        writers.ForEach(t => t.Join());
        accepted.Shutdown(SocketShutdown.Send);
        reader.Join();
        Observe($"read {total}, errors {string.Join(",", errors)}");
    }

    /// <summary>SslStream: a handshake the client rejects (untrusted self-signed), then one it accepts, a ReadTimeout, a clean close.</summary>
    private static void DiffP2SslShapes()
    {
        using var cert = SelfSigned("localhost");
        var listener = Listen();
        var endpoint = (IPEndPoint)listener.LocalEndpoint;
        var serverResults = new List<string>();
        var server = new Thread(() =>
        {
            for (int i = 0; i < 2; i++)
            {
                using var conn = listener.AcceptTcpClient();
                using var ssl = new SslStream(conn.GetStream());
                try
                {
                    ssl.AuthenticateAsServer(cert);
                    var buf = new byte[5];
                    ssl.ReadExactly(buf);
                    ssl.Write(buf);
                    serverResults.Add($"server echoed '{Encoding.ASCII.GetString(buf)}', read after close {ssl.Read(new byte[1])}");
                }
                catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
                {
                    serverResults.Add($"server handshake {i}: {e.GetType().Name}");
                }
            }
        });
        server.Start();
        string rejected;
        using (var c = new TcpClient())
        {
            c.Connect(endpoint);
            using var ssl = new SslStream(c.GetStream());
            try { ssl.AuthenticateAsClient("localhost"); rejected = "accepted"; }
            catch (System.Security.Authentication.AuthenticationException e) { rejected = $"AuthenticationException {e.InnerException?.GetType().Name}"; }
        }
        Observe($"untrusted certificate: {rejected}");
        using (var c = new TcpClient())
        {
            c.Connect(endpoint);
            using var ssl = new SslStream(c.GetStream(), false, (_, _, _, _) => true);
            ssl.AuthenticateAsClient("localhost");
            ssl.ReadTimeout = 50;
            string timeout;
            try { ssl.ReadExactly(new byte[1]); timeout = "read"; }
            catch (IOException e) { timeout = $"IOException({(e.InnerException as SocketException)?.SocketErrorCode})"; }
            Observe($"accepted with a callback: {ssl.IsAuthenticated} {ssl.SslProtocol >= System.Security.Authentication.SslProtocols.Tls12}; ReadTimeout: {timeout}");
        }
        server.Join();
        listener.Stop();
        serverResults.ForEach(Observe);
    }

    /// <summary>A thread blocked in Send (the peer never reads) while another thread closes the socket.</summary>
    private static void DiffP2CloseBlockedSend()
    {
        Observe("Send when closed meanwhile: " + WhileBlocked(() =>
        {
            var listener = Listen();
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { SendBufferSize = 16 * 1024 };
            client.Connect(listener.LocalEndpoint);
            using var accepted = listener.AcceptSocket();
            accepted.ReceiveBufferSize = 16 * 1024;
            listener.Stop();
            return CloseUnder(() => { client.Send(new byte[8 * 1024 * 1024]); return "sent"; }, client.Close);
        }));
    }

    /// <summary>5 plain threads each download and upload 2 MB through HttpClient against an HttpListener.</summary>
    private static void DiffP2HttpBigBodies()
    {
        int port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        const int Clients = 5, Size = 2 * 1024 * 1024;
        var server = new Thread(() =>
        {
            var handlers = new List<Thread>();
            for (int i = 0; i < Clients; i++)
            {
                var ctx = listener.GetContext();
                var h = new Thread(() =>
                {
                    using var response = ctx.Response;
                    var ms = new MemoryStream();
                    ctx.Request.InputStream.CopyTo(ms);
                    var body = ms.ToArray();
                    Array.Reverse(body);
                    response.ContentLength64 = body.Length;
                    response.OutputStream.Write(body);
                });
                handlers.Add(h);
                h.Start();
            }
            handlers.ForEach(h => h.Join());
        });
        server.Start();
        using var http = new HttpClient();
        var results = new ConcurrentBag<string>();
        var clients = Enumerable.Range(0, Clients).Select(i => new Thread(() =>
        {
            var data = new byte[Size];
            for (int j = 0; j < Size; j++) data[j] = (byte)(j * 7 + i);
            using var response = http.Send(new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/") { Content = new ByteArrayContent(data) });
            var back = response.Content.ReadAsByteArrayAsync().Result;
            Array.Reverse(back);
            results.Add($"{i}: {(int)response.StatusCode} {back.Length} {back.AsSpan().SequenceEqual(data)}");
        })).ToList();
        clients.ForEach(t => t.Start());
        clients.ForEach(t => t.Join());
        server.Join();
        Observe(string.Join("; ", results.Order(StringComparer.Ordinal)));
    }

    /// <summary>Socket.ReceiveFrom(Span, SocketFlags, SocketAddress) (.NET 8's allocation-free overload) waiting for a datagram after a green ReceiveFrom.</summary>
    private static void DiffP2ReceiveFromSocketAddress()
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var target = server.LocalEndPoint!;
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.SendTo("first"u8, target);
        var buf = new byte[64];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        int n = server.ReceiveFrom(buf, ref from);
        Observe($"ReceiveFrom: '{Encoding.ASCII.GetString(buf, 0, n)}'");
        var sender = new Thread(() =>
        {
            Thread.Sleep(20); // the receive waits first (see diff-p2-receivemessagefrom)
            client.SendTo("second"u8, SocketFlags.None, target.Serialize());
        });
        string outcome;
        try
        {
            sender.Start();
            var address = new SocketAddress(AddressFamily.InterNetwork);
            int m = server.ReceiveFrom(buf, SocketFlags.None, address);
            outcome = $"'{Encoding.ASCII.GetString(buf, 0, m)}'";
        }
        catch (SocketException e)
        {
            outcome = $"SocketException {e.SocketErrorCode}";
        }
        sender.Join();
        Observe($"ReceiveFrom(SocketAddress): {outcome}");
    }

    /// <summary>Socket.Send(IList&lt;ArraySegment&gt;, SocketFlags, out SocketError) of 8 MB to a peer reading on another thread.</summary>
    private static void DiffP2GatherSendErrorCode()
    {
        var listener = Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndpoint);
        using var accepted = listener.AcceptSocket();
        listener.Stop();
        client.Send("hi"u8); // an ordinary send first
        long total = 0;
        var reader = new Thread(() =>
        {
            var buf = new byte[64 * 1024];
            int n;
            while ((n = accepted.Receive(buf)) > 0) total += n;
        });
        reader.Start();
        var segments = Enumerable.Range(0, 8).Select(_ => new ArraySegment<byte>(new byte[1024 * 1024])).ToList();
        int sent = client.Send(segments, SocketFlags.None, out var error);
        client.Shutdown(SocketShutdown.Send);
        reader.Join();
        Observe($"gather send: {sent} {error}; peer read {total}");
    }

    /// <summary>
    /// One thread blocked in Receive while another polls the same socket for reading with a timeout (a health check):
    /// unpatched the poll waits and sees the data; patched it once counted as a second reader and threw
    /// InvalidOperationException (the one-waiter guard). Two bytes arrive and the receive takes one, so the poll sees data
    /// whichever of the two the arrival wakes first (with one byte, a native poll that looked after the receive took it
    /// waited on and said False: seen once in the whole suite's run).
    /// </summary>
    private static void DiffP2PollBesideReceive()
    {
        var listener = Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndpoint);
        using var accepted = listener.AcceptSocket();
        listener.Stop();
        int received = -1;
        var reader = new Thread(() => received = client.Receive(new byte[1]));
        reader.Start();
        string polled;
        var sender = new Thread(() =>
        {
            Thread.Sleep(50);
            accepted.Send("xy"u8);
        });
        sender.Start();
        Thread.Sleep(10); // the reader waits first
        try { polled = $"Poll {client.Poll(2_000_000, SelectMode.SelectRead)}"; }
        catch (InvalidOperationException) { polled = "InvalidOperationException"; }
        sender.Join();
        reader.Join();
        Observe($"{polled}; reader got {received}");
    }

    /// <summary>
    /// Another thread closes a socket while a Select (TCP and UDP sockets, read and error lists) and a Poll wait on it:
    /// .NET reports the closed socket ready (readable; an error too for TCP, whose close resets the connection).
    /// </summary>
    private static void DiffP2SelectClosedDuring()
    {
        var listener = Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndpoint);
        var accepted = listener.AcceptSocket();
        listener.Stop();
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var closer = new Thread(() =>
        {
            Thread.Sleep(100);
            accepted.Dispose();
        });
        closer.Start();
        var read = new List<Socket> { accepted, udp };
        var error = new List<Socket> { accepted, udp };
        Socket.Select(read, null, error, 5_000_000);
        closer.Join();
        string Names(List<Socket> l) => string.Join(",", l.Select(x => x == udp ? "udp" : "tcp"));
        Observe($"select: read {Names(read)}; error {Names(error)}");
        string again;
        try { Socket.Select(new List<Socket> { accepted, udp }, null, null, 1000); again = "no exception"; }
        catch (ObjectDisposedException) { again = "ObjectDisposedException"; }
        Observe($"select of the closed socket: {again}");
        var udp2 = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp2.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var closer2 = new Thread(() =>
        {
            Thread.Sleep(100);
            udp2.Dispose();
        });
        closer2.Start();
        Observe($"poll(read) of a UDP socket closed meanwhile: {udp2.Poll(5_000_000, SelectMode.SelectRead)}");
        closer2.Join();
    }
}
