using System.Collections;
using System.Net;
using System.Net.Sockets;
using Evergreen.IO;
using Evergreen.IO.Internal;
using Evergreen.Patching.Internal;

namespace Evergreen.Patching.Replacements;

/// <summary>
/// Replacements for <see cref="Socket"/> and <see cref="Dns"/> (areas "socket" and "select"): every blocking member goes
/// straight to its <see cref="GreenSocket"/> / <see cref="GreenDns"/> twin (instance member <c>Socket.M(args)</c> →
/// <c>GreenSocket.M(Socket, args)</c>), which acts greenly on a green thread and calls the original everywhere else.
/// The BCL's overloads mostly do not call each other (NetworkStream.Read uses the byte[] Receive, for one), so every
/// overload is a row. The green functions do their real work through the members the other overloads funnel into;
/// those rows hand their originals to GreenIO's seam (<see cref="IoPatchSeam"/>), so a green call never recurs into itself.
/// </summary>
internal static unsafe class SocketPatch
{
    private static readonly Type s_span = typeof(Span<byte>), s_roSpan = typeof(ReadOnlySpan<byte>), s_bytes = typeof(byte[]),
        s_list = typeof(IList<ArraySegment<byte>>), s_flags = typeof(SocketFlags), s_err = typeof(SocketError).MakeByRefType(),
        s_ep = typeof(EndPoint), s_epRef = typeof(EndPoint).MakeByRefType(), s_int = typeof(int),
        s_flagsRef = typeof(SocketFlags).MakeByRefType(), s_pktInfoOut = typeof(IPPacketInformation).MakeByRefType();

    // What this file replaces (the patcher applies exactly these rows). A row with a seam slot is a funnel: its original
    // is what the green functions call for the real (non-blocking, or off-green blocking) operation.
    public static readonly PatchRow DisposeCoreRow = PatchRow.Method(typeof(Socket), nameof(Socket.Dispose), [typeof(bool)], typeof(SocketPatch), nameof(DisposeCore));
    public static readonly PatchRow NetworkStreamCtorRow = PatchRow.Constructor(typeof(NetworkStream), [typeof(Socket), typeof(FileAccess), typeof(bool)], typeof(SocketPatch), nameof(NetworkStreamCtor));

    public static readonly PatchTable SocketTable = new("socket",
        "GreenSocket / GreenDns: a call that would block parks the green thread on the hub's poller (name resolution: tpool); Dispose(bool) (Close, Dispose) wakes green waiters and makes the hub forget the fd; Blocking reports the user's mode (non-blocking underneath); NetworkStream's constructor sees the user's mode",
        [
            ToGreenSocket(nameof(Socket.Receive), [s_span, s_flags, s_err], static o => IoPatchSeam.Receive = (delegate*<Socket, Span<byte>, SocketFlags, out SocketError, int>)o),
            ToGreenSocket(nameof(Socket.Receive), [s_list, s_flags, s_err], static o => IoPatchSeam.ReceiveList = (delegate*<Socket, IList<ArraySegment<byte>>, SocketFlags, out SocketError, int>)o),
            ToGreenSocket(nameof(Socket.Receive), [s_bytes]),
            ToGreenSocket(nameof(Socket.Receive), [s_bytes, s_flags]),
            ToGreenSocket(nameof(Socket.Receive), [s_bytes, s_int, s_flags]),
            ToGreenSocket(nameof(Socket.Receive), [s_bytes, s_int, s_int, s_flags]),
            ToGreenSocket(nameof(Socket.Receive), [s_bytes, s_int, s_int, s_flags, s_err]),
            ToGreenSocket(nameof(Socket.Receive), [s_span]),
            ToGreenSocket(nameof(Socket.Receive), [s_span, s_flags]),
            ToGreenSocket(nameof(Socket.Receive), [s_list]),
            ToGreenSocket(nameof(Socket.Receive), [s_list, s_flags]),
            ToGreenSocket(nameof(Socket.Send), [s_roSpan, s_flags, s_err], static o => IoPatchSeam.Send = (delegate*<Socket, ReadOnlySpan<byte>, SocketFlags, out SocketError, int>)o),
            ToGreenSocket(nameof(Socket.Send), [s_list, s_flags, s_err], static o => IoPatchSeam.SendList = (delegate*<Socket, IList<ArraySegment<byte>>, SocketFlags, out SocketError, int>)o),
            ToGreenSocket(nameof(Socket.Send), [s_bytes]),
            ToGreenSocket(nameof(Socket.Send), [s_bytes, s_flags]),
            ToGreenSocket(nameof(Socket.Send), [s_bytes, s_int, s_flags]),
            ToGreenSocket(nameof(Socket.Send), [s_bytes, s_int, s_int, s_flags]),
            ToGreenSocket(nameof(Socket.Send), [s_bytes, s_int, s_int, s_flags, s_err]),
            ToGreenSocket(nameof(Socket.Send), [s_roSpan]),
            ToGreenSocket(nameof(Socket.Send), [s_roSpan, s_flags]),
            ToGreenSocket(nameof(Socket.Send), [s_list]),
            ToGreenSocket(nameof(Socket.Send), [s_list, s_flags]),
            ToGreenSocket(nameof(Socket.SendFile), [typeof(string), s_roSpan, s_roSpan, typeof(TransmitFileOptions)],
                static o => IoPatchSeam.SendFile = (delegate*<Socket, string?, ReadOnlySpan<byte>, ReadOnlySpan<byte>, TransmitFileOptions, void>)o),
            ToGreenSocket(nameof(Socket.SendFile), [typeof(string)]),
            ToGreenSocket(nameof(Socket.SendFile), [typeof(string), s_bytes, s_bytes, typeof(TransmitFileOptions)]),
            ToGreenSocket(nameof(Socket.ReceiveFrom), [s_span, s_flags, s_epRef], static o => IoPatchSeam.ReceiveFrom = (delegate*<Socket, Span<byte>, SocketFlags, ref EndPoint, int>)o),
            ToGreenSocket(nameof(Socket.ReceiveFrom), [s_bytes, s_epRef]),
            ToGreenSocket(nameof(Socket.ReceiveFrom), [s_bytes, s_flags, s_epRef]),
            ToGreenSocket(nameof(Socket.ReceiveFrom), [s_bytes, s_int, s_flags, s_epRef]),
            ToGreenSocket(nameof(Socket.ReceiveFrom), [s_bytes, s_int, s_int, s_flags, s_epRef]),
            ToGreenSocket(nameof(Socket.ReceiveFrom), [s_span, s_epRef]),
            ToGreenSocket(nameof(Socket.ReceiveFrom), [s_span, s_flags, typeof(SocketAddress)],
                static o => IoPatchSeam.ReceiveFromAddress = (delegate*<Socket, Span<byte>, SocketFlags, SocketAddress, int>)o),
            ToGreenSocket(nameof(Socket.SendTo), [s_roSpan, s_flags, typeof(SocketAddress)],
                static o => IoPatchSeam.SendToAddress = (delegate*<Socket, ReadOnlySpan<byte>, SocketFlags, SocketAddress, int>)o),
            ToGreenSocket(nameof(Socket.ReceiveMessageFrom), [s_span, s_flagsRef, s_epRef, s_pktInfoOut],
                static o => IoPatchSeam.ReceiveMessageFrom = (delegate*<Socket, Span<byte>, ref SocketFlags, ref EndPoint, out IPPacketInformation, int>)o),
            ToGreenSocket(nameof(Socket.ReceiveMessageFrom), [s_bytes, s_int, s_int, s_flagsRef, s_epRef, s_pktInfoOut]),
            ToGreenSocket(nameof(Socket.SendTo), [s_roSpan, s_flags, s_ep], static o => IoPatchSeam.SendTo = (delegate*<Socket, ReadOnlySpan<byte>, SocketFlags, EndPoint, int>)o),
            ToGreenSocket(nameof(Socket.SendTo), [s_bytes, s_ep]),
            ToGreenSocket(nameof(Socket.SendTo), [s_bytes, s_flags, s_ep]),
            ToGreenSocket(nameof(Socket.SendTo), [s_bytes, s_int, s_flags, s_ep]),
            ToGreenSocket(nameof(Socket.SendTo), [s_bytes, s_int, s_int, s_flags, s_ep]),
            ToGreenSocket(nameof(Socket.SendTo), [s_roSpan, s_ep]),
            ToGreenSocket(nameof(Socket.Accept), [], static o => IoPatchSeam.Accept = (delegate*<Socket, Socket>)o),
            ToGreenSocket(nameof(Socket.Connect), [s_ep], static o => IoPatchSeam.Connect = (delegate*<Socket, EndPoint, void>)o),
            ToGreenSocket(nameof(Socket.Connect), [typeof(IPAddress), s_int]),
            ToGreenSocket(nameof(Socket.Connect), [typeof(IPAddress[]), s_int]),
            ToGreenSocket(nameof(Socket.Connect), [typeof(string), s_int]),
            PatchRow.Accessor(typeof(Socket), nameof(Socket.Blocking), setter: false, typeof(GreenSocket), nameof(GreenSocket.GetBlocking),
                static o => IoPatchSeam.GetBlocking = (delegate*<Socket, bool>)o),
            PatchRow.Accessor(typeof(Socket), nameof(Socket.Blocking), setter: true, typeof(GreenSocket), nameof(GreenSocket.SetBlocking),
                static o => IoPatchSeam.SetBlocking = (delegate*<Socket, bool, void>)o),
            DisposeCoreRow,
            NetworkStreamCtorRow,
            ToGreenDns(nameof(System.Net.Dns.GetHostAddresses), [typeof(string)]),
            ToGreenDns(nameof(System.Net.Dns.GetHostAddresses), [typeof(string), typeof(AddressFamily)],
                static o => IoPatchSeam.GetHostAddresses = (delegate*<string, AddressFamily, IPAddress[]>)o),
            ToGreenDns(nameof(System.Net.Dns.GetHostEntry), [typeof(string)]),
            ToGreenDns(nameof(System.Net.Dns.GetHostEntry), [typeof(string), typeof(AddressFamily)],
                static o => IoPatchSeam.GetHostEntry = (delegate*<string, AddressFamily, IPHostEntry>)o),
            ToGreenDns(nameof(System.Net.Dns.GetHostEntry), [typeof(IPAddress)],
                static o => IoPatchSeam.GetHostEntryByAddress = (delegate*<IPAddress, IPHostEntry>)o),
        ],
        prepare: Warm,
        connect: static () => IoPatchSeam.SharedWaiters = true);

    public static readonly PatchTable SelectTable = new("select",
        "GreenSocket.Poll and Select park on the hub's poller, watching every socket they list (beside any thread blocked in Receive or Send on it), and then ask the native call, without waiting, which are ready",
        [
            ToGreenSocket(nameof(Socket.Poll), [s_int, typeof(SelectMode)], static o => IoPatchSeam.Poll = (delegate*<Socket, int, SelectMode, bool>)o),
            ToGreenSocket(nameof(Socket.Poll), [typeof(TimeSpan), typeof(SelectMode)]),
            ToGreenSocket(nameof(Socket.Select), [typeof(IList), typeof(IList), typeof(IList), s_int],
                static o => IoPatchSeam.Select = (delegate*<IList?, IList?, IList?, int, void>)o),
            ToGreenSocket(nameof(Socket.Select), [typeof(IList), typeof(IList), typeof(IList), typeof(TimeSpan)]),
        ]);

    private static PatchRow ToGreenSocket(string name, Type[] parameters, Action<nint>? publish = null) =>
        PatchRow.Method(typeof(Socket), name, parameters, typeof(GreenSocket), name, publish);

    private static PatchRow ToGreenDns(string name, Type[] parameters, Action<nint>? publish = null) =>
        PatchRow.Method(typeof(System.Net.Dns), name, parameters, typeof(GreenDns), name, publish);

    /// <summary>
    /// Runs the virtual Socket.Dispose(bool) once: until a virtual method is first called its entry still leads to the
    /// prestub and there is no body to detour. A Unix-domain socket does not count as "opened sockets" for the late rule.
    /// </summary>
    private static void Warm()
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    }

    internal static void NetworkStreamCtor(NetworkStream self, Socket socket, FileAccess access, bool ownsSocket)
    {
        if (socket is null || !GreenSocket.GetBlocking(socket) || socket.Blocking == SocketFields.WillBlockField(socket))
        {
            ((delegate*<NetworkStream, Socket, FileAccess, bool, void>)NetworkStreamCtorRow.Original)(self, socket!, access, ownsSocket);
            return;
        }
        // Taken over by green code: non-blocking underneath, blocking for the user. Show the user's view to the
        // constructor's (inlined) check only, and put the BCL's pair of flags back in step right after.
        ref bool willBlock = ref SocketFields.WillBlockField(socket);
        willBlock = true;
        try
        {
            ((delegate*<NetworkStream, Socket, FileAccess, bool, void>)NetworkStreamCtorRow.Original)(self, socket, access, ownsSocket);
        }
        finally
        {
            willBlock = false;
        }
    }

    internal static void DisposeCore(Socket s, bool disposing)
    {
        // On any thread: a green thread waiting on this socket must wake with .NET's error, and the hub must
        // drop the fd before its number is reused. Idempotent; finalizer runs (disposing: false) are left alone.
        if (disposing) GreenSocket.Forget(s);
        ((delegate*<Socket, bool, void>)DisposeCoreRow.Original)(s, disposing);
    }
}
