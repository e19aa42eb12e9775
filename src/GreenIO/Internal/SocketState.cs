using Evergreen.Internal;

namespace Evergreen.IO.Internal;

/// <summary>
/// What the green layer remembers about one socket it has taken over: its fd, the blocking mode the user
/// asked for (the OS socket is non-blocking while green code uses it), and who is waiting on it. Touched
/// only by the baton holder, except <see cref="Closed"/> (set by any closer).
/// </summary>
internal sealed class SocketState(System.Net.Sockets.Socket s)
{
    /// <summary>The fd at take-over; stable while the socket is open.</summary>
    public readonly int Fd = SocketFields.Fd(s);

    /// <summary>The blocking mode the user sees and gets (true unless they chose non-blocking).</summary>
    public bool UserBlocking = true;

    /// <summary>A TCP socket: a read that returns less than asked has drained the receive queue (the urgent mark aside).</summary>
    public readonly bool Tcp = s.ProtocolType == System.Net.Sockets.ProtocolType.Tcp;

    /// <summary>
    /// Several green threads may wait to read (or write) at once (eventlet's hub_prevent_multiple_readers(False)); the
    /// default under the monkey patch (<see cref="IoPatchSeam.SharedWaiters"/>).
    /// </summary>
    public bool AllowConcurrent = IoPatchSeam.SharedWaiters;

    /// <summary>
    /// A message socket (datagram, seqpacket, raw): each receive or send moves one whole message, so several green threads
    /// waiting on it at once cannot interleave anything and share it as .NET lets threads share it (a pool of UDP receivers).
    /// </summary>
    public readonly bool Messages = s.SocketType is System.Net.Sockets.SocketType.Dgram or System.Net.Sockets.SocketType.Seqpacket
        or System.Net.Sockets.SocketType.Raw or System.Net.Sockets.SocketType.Rdm;

    /// <summary>Closed through <see cref="GreenSocket.Close(System.Net.Sockets.Socket)"/>; waiters must not retry.</summary>
    public volatile bool Closed;

    /// <summary>The green thread parked in the hub for each direction, if any.</summary>
    public GreenThread? Reader, Writer;

    /// <summary>Extra waiters when <see cref="AllowConcurrent"/> is set; woken whenever the parked one wakes.</summary>
    public WaitList? ExtraReaders, ExtraWriters;

    /// <summary>The socket (its state is kept beside it in a ConditionalWeakTable, so this keeps nothing alive longer).</summary>
    public readonly System.Net.Sockets.Socket Socket = s;

    /// <summary>Type, endpoints and fd: how the thread dump names the socket a green thread waits on.</summary>
    public override string ToString() => GreenSocket.Describe(Socket, this);
}
