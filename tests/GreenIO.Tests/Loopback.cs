using System.Net;
using System.Net.Sockets;

namespace Evergreen.IO.Tests;

/// <summary>Helpers for green client/server pairs on 127.0.0.1 with kernel-chosen ports.</summary>
internal static class Loopback
{
    public static Socket Listen(int backlog = 512)
    {
        var l = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        l.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        l.Listen(backlog);
        return l;
    }

    public static Socket NewTcp() => new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    /// <summary>A connected pair (client, server side), made greenly on the calling green thread.</summary>
    public static (Socket Client, Socket Server) Pair()
    {
        using var l = Listen();
        var c = NewTcp();
        GreenSocket.Connect(c, l.LocalEndPoint!);
        var a = GreenSocket.Accept(l);
        GreenSocket.Close(l);
        return (c, a);
    }

    public static void ReadExactly(Socket s, Span<byte> buffer)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = GreenSocket.Receive(s, buffer.Slice(got));
            if (n == 0) throw new EndOfStreamException($"EOF after {got} of {buffer.Length} bytes");
            got += n;
        }
    }

    /// <summary>Parks the caller (by yielding) until a green thread is waiting on <paramref name="s"/>.</summary>
    public static void UntilWaiting(Socket s, bool read = true)
    {
        for (int i = 0; !GreenSocket.HasWaiter(s, read); i++)
        {
            if (i > 10_000) throw new InvalidOperationException("No green thread started waiting on the socket.");
            Green.Sleep(0);
        }
    }

    /// <summary>Yields until a green thread is parked in Poll or Select watching <paramref name="s"/>.</summary>
    public static void UntilWatched(Socket s)
    {
        for (int i = 0; !GreenSocket.HasWatcher(s); i++)
        {
            if (i > 10_000) throw new InvalidOperationException("No green thread started watching the socket.");
            Green.Sleep(0);
        }
    }

    /// <summary>Yields until <paramref name="s"/> has bytes to read (checked with FIONREAD, which does not consume).</summary>
    public static void UntilReadable(Socket s)
    {
        for (int i = 0; s.Available == 0; i++)
        {
            if (i > 100_000) throw new InvalidOperationException("No data arrived on the socket.");
            Green.Sleep(0);
        }
    }
}
