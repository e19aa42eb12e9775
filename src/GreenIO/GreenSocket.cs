using System.Net.Sockets;
using Evergreen.IO.Internal;

namespace Evergreen.IO;

/// <summary>
/// Green versions of <see cref="Socket"/>'s blocking operations (eventlet.green.socket): one static function per
/// BCL member, taking the socket as its first parameter and otherwise mirroring the BCL signature, so that the
/// monkey patch can route each member here. On a green thread a blocking call parks only the calling green
/// thread on the hub's poller while other green threads run; the socket's <see cref="Socket.ReceiveTimeout"/> /
/// <see cref="Socket.SendTimeout"/> are honoured and every failure is the one .NET gives for a blocking socket.
/// On any other thread each function simply calls the BCL member (plain blocking behaviour). A green call holds a
/// <c>Hub.Enter</c> entry from its first touch of socket or hub state to its return (Hub.TakeBack.cs).
/// </summary>
/// <remarks>
/// While green code uses a socket the OS socket is non-blocking; the blocking mode the user asked for is
/// remembered (<see cref="GetBlocking"/>, <see cref="SetBlocking"/>). A socket the user made non-blocking gets one
/// attempt and .NET's <see cref="SocketError.WouldBlock"/>, as without patching. Called directly (no monkey patch), only
/// one green thread may wait to read (and one to write) a stream socket at a time unless
/// <see cref="AllowConcurrentWaiters"/> says otherwise (eventlet's guard: two readers of one byte stream get each other's
/// bytes); a second waiter gets <see cref="InvalidOperationException"/>. Under <c>Patcher.MonkeyPatch</c> every socket
/// allows concurrent waiters, as .NET does, served in arrival order. Any number may always wait in Accept on one
/// listener or on one datagram socket (each gets a whole connection or datagram), and in Poll or Select beside them.
/// </remarks>
public static unsafe partial class GreenSocket
{
    // ------------------------------------------------------------------------------------------
    // Receive
    // ------------------------------------------------------------------------------------------

    /// <summary>
    /// Receives into <paramref name="buffer"/> (<see cref="Socket.Receive(Span{byte}, SocketFlags, out SocketError)"/>):
    /// the core every Receive overload uses. On a green thread it parks the caller until data, EOF (0), an
    /// error, or the socket's <see cref="Socket.ReceiveTimeout"/> (<paramref name="errorCode"/> =
    /// <see cref="SocketError.TimedOut"/>). A close by another green thread meanwhile gives
    /// <see cref="SocketError.ConnectionAborted"/>, as .NET does on Linux for a blocking receive.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket was already closed.</exception>
    /// <exception cref="InvalidOperationException">Another green thread is already waiting to read the socket and concurrent waiters are not allowed (see <see cref="AllowConcurrentWaiters"/>).</exception>
    public static int Receive(Socket s, Span<byte> buffer, SocketFlags socketFlags, out SocketError errorCode)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (!NativeScope.GreenCaller)
        {
            RestoreForNative(s);
            return IoPatchSeam.Receive(s, buffer, socketFlags, out errorCode);
        }
        using var entry = Hub.Enter(out _);
        var st = Prepare(s);
        if (st == null) return IoPatchSeam.Receive(s, buffer, socketFlags, out errorCode);
        long deadline = 0;
        // A plain read of a TCP stream that the hub knows is drained (our last read came up short or said EAGAIN, and
        // the edge-triggered poller has reported nothing since) goes straight to the wait: the recv would only
        // say EAGAIN (one system call of the three an echo round trip made). TCP only: a Unix stream read can stop
        // short between two writers' messages (SO_PASSCRED) with data still queued; TCP's cases (the urgent mark, and
        // a read that also consumed the FIN or left a reset pending) are tracked by the hub from EPOLLPRI/RDHUP/ERR.
        bool track = st.Tcp && socketFlags == SocketFlags.None && buffer.Length > 0;
        var hub = Hub.Instance;
        while (true)
        {
            if (!track || hub.FdMayBeReadable(st.Fd))
            {
                int n = IoPatchSeam.Receive(s, buffer, socketFlags, out errorCode);
                if (errorCode != SocketError.WouldBlock)
                {
                    if (track && errorCode == SocketError.Success && n > 0 && n < buffer.Length) hub.FdDrained(st.Fd, shortRead: true);
                    return n;
                }
                if (track) hub.FdDrained(st.Fd);
            }
            errorCode = WaitReady(s, st, read: true, Remaining(ref deadline, s, receive: true), SocketError.ConnectionAborted, whole: st.Messages);
            if (errorCode != SocketError.Success) return 0;
            KeepNonBlocking(s);
        }
    }

    /// <summary>Green <see cref="Socket.Receive(Span{byte}, SocketFlags)"/>; see <see cref="Receive(Socket, Span{byte}, SocketFlags, out SocketError)"/>.</summary>
    /// <exception cref="SocketException">The receive failed (TimedOut, ConnectionReset, ConnectionAborted when closed meanwhile, ...).</exception>
    public static int Receive(Socket s, Span<byte> buffer, SocketFlags socketFlags)
    {
        int n = Receive(s, buffer, socketFlags, out var e);
        return e == SocketError.Success ? n : throw Error(e);
    }

    /// <summary>Green <see cref="Socket.Receive(Span{byte})"/>; see <see cref="Receive(Socket, Span{byte}, SocketFlags, out SocketError)"/>.</summary>
    /// <exception cref="SocketException">The receive failed.</exception>
    public static int Receive(Socket s, Span<byte> buffer) => Receive(s, buffer, SocketFlags.None);

    /// <summary>Green <see cref="Socket.Receive(byte[], int, int, SocketFlags, out SocketError)"/>; see <see cref="Receive(Socket, Span{byte}, SocketFlags, out SocketError)"/>.</summary>
    public static int Receive(Socket s, byte[] buffer, int offset, int size, SocketFlags socketFlags, out SocketError errorCode) =>
        Receive(s, Slice(buffer, offset, size), socketFlags, out errorCode);

    /// <summary>Green <see cref="Socket.Receive(byte[], int, int, SocketFlags)"/>; see <see cref="Receive(Socket, Span{byte}, SocketFlags, out SocketError)"/>.</summary>
    /// <exception cref="SocketException">The receive failed.</exception>
    public static int Receive(Socket s, byte[] buffer, int offset, int size, SocketFlags socketFlags) =>
        Receive(s, Slice(buffer, offset, size), socketFlags);

    /// <summary>Green <see cref="Socket.Receive(byte[], int, SocketFlags)"/>; see <see cref="Receive(Socket, Span{byte}, SocketFlags, out SocketError)"/>.</summary>
    /// <exception cref="SocketException">The receive failed.</exception>
    public static int Receive(Socket s, byte[] buffer, int size, SocketFlags socketFlags) =>
        Receive(s, Slice(buffer, 0, size), socketFlags);

    /// <summary>Green <see cref="Socket.Receive(byte[], SocketFlags)"/>; see <see cref="Receive(Socket, Span{byte}, SocketFlags, out SocketError)"/>.</summary>
    /// <exception cref="SocketException">The receive failed.</exception>
    public static int Receive(Socket s, byte[] buffer, SocketFlags socketFlags) =>
        Receive(s, Slice(buffer, 0, buffer?.Length ?? 0), socketFlags);

    /// <summary>Green <see cref="Socket.Receive(byte[])"/>; see <see cref="Receive(Socket, Span{byte}, SocketFlags, out SocketError)"/>.</summary>
    /// <exception cref="SocketException">The receive failed.</exception>
    public static int Receive(Socket s, byte[] buffer) => Receive(s, buffer, SocketFlags.None);

    /// <summary>
    /// Green <see cref="Socket.Receive(IList{ArraySegment{byte}}, SocketFlags, out SocketError)"/>: a scatter read
    /// (one recvmsg filling the segments in order) that parks the green thread until data, EOF (0), an error or the
    /// socket's <see cref="Socket.ReceiveTimeout"/>, like <see cref="Receive(Socket, Span{byte}, SocketFlags, out SocketError)"/>.
    /// Argument errors (null or empty list) are the BCL's own.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket was already closed.</exception>
    /// <exception cref="InvalidOperationException">Another green thread is already waiting to read the socket and concurrent waiters are not allowed (see <see cref="AllowConcurrentWaiters"/>).</exception>
    public static int Receive(Socket s, IList<ArraySegment<byte>> buffers, SocketFlags socketFlags, out SocketError errorCode)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (!NativeScope.GreenCaller)
        {
            RestoreForNative(s);
            return IoPatchSeam.ReceiveList(s, buffers, socketFlags, out errorCode);
        }
        using var entry = Hub.Enter(out _);
        var st = Prepare(s);
        if (st == null) return IoPatchSeam.ReceiveList(s, buffers, socketFlags, out errorCode);
        long deadline = 0;
        while (true)
        {
            int n = IoPatchSeam.ReceiveList(s, buffers, socketFlags, out errorCode);
            if (errorCode != SocketError.WouldBlock) return n;
            errorCode = WaitReady(s, st, read: true, Remaining(ref deadline, s, receive: true), SocketError.ConnectionAborted, whole: st.Messages);
            if (errorCode != SocketError.Success) return 0;
            KeepNonBlocking(s);
        }
    }

    /// <summary>Green <see cref="Socket.Receive(IList{ArraySegment{byte}}, SocketFlags)"/>; see <see cref="Receive(Socket, IList{ArraySegment{byte}}, SocketFlags, out SocketError)"/>.</summary>
    /// <exception cref="SocketException">The receive failed.</exception>
    public static int Receive(Socket s, IList<ArraySegment<byte>> buffers, SocketFlags socketFlags)
    {
        int n = Receive(s, buffers, socketFlags, out var e);
        return e == SocketError.Success ? n : throw Error(e);
    }

    /// <summary>Green <see cref="Socket.Receive(IList{ArraySegment{byte}})"/>; see <see cref="Receive(Socket, IList{ArraySegment{byte}}, SocketFlags, out SocketError)"/>.</summary>
    /// <exception cref="SocketException">The receive failed.</exception>
    public static int Receive(Socket s, IList<ArraySegment<byte>> buffers) => Receive(s, buffers, SocketFlags.None);

    // ------------------------------------------------------------------------------------------
    // Send
    // ------------------------------------------------------------------------------------------

    /// <summary>
    /// Sends all of <paramref name="buffer"/> (<see cref="Socket.Send(ReadOnlySpan{byte}, SocketFlags, out SocketError)"/>):
    /// the core every Send overload uses. Like a blocking BCL send it returns only when every byte is queued,
    /// parking the green thread whenever the send buffer is full. <see cref="Socket.SendTimeout"/> bounds each
    /// wait without progress: it fails with <see cref="SocketError.TimedOut"/> if nothing was sent, and otherwise
    /// returns the count sent so far (Linux's SO_SNDTIMEO rule). On an error after partial progress the count
    /// sent is returned with the error.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket was already closed.</exception>
    /// <exception cref="InvalidOperationException">Another green thread is already waiting to write the socket and concurrent waiters are not allowed (see <see cref="AllowConcurrentWaiters"/>).</exception>
    public static int Send(Socket s, ReadOnlySpan<byte> buffer, SocketFlags socketFlags, out SocketError errorCode)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (!NativeScope.GreenCaller)
        {
            RestoreForNative(s);
            return IoPatchSeam.Send(s, buffer, socketFlags, out errorCode);
        }
        using var entry = Hub.Enter(out _);
        var st = Prepare(s);
        if (st == null) return IoPatchSeam.Send(s, buffer, socketFlags, out errorCode);
        int sent = 0;
        long deadline = 0;
        while (true)
        {
            int n = IoPatchSeam.Send(s, buffer.Slice(sent), socketFlags, out errorCode);
            if (errorCode == SocketError.Success)
            {
                sent += n;
                if (sent == buffer.Length) return sent;
                deadline = 0; // progress: the send timeout counts from here again
                continue;     // a short write: the buffer may already have room again, or EAGAIN says it has not
            }
            if (errorCode != SocketError.WouldBlock) return sent;
            errorCode = WaitReady(s, st, read: false, Remaining(ref deadline, s, receive: false), SocketError.ConnectionAborted, whole: st.Messages);
            if (errorCode == SocketError.TimedOut && sent > 0) { errorCode = SocketError.Success; return sent; }
            if (errorCode != SocketError.Success) return sent;
            KeepNonBlocking(s);
        }
    }

    /// <summary>Green <see cref="Socket.Send(ReadOnlySpan{byte}, SocketFlags)"/>; see <see cref="Send(Socket, ReadOnlySpan{byte}, SocketFlags, out SocketError)"/>.</summary>
    /// <exception cref="SocketException">The send failed (TimedOut, ConnectionReset, Shutdown, ...).</exception>
    public static int Send(Socket s, ReadOnlySpan<byte> buffer, SocketFlags socketFlags)
    {
        int n = Send(s, buffer, socketFlags, out var e);
        return e == SocketError.Success ? n : throw Error(e);
    }

    /// <summary>Green <see cref="Socket.Send(ReadOnlySpan{byte})"/>; see <see cref="Send(Socket, ReadOnlySpan{byte}, SocketFlags, out SocketError)"/>.</summary>
    /// <exception cref="SocketException">The send failed.</exception>
    public static int Send(Socket s, ReadOnlySpan<byte> buffer) => Send(s, buffer, SocketFlags.None);

    /// <summary>Green <see cref="Socket.Send(byte[], int, int, SocketFlags, out SocketError)"/>; see <see cref="Send(Socket, ReadOnlySpan{byte}, SocketFlags, out SocketError)"/>.</summary>
    public static int Send(Socket s, byte[] buffer, int offset, int size, SocketFlags socketFlags, out SocketError errorCode) =>
        Send(s, Slice(buffer, offset, size), socketFlags, out errorCode);

    /// <summary>Green <see cref="Socket.Send(byte[], int, int, SocketFlags)"/>; see <see cref="Send(Socket, ReadOnlySpan{byte}, SocketFlags, out SocketError)"/>.</summary>
    /// <exception cref="SocketException">The send failed.</exception>
    public static int Send(Socket s, byte[] buffer, int offset, int size, SocketFlags socketFlags) =>
        Send(s, Slice(buffer, offset, size), socketFlags);

    /// <summary>Green <see cref="Socket.Send(byte[], int, SocketFlags)"/>; see <see cref="Send(Socket, ReadOnlySpan{byte}, SocketFlags, out SocketError)"/>.</summary>
    /// <exception cref="SocketException">The send failed.</exception>
    public static int Send(Socket s, byte[] buffer, int size, SocketFlags socketFlags) =>
        Send(s, Slice(buffer, 0, size), socketFlags);

    /// <summary>Green <see cref="Socket.Send(byte[], SocketFlags)"/>; see <see cref="Send(Socket, ReadOnlySpan{byte}, SocketFlags, out SocketError)"/>.</summary>
    /// <exception cref="SocketException">The send failed.</exception>
    public static int Send(Socket s, byte[] buffer, SocketFlags socketFlags) =>
        Send(s, Slice(buffer, 0, buffer?.Length ?? 0), socketFlags);

    /// <summary>Green <see cref="Socket.Send(byte[])"/>; see <see cref="Send(Socket, ReadOnlySpan{byte}, SocketFlags, out SocketError)"/>.</summary>
    /// <exception cref="SocketException">The send failed.</exception>
    public static int Send(Socket s, byte[] buffer) => Send(s, buffer, SocketFlags.None);

    /// <summary>
    /// Green <see cref="Socket.Send(IList{ArraySegment{byte}}, SocketFlags, out SocketError)"/>: sends the segments in
    /// order, all of each, as one blocking gather-send would, and returns the total sent; on an error, the total sent
    /// before it, with <paramref name="errorCode"/> set. Unpatched, the BCL's call on a socket green code had made
    /// non-blocking underneath sent what fitted in the buffer and reported Success: the rest was lost.
    /// Argument errors (null or empty list) are the BCL's own.
    /// </summary>
    public static int Send(Socket s, IList<ArraySegment<byte>> buffers, SocketFlags socketFlags, out SocketError errorCode)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (!NativeScope.GreenCaller || buffers is not { Count: > 0 })
        {
            RestoreForNative(s);
            return IoPatchSeam.SendList(s, buffers!, socketFlags, out errorCode);
        }
        using var entry = Hub.Enter(out _);
        if (Prepare(s) == null) return IoPatchSeam.SendList(s, buffers, socketFlags, out errorCode);
        int total = 0;
        errorCode = SocketError.Success;
        foreach (var seg in buffers)
        {
            total += Send(s, seg.AsSpan(), socketFlags, out errorCode);
            if (errorCode != SocketError.Success) break;
        }
        return total;
    }

    /// <summary>
    /// Green <see cref="Socket.Send(IList{ArraySegment{byte}}, SocketFlags)"/>: sends the segments in order, all
    /// of each, as one blocking gather-send would. Returns the total sent.
    /// </summary>
    /// <exception cref="SocketException">The send failed.</exception>
    public static int Send(Socket s, IList<ArraySegment<byte>> buffers, SocketFlags socketFlags)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        int total = 0;
        foreach (var seg in buffers) total += Send(s, seg.AsSpan(), socketFlags);
        return total;
    }

    /// <summary>Green <see cref="Socket.Send(IList{ArraySegment{byte}})"/>; see <see cref="Send(Socket, IList{ArraySegment{byte}}, SocketFlags)"/>.</summary>
    /// <exception cref="SocketException">The send failed.</exception>
    public static int Send(Socket s, IList<ArraySegment<byte>> buffers) => Send(s, buffers, SocketFlags.None);

    /// <summary>
    /// Green <see cref="Socket.SendFile(string, ReadOnlySpan{byte}, ReadOnlySpan{byte}, TransmitFileOptions)"/>: sends
    /// <paramref name="preBuffer"/>, the file's bytes and <paramref name="postBuffer"/> in order, each through the green
    /// <see cref="Send(Socket, ReadOnlySpan{byte}, SocketFlags, out SocketError)"/>, so a full send buffer parks only this
    /// green thread (sendfile(2) on the non-blocking socket would stop part-way; on the BCL's blocking path it would stall
    /// the hub). The file is read in 64 KB pieces with ordinary file I/O (page-cache reads, not parked greenly, as in
    /// eventlet). A null or empty <paramref name="fileName"/> sends just the buffers, as the BCL does.
    /// </summary>
    /// <exception cref="NotSupportedException">The socket is not connected; or <paramref name="flags"/> asks for
    /// Disconnect or ReuseSocket, which green code does not emulate (call Shutdown and Close after SendFile).</exception>
    /// <exception cref="SocketException">A send failed.</exception>
    public static void SendFile(Socket s, string? fileName, ReadOnlySpan<byte> preBuffer, ReadOnlySpan<byte> postBuffer, TransmitFileOptions flags)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (!NativeScope.GreenCaller || Prepare(s) == null)
        {
            RestoreForNative(s);
            IoPatchSeam.SendFile(s, fileName, preBuffer, postBuffer, flags);
            return;
        }
        using var entry = Hub.Enter(out _);
        if (!s.Connected) throw new NotSupportedException("The operation is not allowed on non-connected sockets.");
        if ((flags & (TransmitFileOptions.Disconnect | TransmitFileOptions.ReuseSocket)) != 0)
            throw new NotSupportedException(
                $"Green SendFile does not emulate TransmitFileOptions {flags & (TransmitFileOptions.Disconnect | TransmitFileOptions.ReuseSocket)}: " +
                "send without them, then call Shutdown and Close.");
        using var file = string.IsNullOrEmpty(fileName)
            ? null
            : new FileStream(fileName, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        if (!preBuffer.IsEmpty) Send(s, preBuffer, SocketFlags.None);
        if (file != null)
        {
            var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                int n;
                while ((n = file.Read(chunk, 0, chunk.Length)) > 0) Send(s, chunk.AsSpan(0, n), SocketFlags.None);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
            }
        }
        if (!postBuffer.IsEmpty) Send(s, postBuffer, SocketFlags.None);
    }

    /// <summary>Green <see cref="Socket.SendFile(string, byte[], byte[], TransmitFileOptions)"/>; see <see cref="SendFile(Socket, string, ReadOnlySpan{byte}, ReadOnlySpan{byte}, TransmitFileOptions)"/>.</summary>
    public static void SendFile(Socket s, string? fileName, byte[]? preBuffer, byte[]? postBuffer, TransmitFileOptions flags) =>
        SendFile(s, fileName, preBuffer.AsSpan(), postBuffer.AsSpan(), flags);

    /// <summary>Green <see cref="Socket.SendFile(string)"/>; see <see cref="SendFile(Socket, string, ReadOnlySpan{byte}, ReadOnlySpan{byte}, TransmitFileOptions)"/>.</summary>
    public static void SendFile(Socket s, string? fileName) =>
        SendFile(s, fileName, ReadOnlySpan<byte>.Empty, ReadOnlySpan<byte>.Empty, TransmitFileOptions.UseDefaultWorkerThread);

    /// <summary>Checks an (offset, size) window the way the BCL does and returns it as a span.</summary>
    private static Span<byte> Slice(byte[]? buffer, int offset, int size)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)offset, (uint)buffer.Length, nameof(offset));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)size, (uint)(buffer.Length - offset), nameof(size));
        return new Span<byte>(buffer, offset, size);
    }
}
