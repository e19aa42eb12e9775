using System.Net;
using System.Net.Sockets;
using Evergreen.IO.Internal;

namespace Evergreen.IO;

public static unsafe partial class GreenSocket
{
    /// <summary>
    /// Green <see cref="Socket.ReceiveFrom(Span{byte}, SocketFlags, ref EndPoint)"/>: the core of every ReceiveFrom
    /// overload. Parks the green thread until a datagram arrives or <see cref="Socket.ReceiveTimeout"/> passes
    /// (<see cref="SocketException"/> <see cref="SocketError.TimedOut"/>).
    /// </summary>
    /// <exception cref="SocketException">The receive failed (TimedOut, ConnectionAborted when closed meanwhile, ...).</exception>
    public static int ReceiveFrom(Socket s, Span<byte> buffer, SocketFlags socketFlags, ref EndPoint remoteEP)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (!NativeScope.GreenCaller)
        {
            RestoreForNative(s);
            return IoPatchSeam.ReceiveFrom(s, buffer, socketFlags, ref remoteEP);
        }
        using var entry = Hub.Enter(out _);
        var st = Prepare(s);
        if (st == null) return IoPatchSeam.ReceiveFrom(s, buffer, socketFlags, ref remoteEP);
        long deadline = 0;
        while (true)
        {
            try
            {
                return IoPatchSeam.ReceiveFrom(s, buffer, socketFlags, ref remoteEP);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                // The BCL reports EAGAIN here only by throwing: one exception each time the queue runs dry.
            }
            var err = WaitReady(s, st, read: true, Remaining(ref deadline, s, receive: true), SocketError.ConnectionAborted, whole: st.Messages);
            if (err != SocketError.Success) throw Error(err);
            KeepNonBlocking(s);
        }
    }

    /// <summary>
    /// Green <see cref="Socket.ReceiveMessageFrom(Span{byte}, ref SocketFlags, ref EndPoint, out IPPacketInformation)"/>:
    /// parks the green thread until a datagram arrives or <see cref="Socket.ReceiveTimeout"/> passes, like
    /// <see cref="ReceiveFrom(Socket, Span{byte}, SocketFlags, ref EndPoint)"/>. Without it the BCL's own call found the
    /// socket non-blocking underneath once green code had used it, and failed with WouldBlock instead of waiting.
    /// </summary>
    /// <exception cref="SocketException">The receive failed (TimedOut, ConnectionAborted when closed meanwhile, ...).</exception>
    public static int ReceiveMessageFrom(Socket s, Span<byte> buffer, ref SocketFlags socketFlags, ref EndPoint remoteEP,
        out IPPacketInformation ipPacketInformation)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (!NativeScope.GreenCaller)
        {
            RestoreForNative(s);
            return IoPatchSeam.ReceiveMessageFrom(s, buffer, ref socketFlags, ref remoteEP, out ipPacketInformation);
        }
        using var entry = Hub.Enter(out _);
        var st = Prepare(s);
        if (st == null) return IoPatchSeam.ReceiveMessageFrom(s, buffer, ref socketFlags, ref remoteEP, out ipPacketInformation);
        long deadline = 0;
        var asked = socketFlags; // the BCL replaces the flags with the received message's; every try asks with the caller's
        while (true)
        {
            try
            {
                socketFlags = asked;
                return IoPatchSeam.ReceiveMessageFrom(s, buffer, ref socketFlags, ref remoteEP, out ipPacketInformation);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                // As ReceiveFrom: EAGAIN comes back only as an exception.
            }
            var err = WaitReady(s, st, read: true, Remaining(ref deadline, s, receive: true), SocketError.ConnectionAborted, whole: st.Messages);
            if (err != SocketError.Success) throw Error(err);
            KeepNonBlocking(s);
        }
    }

    /// <summary>Green <see cref="Socket.ReceiveMessageFrom(byte[], int, int, ref SocketFlags, ref EndPoint, out IPPacketInformation)"/>; see <see cref="ReceiveMessageFrom(Socket, Span{byte}, ref SocketFlags, ref EndPoint, out IPPacketInformation)"/>.</summary>
    /// <exception cref="SocketException">The receive failed.</exception>
    public static int ReceiveMessageFrom(Socket s, byte[] buffer, int offset, int size, ref SocketFlags socketFlags, ref EndPoint remoteEP,
        out IPPacketInformation ipPacketInformation) =>
        ReceiveMessageFrom(s, Slice(buffer, offset, size), ref socketFlags, ref remoteEP, out ipPacketInformation);

    /// <summary>Green <see cref="Socket.ReceiveFrom(Span{byte}, ref EndPoint)"/>; see <see cref="ReceiveFrom(Socket, Span{byte}, SocketFlags, ref EndPoint)"/>.</summary>
    /// <exception cref="SocketException">The receive failed.</exception>
    public static int ReceiveFrom(Socket s, Span<byte> buffer, ref EndPoint remoteEP) =>
        ReceiveFrom(s, buffer, SocketFlags.None, ref remoteEP);

    /// <summary>Green <see cref="Socket.ReceiveFrom(byte[], int, int, SocketFlags, ref EndPoint)"/>; see <see cref="ReceiveFrom(Socket, Span{byte}, SocketFlags, ref EndPoint)"/>.</summary>
    /// <exception cref="SocketException">The receive failed.</exception>
    public static int ReceiveFrom(Socket s, byte[] buffer, int offset, int size, SocketFlags socketFlags, ref EndPoint remoteEP) =>
        ReceiveFrom(s, Slice(buffer, offset, size), socketFlags, ref remoteEP);

    /// <summary>Green <see cref="Socket.ReceiveFrom(byte[], int, SocketFlags, ref EndPoint)"/>; see <see cref="ReceiveFrom(Socket, Span{byte}, SocketFlags, ref EndPoint)"/>.</summary>
    /// <exception cref="SocketException">The receive failed.</exception>
    public static int ReceiveFrom(Socket s, byte[] buffer, int size, SocketFlags socketFlags, ref EndPoint remoteEP) =>
        ReceiveFrom(s, Slice(buffer, 0, size), socketFlags, ref remoteEP);

    /// <summary>Green <see cref="Socket.ReceiveFrom(byte[], SocketFlags, ref EndPoint)"/>; see <see cref="ReceiveFrom(Socket, Span{byte}, SocketFlags, ref EndPoint)"/>.</summary>
    /// <exception cref="SocketException">The receive failed.</exception>
    public static int ReceiveFrom(Socket s, byte[] buffer, SocketFlags socketFlags, ref EndPoint remoteEP) =>
        ReceiveFrom(s, Slice(buffer, 0, buffer?.Length ?? 0), socketFlags, ref remoteEP);

    /// <summary>Green <see cref="Socket.ReceiveFrom(byte[], ref EndPoint)"/>; see <see cref="ReceiveFrom(Socket, Span{byte}, SocketFlags, ref EndPoint)"/>.</summary>
    /// <exception cref="SocketException">The receive failed.</exception>
    public static int ReceiveFrom(Socket s, byte[] buffer, ref EndPoint remoteEP) =>
        ReceiveFrom(s, buffer, SocketFlags.None, ref remoteEP);

    /// <summary>
    /// Green <see cref="Socket.SendTo(ReadOnlySpan{byte}, SocketFlags, EndPoint)"/>: the core of every SendTo
    /// overload. A datagram goes whole or not at all; when the send buffer is full the green thread parks until
    /// it has room (or <see cref="Socket.SendTimeout"/> passes).
    /// </summary>
    /// <exception cref="SocketException">The send failed.</exception>
    public static int SendTo(Socket s, ReadOnlySpan<byte> buffer, SocketFlags socketFlags, EndPoint remoteEP)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (!NativeScope.GreenCaller)
        {
            RestoreForNative(s);
            return IoPatchSeam.SendTo(s, buffer, socketFlags, remoteEP);
        }
        using var entry = Hub.Enter(out _);
        var st = Prepare(s);
        if (st == null) return IoPatchSeam.SendTo(s, buffer, socketFlags, remoteEP);
        long deadline = 0;
        while (true)
        {
            try
            {
                return IoPatchSeam.SendTo(s, buffer, socketFlags, remoteEP);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                // Send buffer full: wait below.
            }
            var err = WaitReady(s, st, read: false, Remaining(ref deadline, s, receive: false), SocketError.ConnectionAborted, whole: st.Messages);
            if (err != SocketError.Success) throw Error(err);
            KeepNonBlocking(s);
        }
    }

    /// <summary>Green <see cref="Socket.SendTo(ReadOnlySpan{byte}, EndPoint)"/>; see <see cref="SendTo(Socket, ReadOnlySpan{byte}, SocketFlags, EndPoint)"/>.</summary>
    /// <exception cref="SocketException">The send failed.</exception>
    public static int SendTo(Socket s, ReadOnlySpan<byte> buffer, EndPoint remoteEP) => SendTo(s, buffer, SocketFlags.None, remoteEP);

    /// <summary>Green <see cref="Socket.SendTo(byte[], int, int, SocketFlags, EndPoint)"/>; see <see cref="SendTo(Socket, ReadOnlySpan{byte}, SocketFlags, EndPoint)"/>.</summary>
    /// <exception cref="SocketException">The send failed.</exception>
    public static int SendTo(Socket s, byte[] buffer, int offset, int size, SocketFlags socketFlags, EndPoint remoteEP) =>
        SendTo(s, Slice(buffer, offset, size), socketFlags, remoteEP);

    /// <summary>Green <see cref="Socket.SendTo(byte[], int, SocketFlags, EndPoint)"/>; see <see cref="SendTo(Socket, ReadOnlySpan{byte}, SocketFlags, EndPoint)"/>.</summary>
    /// <exception cref="SocketException">The send failed.</exception>
    public static int SendTo(Socket s, byte[] buffer, int size, SocketFlags socketFlags, EndPoint remoteEP) =>
        SendTo(s, Slice(buffer, 0, size), socketFlags, remoteEP);

    /// <summary>Green <see cref="Socket.SendTo(byte[], SocketFlags, EndPoint)"/>; see <see cref="SendTo(Socket, ReadOnlySpan{byte}, SocketFlags, EndPoint)"/>.</summary>
    /// <exception cref="SocketException">The send failed.</exception>
    public static int SendTo(Socket s, byte[] buffer, SocketFlags socketFlags, EndPoint remoteEP) =>
        SendTo(s, Slice(buffer, 0, buffer?.Length ?? 0), socketFlags, remoteEP);

    /// <summary>Green <see cref="Socket.SendTo(byte[], EndPoint)"/>; see <see cref="SendTo(Socket, ReadOnlySpan{byte}, SocketFlags, EndPoint)"/>.</summary>
    /// <exception cref="SocketException">The send failed.</exception>
    public static int SendTo(Socket s, byte[] buffer, EndPoint remoteEP) => SendTo(s, buffer, SocketFlags.None, remoteEP);

    /// <summary>
    /// Green <see cref="Socket.ReceiveFrom(Span{byte}, SocketFlags, SocketAddress)"/> (the allocation-free overload):
    /// parks like <see cref="ReceiveFrom(Socket, Span{byte}, SocketFlags, ref EndPoint)"/>. Unpatched, the BCL's call found
    /// a socket green code had made non-blocking underneath and threw WouldBlock instead of waiting.
    /// </summary>
    /// <exception cref="SocketException">The receive failed (TimedOut, ConnectionAborted when closed meanwhile, ...).</exception>
    public static int ReceiveFrom(Socket s, Span<byte> buffer, SocketFlags socketFlags, SocketAddress receivedAddress)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (!NativeScope.GreenCaller)
        {
            RestoreForNative(s);
            return IoPatchSeam.ReceiveFromAddress(s, buffer, socketFlags, receivedAddress);
        }
        using var entry = Hub.Enter(out _);
        var st = Prepare(s);
        if (st == null) return IoPatchSeam.ReceiveFromAddress(s, buffer, socketFlags, receivedAddress);
        long deadline = 0;
        while (true)
        {
            try
            {
                return IoPatchSeam.ReceiveFromAddress(s, buffer, socketFlags, receivedAddress);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                // As ReceiveFrom: EAGAIN comes back only as an exception.
            }
            var err = WaitReady(s, st, read: true, Remaining(ref deadline, s, receive: true), SocketError.ConnectionAborted, whole: st.Messages);
            if (err != SocketError.Success) throw Error(err);
            KeepNonBlocking(s);
        }
    }

    /// <summary>
    /// Green <see cref="Socket.SendTo(ReadOnlySpan{byte}, SocketFlags, SocketAddress)"/> (the allocation-free overload):
    /// parks like <see cref="SendTo(Socket, ReadOnlySpan{byte}, SocketFlags, EndPoint)"/> while the send buffer is full.
    /// </summary>
    /// <exception cref="SocketException">The send failed.</exception>
    public static int SendTo(Socket s, ReadOnlySpan<byte> buffer, SocketFlags socketFlags, SocketAddress socketAddress)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (!NativeScope.GreenCaller)
        {
            RestoreForNative(s);
            return IoPatchSeam.SendToAddress(s, buffer, socketFlags, socketAddress);
        }
        using var entry = Hub.Enter(out _);
        var st = Prepare(s);
        if (st == null) return IoPatchSeam.SendToAddress(s, buffer, socketFlags, socketAddress);
        long deadline = 0;
        while (true)
        {
            try
            {
                return IoPatchSeam.SendToAddress(s, buffer, socketFlags, socketAddress);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                // Send buffer full: wait below.
            }
            var err = WaitReady(s, st, read: false, Remaining(ref deadline, s, receive: false), SocketError.ConnectionAborted, whole: st.Messages);
            if (err != SocketError.Success) throw Error(err);
            KeepNonBlocking(s);
        }
    }
}
