using System.Net;
using System.Net.Sockets;

namespace Evergreen.Detours.Child;

/// <summary>Connected TCP and UDP socket pairs on 127.0.0.1.</summary>
internal sealed class Loopback : IDisposable
{
    internal Loopback()
    {
        Listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Listener.Listen(16);
        Client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Client.Connect(Listener.LocalEndPoint!);
        Server = Listener.Accept();
        UdpA = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        UdpA.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        UdpB = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        UdpB.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    }

    internal Socket Listener { get; }

    internal Socket Client { get; }

    internal Socket Server { get; }

    internal Socket UdpA { get; }

    internal Socket UdpB { get; }

    internal IPEndPoint ListenerEndPoint => (IPEndPoint)Listener.LocalEndPoint!;

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
        Listener.Dispose();
        UdpA.Dispose();
        UdpB.Dispose();
    }
}
