using System.Collections;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using static Evergreen.Detours.Child.Probe;

namespace Evergreen.Detours.Child;

/// <summary>Socket Accept/Connect/Send/Receive/SendTo/ReceiveFrom/Poll/Select over loopback.</summary>
internal static unsafe partial class Cases
{
    private static Loopback? s_loopback;
    private static readonly Socket s_unconnected = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    private static Loopback L => s_loopback ??= new Loopback();

    // ---- Accept() ----
    private static delegate*<Socket, Socket> s_accept;

    private static Socket AcceptReplacement(Socket listener)
    {
        Hit();
        return PassThrough ? s_accept(listener) : null!;
    }

    private static void ConnectAndAccept()
    {
        using var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        c.Connect(L.ListenerEndPoint);
        if (!PassThrough)
        {
            L.Listener.Accept();
            return;
        }

        using var a = L.Listener.Accept();
    }

    private static Case SocketAccept() => new()
    {
        Name = "socket-accept",
        Detours = [(M(typeof(Socket), "Accept"), R(nameof(AcceptReplacement)), p => s_accept = (delegate*<Socket, Socket>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => ConnectAndAcceptDirect(),
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () =>
        {
            using var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            c.Connect(L.ListenerEndPoint);
            using var a = L.Listener.Accept();
        },
        Framework = static () =>
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            using var c = new TcpClient();
            c.Connect((IPEndPoint)listener.LocalEndpoint);
            using var a = listener.AcceptSocket();
            listener.Stop();
        },
        Call = static () =>
        {
            if (!PassThrough)
            {
                L.Listener.Accept();
                return;
            }

            ConnectAndAccept();
        },
        Original = static () =>
        {
            using var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            c.Connect(L.ListenerEndPoint);
            using var a = L.Listener.Accept();
            Check(a.RemoteEndPoint!.Equals(c.LocalEndPoint), "accepted socket is not the connected client");
        },
    };

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ConnectAndAcceptDirect()
    {
        using var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        c.Connect(L.ListenerEndPoint);
        using var a = L.Listener.Accept();
    }

    // ---- Connect(EndPoint) ----
    private static delegate*<Socket, EndPoint, void> s_connect;

    private static void ConnectReplacement(Socket socket, EndPoint remote)
    {
        Hit();
        if (PassThrough)
        {
            s_connect(socket, remote);
        }
    }

    private static Case SocketConnect() => new()
    {
        Name = "socket-connect",
        Detours = [(M(typeof(Socket), "Connect", typeof(EndPoint)), R(nameof(ConnectReplacement)), p => s_connect = (delegate*<Socket, EndPoint, void>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => ConnectAndAcceptDirect(),
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () =>
        {
            using var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            c.Connect(L.ListenerEndPoint);
            using var a = L.Listener.Accept();
        },
        Framework = static () =>
        {
            using var c = new TcpClient();
            c.Connect(L.ListenerEndPoint);
            using var a = L.Listener.Accept();
        },
        Call = static () =>
        {
            if (!PassThrough)
            {
                s_unconnected.Connect(L.ListenerEndPoint);
                return;
            }

            ConnectAndAcceptDirect();
        },
        Original = static () =>
        {
            using var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            c.Connect(L.ListenerEndPoint);
            using var a = L.Listener.Accept();
            Check(c.Connected && a.RemoteEndPoint!.Equals(c.LocalEndPoint), "connect did not connect");
        },
    };

    // ---- Send(ReadOnlySpan<byte>, SocketFlags, out SocketError) ----
    private static delegate*<Socket, ReadOnlySpan<byte>, SocketFlags, out SocketError, int> s_send;

    private static int SendReplacement(Socket socket, ReadOnlySpan<byte> buffer, SocketFlags flags, out SocketError error)
    {
        Hit();
        if (!PassThrough)
        {
            error = SocketError.Success;
            return buffer.Length;
        }

        return s_send(socket, buffer, flags, out error);
    }

    private static readonly byte[] s_one = [42];

    private static void SendOneReceiveOne()
    {
        L.Client.Send(s_one.AsSpan(), SocketFlags.None, out _);
        Span<byte> got = stackalloc byte[1];
        if (PassThrough)
        {
            L.Server.Receive(got, SocketFlags.None, out _);
        }
    }

    private static Case SocketSend() => new()
    {
        Name = "socket-send",
        Detours = [(M(typeof(Socket), "Send", typeof(ReadOnlySpan<byte>), typeof(SocketFlags), typeof(SocketError).MakeByRefType()), R(nameof(SendReplacement)),
            p => s_send = (delegate*<Socket, ReadOnlySpan<byte>, SocketFlags, out SocketError, int>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => SendOneReceiveOne(),
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () =>
        {
            L.Client.Send(s_one.AsSpan(), SocketFlags.None, out _);
            Span<byte> got = stackalloc byte[1];
            L.Server.Receive(got, SocketFlags.None, out _);
        },
        Framework = static () =>
        {
            using var stream = new NetworkStream(L.Client, ownsSocket: false);
            stream.Write(s_one.AsSpan());
            Span<byte> got = stackalloc byte[1];
            L.Server.Receive(got, SocketFlags.None, out _);
        },
        Call = SendOneReceiveOne,
        Original = static () => RoundTrip(),
    };

    private static void RoundTrip()
    {
        byte[] message = "hello, loopback"u8.ToArray();
        int sent = L.Client.Send(message.AsSpan(), SocketFlags.None, out var sendError);
        Check(sent == message.Length && sendError == SocketError.Success, $"sent {sent} ({sendError})");
        var got = new byte[message.Length];
        int total = 0;
        while (total < got.Length)
        {
            int n = L.Server.Receive(got.AsSpan(total), SocketFlags.None, out var receiveError);
            Check(n > 0 && receiveError == SocketError.Success, $"receive returned {n} ({receiveError})");
            total += n;
        }

        Check(got.AsSpan().SequenceEqual(message), "received bytes differ from the sent ones");
    }

    // ---- Receive(Span<byte>, SocketFlags, out SocketError) ----
    private static delegate*<Socket, Span<byte>, SocketFlags, out SocketError, int> s_receive;

    private static int ReceiveReplacement(Socket socket, Span<byte> buffer, SocketFlags flags, out SocketError error)
    {
        Hit();
        if (!PassThrough)
        {
            error = SocketError.Success;
            return 0;
        }

        return s_receive(socket, buffer, flags, out error);
    }

    private static Case SocketReceive() => new()
    {
        Name = "socket-receive",
        Detours = [(M(typeof(Socket), "Receive", typeof(Span<byte>), typeof(SocketFlags), typeof(SocketError).MakeByRefType()), R(nameof(ReceiveReplacement)),
            p => s_receive = (delegate*<Socket, Span<byte>, SocketFlags, out SocketError, int>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () =>
        {
            L.Client.Send(s_one);
            Span<byte> got = stackalloc byte[1];
            L.Server.Receive(got, SocketFlags.None, out _);
        },
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () =>
        {
            L.Client.Send(s_one);
            Span<byte> got = stackalloc byte[1];
            L.Server.Receive(got, SocketFlags.None, out _);
        },
        Framework = static () =>
        {
            L.Client.Send(s_one);
            using var stream = new NetworkStream(L.Server, ownsSocket: false);
            Span<byte> got = stackalloc byte[1];
            stream.ReadExactly(got);
        },
        Call = static () =>
        {
            Span<byte> got = stackalloc byte[1];
            if (PassThrough)
            {
                L.Client.Send(s_one);
            }

            L.Server.Receive(got, SocketFlags.None, out _);
        },
        Original = static () => RoundTrip(),
    };

    // ---- SendTo(byte[], int, int, SocketFlags, EndPoint) ----
    private static delegate*<Socket, byte[], int, int, SocketFlags, EndPoint, int> s_sendTo;

    private static int SendToReplacement(Socket socket, byte[] buffer, int offset, int size, SocketFlags flags, EndPoint remote)
    {
        Hit();
        return PassThrough ? s_sendTo(socket, buffer, offset, size, flags, remote) : size;
    }

    private static void DatagramOne()
    {
        L.UdpA.SendTo(s_one, 0, 1, SocketFlags.None, L.UdpB.LocalEndPoint!);
        if (PassThrough)
        {
            var buffer = new byte[16];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            L.UdpB.ReceiveFrom(buffer, 0, buffer.Length, SocketFlags.None, ref from);
        }
    }

    private static Case SocketSendTo() => new()
    {
        Name = "socket-sendto",
        Detours = [(M(typeof(Socket), "SendTo", typeof(byte[]), typeof(int), typeof(int), typeof(SocketFlags), typeof(EndPoint)), R(nameof(SendToReplacement)),
            p => s_sendTo = (delegate*<Socket, byte[], int, int, SocketFlags, EndPoint, int>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => DatagramOne(),
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () =>
        {
            L.UdpA.SendTo(s_one, 0, 1, SocketFlags.None, L.UdpB.LocalEndPoint!);
            var buffer = new byte[16];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            L.UdpB.ReceiveFrom(buffer, 0, buffer.Length, SocketFlags.None, ref from);
        },
        Framework = static () =>
        {
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            udp.Send(s_one, 1, (IPEndPoint)L.UdpB.LocalEndPoint!);
            var buffer = new byte[16];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            L.UdpB.ReceiveFrom(buffer, 0, buffer.Length, SocketFlags.None, ref from);
        },
        Call = DatagramOne,
        Original = static () => DatagramRoundTrip(),
    };

    private static void DatagramRoundTrip()
    {
        byte[] message = "datagram"u8.ToArray();
        int sent = L.UdpA.SendTo(message, 0, message.Length, SocketFlags.None, L.UdpB.LocalEndPoint!);
        Check(sent == message.Length, $"sent {sent}");
        var buffer = new byte[64];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        int n = L.UdpB.ReceiveFrom(buffer, 0, buffer.Length, SocketFlags.None, ref from);
        Check(buffer.AsSpan(0, n).SequenceEqual(message) && from.Equals(L.UdpA.LocalEndPoint), "datagram differs or came from elsewhere");
    }

    // ---- ReceiveFrom(byte[], int, int, SocketFlags, ref EndPoint) ----
    private static delegate*<Socket, byte[], int, int, SocketFlags, ref EndPoint, int> s_receiveFrom;

    private static int ReceiveFromReplacement(Socket socket, byte[] buffer, int offset, int size, SocketFlags flags, ref EndPoint remote)
    {
        Hit();
        return PassThrough ? s_receiveFrom(socket, buffer, offset, size, flags, ref remote) : 0;
    }

    private static Case SocketReceiveFrom() => new()
    {
        Name = "socket-receivefrom",
        Detours = [(M(typeof(Socket), "ReceiveFrom", typeof(byte[]), typeof(int), typeof(int), typeof(SocketFlags), typeof(EndPoint).MakeByRefType()), R(nameof(ReceiveFromReplacement)),
            p => s_receiveFrom = (delegate*<Socket, byte[], int, int, SocketFlags, ref EndPoint, int>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => DatagramOne(),
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () =>
        {
            L.UdpA.SendTo(s_one, 0, 1, SocketFlags.None, L.UdpB.LocalEndPoint!);
            var buffer = new byte[16];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            L.UdpB.ReceiveFrom(buffer, 0, buffer.Length, SocketFlags.None, ref from);
        },
        Framework = static () =>
        {
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
            L.UdpA.SendTo(s_one, 0, 1, SocketFlags.None, udp.Client.LocalEndPoint!);
            IPEndPoint? from = null;
            udp.Receive(ref from);
        },
        Call = static () =>
        {
            if (!PassThrough)
            {
                var buffer = new byte[1];
                EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                L.UdpB.ReceiveFrom(buffer, 0, 1, SocketFlags.None, ref from);
                return;
            }

            DatagramOne();
        },
        Original = static () => DatagramRoundTrip(),
    };

    // ---- Poll(int, SelectMode) ----
    private static delegate*<Socket, int, SelectMode, bool> s_poll;

    private static bool PollReplacement(Socket socket, int microseconds, SelectMode mode)
    {
        Hit();
        return PassThrough && s_poll(socket, microseconds, mode);
    }

    private static Case SocketPoll() => new()
    {
        Name = "socket-poll",
        Detours = [(M(typeof(Socket), "Poll", typeof(int), typeof(SelectMode)), R(nameof(PollReplacement)), p => s_poll = (delegate*<Socket, int, SelectMode, bool>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => L.Client.Poll(0, SelectMode.SelectWrite),
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () => L.Client.Poll(0, SelectMode.SelectWrite),
        Call = static () => L.Client.Poll(0, SelectMode.SelectWrite),
        Original = static () =>
        {
            Check(!L.Server.Poll(0, SelectMode.SelectRead), "server readable with nothing sent");
            L.Client.Send(s_one);
            Check(L.Server.Poll(-1, SelectMode.SelectRead), "server not readable after a send");
            L.Server.Receive(new byte[1]);
        },
    };

    // ---- Select(IList, IList, IList, int) ----
    private static delegate*<IList?, IList?, IList?, int, void> s_select;

    private static void SelectReplacement(IList? read, IList? write, IList? error, int microseconds)
    {
        Hit();
        if (PassThrough)
        {
            s_select(read, write, error, microseconds);
        }
    }

    private static Case SocketSelect() => new()
    {
        Name = "socket-select",
        Detours = [(M(typeof(Socket), "Select", typeof(IList), typeof(IList), typeof(IList), typeof(int)), R(nameof(SelectReplacement)),
            p => s_select = (delegate*<IList?, IList?, IList?, int, void>)p)],
        Before = [MethodImpl(MethodImplOptions.NoInlining)] static () => Socket.Select(null, new List<Socket> { L.Client }, null, 0),
        AfterOptimized = [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] static () => Socket.Select(null, new List<Socket> { L.Client }, null, 0),
        Call = static () => Socket.Select(null, new List<Socket> { L.Client }, null, 0),
        Original = static () =>
        {
            var idle = new List<Socket> { L.Server };
            Socket.Select(idle, null, null, 0);
            Check(idle.Count == 0, "idle server reported readable");
            L.Client.Send(s_one);
            var ready = new List<Socket> { L.Server };
            Socket.Select(ready, null, null, -1);
            Check(ready.Count == 1, "server not selected readable after a send");
            L.Server.Receive(new byte[1]);
        },
    };
}
