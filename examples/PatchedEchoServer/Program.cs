// The thread-per-connection echo server in plain BCL code — TcpListener, one `new Thread` per client, blocking
// Socket.Receive/Send — made green by one line at the top of Main. The same protocol as examples/EchoServer
// (echo whatever arrives), which writes the same server against the explicit GreenSocket API.
//
//   dotnet run --project examples/PatchedEchoServer -c Release -- [--port N]   serve on 127.0.0.1:N (default 9000); prints READY
//
// EVERGREEN_NO_PATCH=1 runs the very same binary unpatched (one OS thread per client) for comparison.
using System.Net;
using System.Net.Sockets;
using Evergreen.Patching;

// Not under Evergreen.*: this program is plain BCL code that sees nothing of Evergreen but Patcher.
namespace PatchedEchoServerExample;

internal static class Program
{
    private static int Main(string[] args)
    {
        Patcher.MonkeyPatch(); // must be the first line: Main runs again from here, green

        int port = 9000;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--port" && i + 1 < args.Length && int.TryParse(args[i + 1], out int p)) { port = p; i++; }
            else
            {
                Console.Error.WriteLine("usage: PatchedEchoServer [--port N]");
                return 2;
            }
        }

        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start(4096);
        Console.WriteLine($"READY {listener.LocalEndpoint} (patched: {Patcher.IsMonkeyPatched("socket")})");

        while (true)
        {
            Socket client = listener.AcceptSocket();
            client.NoDelay = true;
            new Thread(() => Serve(client)) { IsBackground = true }.Start();
        }
    }

    private static void Serve(Socket client)
    {
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = client.Receive(buffer)) > 0)
                client.Send(buffer, 0, n, SocketFlags.None);
        }
        catch (SocketException)
        {
            // a client that resets is just gone
        }
        finally
        {
            client.Dispose();
        }
    }
}
