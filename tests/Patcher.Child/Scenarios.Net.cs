using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Evergreen;

// TLS and HTTP client code, unchanged, over the patched sockets.
internal static partial class Scenarios
{
    /// <summary>A self-signed certificate made here; on Linux SslStream needs the key through a PFX round trip.</summary>
    private static X509Certificate2 SelfSigned(string cn)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=" + cn, key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(cn);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var ephemeral = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), null);
    }

    /// <summary>
    /// SslStream over a patched TcpListener/TcpClient, thread per connection: the handshakes interleave greenly, all N
    /// server threads wait in SslStream.Read at once, and every message is echoed intact.
    /// </summary>
    private static void SslGreen()
    {
        const int N = 10;
        using var cert = SelfSigned("localhost");
        string thumbprint = cert.GetCertHashString();
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        int waitingInRead = 0, maxWaiting = 0;
        var allWaiting = new Evergreen.Event();
        var serverThreads = new List<Thread>();
        var acceptor = new Thread(() =>
        {
            for (int i = 0; i < N; i++)
            {
                var conn = listener.AcceptTcpClient();
                var t = new Thread(() =>
                {
                    using var ssl = new SslStream(conn.GetStream());
                    ssl.AuthenticateAsServer(cert, clientCertificateRequired: false, checkCertificateRevocation: false);
                    var buf = new byte[256];
                    waitingInRead++; maxWaiting = Math.Max(maxWaiting, waitingInRead);
                    if (waitingInRead == N) allWaiting.Send(); // the clients write only after this thread blocks in Read
                    int n = ssl.Read(buf, 0, buf.Length);
                    waitingInRead--;
                    ssl.Write(buf, 0, n);
                    ssl.Flush();
                    conn.Dispose();
                });
                serverThreads.Add(t);
                t.Start();
            }
        });
        acceptor.Start();
        var echoed = new string?[N];
        var clients = new List<Thread>();
        for (int i = 0; i < N; i++)
        {
            int id = i;
            var t = new Thread(() =>
            {
                using var tcp = new TcpClient();
                tcp.Connect(IPAddress.Loopback, port);
                using var ssl = new SslStream(tcp.GetStream(), false, (_, c, _, _) => c != null && c.GetCertHashString() == thumbprint);
                ssl.AuthenticateAsClient("localhost");
                allWaiting.Wait();
                var msg = Encoding.ASCII.GetBytes($"hello over tls #{id}");
                ssl.Write(msg);
                ssl.Flush();
                var got = new byte[msg.Length];
                int have = 0;
                while (have < got.Length)
                {
                    int n = ssl.Read(got, have, got.Length - have);
                    if (n == 0) break;
                    have += n;
                }
                echoed[id] = Encoding.ASCII.GetString(got, 0, have);
            });
            clients.Add(t);
            t.Start();
        }
        foreach (var t in clients) t.Join();
        acceptor.Join();
        foreach (var t in serverThreads) t.Join();
        listener.Stop();
        for (int i = 0; i < N; i++) Check(echoed[i] == $"hello over tls #{i}", $"echo {i}: '{echoed[i]}'");
        Check(maxWaiting == N, $"all {N} server threads waited in SslStream.Read at once (max {maxWaiting})");
    }

    /// <summary>
    /// HttpClient.Send (the synchronous API) from 20 plain threads against a thread-per-connection HTTP/1.1 server in
    /// this process that holds every response until all 20 requests have arrived: they can only complete if all 20
    /// Sends are in flight at once.
    /// </summary>
    private static void HttpSendGreen()
    {
        const int N = 20;
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        int arrived = 0, maxArrivedBeforeFirstResponse = 0;
        var allArrived = new Evergreen.Event();
        var serverThreads = new List<Thread>();
        var acceptor = new Thread(() =>
        {
            for (int i = 0; i < N; i++)
            {
                var conn = listener.AcceptTcpClient();
                var t = new Thread(() => ServeOne(conn));
                serverThreads.Add(t);
                t.Start();
            }
        });

        void ServeOne(TcpClient conn)
        {
            using var _ = conn;
            var s = conn.GetStream();
            var head = new StringBuilder();
            var buf = new byte[1024];
            while (!head.ToString().Contains("\r\n\r\n"))
            {
                int n = s.Read(buf, 0, buf.Length);
                if (n == 0) throw new IOException("client closed before the request head ended");
                head.Append(Encoding.ASCII.GetString(buf, 0, n));
            }
            string path = head.ToString().Split(' ')[1];
            arrived++;
            if (arrived == N) { maxArrivedBeforeFirstResponse = arrived; allArrived.Send(); }
            allArrived.Wait(); // hold the response until every request is here
            var body = Encoding.UTF8.GetBytes("you asked for " + path);
            var resp = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
            s.Write(resp);
            s.Write(body);
        }

        acceptor.Start();
        // Safety bound only: if the Sends could not overlap, the server would never answer and this ends the run.
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var bodies = new string?[N];
        var statuses = new HttpStatusCode[N];
        var errors = new string?[N];
        int inFlight = 0, maxInFlight = 0;
        var clients = new List<Thread>();
        for (int i = 0; i < N; i++)
        {
            int id = i;
            var t = new Thread(() =>
            {
                try
                {
                    using var req = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/item/{id}");
                    req.Headers.ConnectionClose = true;
                    inFlight++; maxInFlight = Math.Max(maxInFlight, inFlight);
                    using var resp = client.Send(req, HttpCompletionOption.ResponseContentRead);
                    inFlight--;
                    statuses[id] = resp.StatusCode;
                    using var reader = new StreamReader(resp.Content.ReadAsStream());
                    bodies[id] = reader.ReadToEnd();
                }
                catch (Exception ex)
                {
                    errors[id] = ex.GetType().Name + ": " + ex.Message;
                }
            });
            clients.Add(t);
            t.Start();
        }
        foreach (var t in clients) t.Join();
        acceptor.Join();
        foreach (var t in serverThreads) t.Join();
        listener.Stop();
        for (int i = 0; i < N; i++)
        {
            Check(errors[i] == null, $"request {i} failed: {errors[i]}");
            Check(statuses[i] == HttpStatusCode.OK && bodies[i] == $"you asked for /item/{i}", $"response {i}: {statuses[i]} '{bodies[i]}'");
        }
        Check(maxArrivedBeforeFirstResponse == N, $"the server saw all {N} requests before answering any ({maxArrivedBeforeFirstResponse})");
        Check(maxInFlight == N, $"all {N} Sends were in flight at once (max {maxInFlight})");
    }

    /// <summary>
    /// Every Dns.GetHostEntry overload resolves on a tpool thread while the hub keeps running: a green ticker that only
    /// yields advances during each call (a call blocking natively would hold the baton, and the count would not move).
    /// </summary>
    private static void DnsHostEntryGreen()
    {
        long ticks = 0;
        bool done = false;
        var ticker = new Thread(() => { while (!done) { ticks++; Thread.Sleep(0); } });
        ticker.Start();
        Thread.Sleep(0);
        void Resolves(string what, Func<IPHostEntry> resolve)
        {
            long before = ticks;
            IPHostEntry? entry = null;
            try { entry = resolve(); }
            catch (SocketException) when (what.Contains("IPAddress")) { } // no reverse entry for 127.0.0.1 here: still resolved green
            Check(ticks > before, $"{what}: the green ticker did not run while it resolved (the hub was blocked)");
            Check(entry == null || entry.AddressList.Any(IPAddress.IsLoopback), $"{what}: no loopback address in [{string.Join(", ", entry!.AddressList.Select(a => a.ToString()))}]");
        }
        Resolves("GetHostEntry(string)", () => Dns.GetHostEntry("localhost"));
        Resolves("GetHostEntry(string, AddressFamily)", () => Dns.GetHostEntry("localhost", AddressFamily.InterNetwork));
        Resolves("GetHostEntry(IPAddress)", () => Dns.GetHostEntry(IPAddress.Loopback));
        Check(Evergreen.IO.Tpool.Threads > 0, "no tpool thread was started");
        done = true;
        ticker.Join();
    }
}
