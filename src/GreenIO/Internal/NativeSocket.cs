using System.Collections;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Evergreen.IO.Internal;

/// <summary>
/// The BCL socket operations the green functions are built on, one delegate each. They call the ordinary
/// <see cref="Socket"/> members today; once the patcher detours those members to <see cref="GreenSocket"/>,
/// it must point these fields at the saved originals (as it does for <c>Green.OriginalSleep</c>), or every
/// green call would recurse into itself. Non-green callers also go through them.
/// </summary>
internal static class NativeSocket
{
    internal delegate int ReceiveFn(Socket s, Span<byte> buffer, SocketFlags flags, out SocketError error);
    internal delegate int SendFn(Socket s, ReadOnlySpan<byte> buffer, SocketFlags flags, out SocketError error);
    internal delegate int ReceiveFromFn(Socket s, Span<byte> buffer, SocketFlags flags, ref EndPoint remote);
    internal delegate int SendToFn(Socket s, ReadOnlySpan<byte> buffer, SocketFlags flags, EndPoint remote);
    internal delegate int ReceiveListFn(Socket s, IList<ArraySegment<byte>> buffers, SocketFlags flags, out SocketError error);
    internal delegate void SendFileFn(Socket s, string? fileName, ReadOnlySpan<byte> preBuffer, ReadOnlySpan<byte> postBuffer, TransmitFileOptions flags);
    internal delegate void SelectFn(IList? checkRead, IList? checkWrite, IList? checkError, int microSeconds);

    internal static ReceiveFn Receive = static (Socket s, Span<byte> b, SocketFlags f, out SocketError e) => s.Receive(b, f, out e);
    internal static ReceiveListFn ReceiveList = static (Socket s, IList<ArraySegment<byte>> b, SocketFlags f, out SocketError e) => s.Receive(b, f, out e);
    internal static SendFileFn SendFile = static (s, f, pre, post, fl) => s.SendFile(f, pre, post, fl);
    internal static SendFn Send = static (Socket s, ReadOnlySpan<byte> b, SocketFlags f, out SocketError e) => s.Send(b, f, out e);
    internal static ReceiveFromFn ReceiveFrom = static (Socket s, Span<byte> b, SocketFlags f, ref EndPoint ep) => s.ReceiveFrom(b, f, ref ep);
    internal static SendToFn SendTo = static (s, b, f, ep) => s.SendTo(b, f, ep);
    internal static Func<Socket, Socket> Accept = static s => s.Accept();
    internal static Action<Socket, EndPoint> Connect = static (s, ep) => s.Connect(ep);
    internal static Action<Socket, SocketShutdown> Shutdown = static (s, how) => s.Shutdown(how);
    internal static Action<Socket> Close = static s => s.Close();
    internal static Action<Socket, int> CloseTimeout = static (s, t) => s.Close(t);
    internal static Func<Socket, int, SelectMode, bool> Poll = static (s, us, m) => s.Poll(us, m);
    internal static SelectFn Select = static (r, w, e, us) => Socket.Select(r, w, e, us);
    internal static Func<Socket, bool> GetBlocking = static s => s.Blocking;
    internal static Action<Socket, bool> SetBlocking = static (s, b) => s.Blocking = b;
    internal static Func<string, IPAddress[]> GetHostAddresses = Dns.GetHostAddresses;
    internal static Func<string, AddressFamily, IPAddress[]> GetHostAddressesFamily = Dns.GetHostAddresses;
    internal static Func<string, IPHostEntry> GetHostEntry = Dns.GetHostEntry;

    private static bool s_accessorsBroken;

    /// <summary>
    /// The socket's file descriptor, read from the private handle field so that reading it does not mark the
    /// handle "exposed" (the public <see cref="Socket.Handle"/> getter does, which changes how .NET treats the
    /// fd afterwards). Falls back to the public getter if the field is gone in another runtime version.
    /// </summary>
    internal static int Fd(Socket s)
    {
        if (!s_accessorsBroken)
        {
            try
            {
                var h = HandleField(s);
                // A closed socket's number may already belong to another file: never hand it out.
                if (h == null || h.IsClosed || h.IsInvalid) throw new ObjectDisposedException(typeof(Socket).FullName);
                return (int)h.DangerousGetHandle();
            }
            catch (MissingFieldException)
            {
                s_accessorsBroken = true;
            }
        }
        return (int)s.Handle;
    }

    private static bool s_timeoutFieldsBroken;

    /// <summary>
    /// <see cref="Socket.ReceiveTimeout"/> (<paramref name="receive"/>) or <see cref="Socket.SendTimeout"/> in ms, 0 for
    /// none, read from the handle's own copy: on Unix the BCL keeps it in the handle (-1 for none) and its getter
    /// answers from there, but through <c>GetSocketOption</c>, which boxes the int (24 B per green wait; measured
    /// with GC.GetAllocatedBytesForCurrentThread). Falls back to the public getter if the field is gone.
    /// </summary>
    internal static int TimeoutMs(Socket s, bool receive)
    {
        if (!s_timeoutFieldsBroken)
        {
            try
            {
                var h = HandleField(s);
                if (h != null && !h.IsClosed)
                {
                    int v = receive ? ReceiveTimeoutField(h) : SendTimeoutField(h);
                    return v < 0 ? 0 : v;
                }
            }
            catch (MissingFieldException)
            {
                s_timeoutFieldsBroken = true;
            }
        }
        return receive ? s.ReceiveTimeout : s.SendTimeout;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_receiveTimeout")]
    private static extern ref int ReceiveTimeoutField(SafeSocketHandle h);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_sendTimeout")]
    private static extern ref int SendTimeoutField(SafeSocketHandle h);

    /// <summary>
    /// Clears .NET's "non-blocking connect in progress" flag after a green connect failed; otherwise the
    /// <see cref="Socket.Connected"/> getter later polls the failed socket writable and reports true (seen on
    /// .NET 10: a refused non-blocking connect then <c>Connected == true</c>).
    /// </summary>
    internal static void ClearConnectInProgress(Socket s)
    {
        try
        {
            ConnectInProgressField(s) = false;
        }
        catch (MissingFieldException)
        {
            // Best effort: only the Connected property's answer after a failed connect is affected.
        }
    }

    /// <summary>True when the OS socket is in non-blocking mode as far as the BCL knows (<c>_willBlockInternal</c> false).</summary>
    internal static bool IsInternallyNonBlocking(Socket s) => !WillBlockInternalField(s);

    /// <summary>Puts the OS socket in non-blocking mode through the BCL, so its own calls report WouldBlock instead of waiting.</summary>
    internal static void GoNonBlocking(Socket s) => SetBlocking(s, false); // throws ObjectDisposedException for a closed socket

    /// <summary>
    /// The user-visible blocking flag (<c>_willBlock</c>). Framework code compiled ahead of time inlines the
    /// <see cref="Socket.Blocking"/> getter as this field read; the monkey patch sets it for the duration of such a
    /// check (NetworkStream's constructor refuses a non-blocking socket). The BCL's own calls require it to match
    /// the internal mode, so it is never left changed.
    /// </summary>
    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_willBlock")]
    internal static extern ref bool WillBlockField(Socket s);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_willBlockInternal")]
    private static extern ref bool WillBlockInternalField(Socket s);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_handle")]
    private static extern ref SafeSocketHandle HandleField(Socket s);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_nonBlockingConnectInProgress")]
    private static extern ref bool ConnectInProgressField(Socket s);
}
