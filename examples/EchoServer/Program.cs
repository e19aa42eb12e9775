// A thread-per-connection echo server written in plain blocking style with GreenSocket calls: one green
// thread accepts, one green thread serves each client. Under Hub.Run every blocking call parks only its
// green thread, so thousands of clients share the hub as eventlet's `eventlet.serve` does.
//
//   dotnet run --project examples/EchoServer -- [--port N]   serve on 127.0.0.1:N (default 9000); prints READY
//   dotnet run --project examples/EchoServer -- --demo       serve, run 100 green clients x 100 round trips, print a summary, exit
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Evergreen;
using Evergreen.IO;

int port = 9000;
bool demo = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], out var p): port = p; i++; break;
        case "--demo": demo = true; break;
        default:
            Console.Error.WriteLine("usage: EchoServer [--port N] [--demo]");
            return 2;
    }
}

return Hub.Run(() =>
{
    var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
    listener.Bind(new IPEndPoint(IPAddress.Loopback, demo ? 0 : port));
    listener.Listen(4096);
    var endPoint = (IPEndPoint)listener.LocalEndPoint!;
    var server = Green.Spawn(() => AcceptLoop(listener), "accept");
    if (!demo)
    {
        Console.WriteLine($"READY {endPoint}");
        server.Wait();
        return 0;
    }
    int code = Demo(endPoint, clients: 100, roundTrips: 100, size: 64);
    GreenSocket.Close(listener); // the accept loop wakes with Interrupted and ends
    server.Wait();
    return code;
});

static void AcceptLoop(Socket listener)
{
    while (true)
    {
        Socket client;
        try
        {
            client = GreenSocket.Accept(listener);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.Interrupted)
        {
            return; // listener closed
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        client.NoDelay = true;
        Green.Spawn(() => Serve(client));
    }
}

static void Serve(Socket client)
{
    var buffer = new byte[4096];
    try
    {
        int n;
        while ((n = GreenSocket.Receive(client, buffer)) > 0)
            GreenSocket.Send(client, buffer, 0, n, SocketFlags.None);
    }
    catch (SocketException)
    {
        // a client that resets is just gone
    }
    finally
    {
        GreenSocket.Close(client);
    }
}

static int Demo(IPEndPoint server, int clients, int roundTrips, int size)
{
    var sw = Stopwatch.StartNew();
    var threads = Enumerable.Range(0, clients).Select(id => Green.Spawn(() =>
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        GreenSocket.Connect(s, server);
        var msg = new byte[size];
        for (int k = 0; k < size; k++) msg[k] = (byte)('a' + (id + k) % 26);
        var back = new byte[size];
        int ok = 0;
        for (int i = 0; i < roundTrips; i++)
        {
            GreenSocket.Send(s, msg);
            for (int got = 0; got < size;)
            {
                int n = GreenSocket.Receive(s, back, got, size - got, SocketFlags.None);
                if (n == 0) throw new EndOfStreamException("server closed the connection");
                got += n;
            }
            if (back.AsSpan().SequenceEqual(msg)) ok++;
        }
        GreenSocket.Close(s);
        return ok;
    }, $"client-{id}")).ToList();
    int good = threads.Sum(t => t.Wait());
    sw.Stop();
    int total = clients * roundTrips;
    Console.WriteLine($"echo demo: {clients} green clients x {roundTrips} round trips of {size} B = {good}/{total} ok " +
                      $"in {sw.Elapsed.TotalMilliseconds:0} ms, {good / sw.Elapsed.TotalSeconds:0} msgs/s");
    return good == total ? 0 : 1;
}
