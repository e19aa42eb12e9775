using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Evergreen.IO.Internal;

/// <summary>
/// The <see cref="Socket"/> state green code reads and writes beside the BCL's own calls: the fd, the timeouts and
/// the blocking flags, through the BCL's private fields (UnsafeAccessor), each falling back to the public member
/// if a field is gone in another runtime version.
/// </summary>
internal static unsafe class SocketFields
{
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
    internal static void GoNonBlocking(Socket s) => IoPatchSeam.SetBlocking(s, false); // throws ObjectDisposedException for a closed socket

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
