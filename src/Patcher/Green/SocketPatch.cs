using System.Collections;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Evergreen.IO;
using Evergreen.IO.Internal;
using Evergreen.Patching.Internal;

namespace Evergreen.Patching.Green;

/// <summary>
/// Replacements for <see cref="Socket"/> (areas "socket" and "select"), routed to <see cref="GreenSocket"/>. The BCL's
/// overloads funnel into a few members (every Receive overload into the Span one, every Send into the ReadOnlySpan
/// one, NetworkStream.Read/Write too), so those funnels are the targets. GreenSocket's own non-blocking calls go
/// through <see cref="NativeSocket"/>, which <see cref="Bind"/> points at the saved originals so they do not recurse.
/// </summary>
internal static unsafe class SocketPatch
{
    // What this file replaces:
    //   socket: Socket.Receive(Span<byte>, SocketFlags, out SocketError)          → GreenSocket.Receive
    //           Socket.Send(ReadOnlySpan<byte>, SocketFlags, out SocketError)     → GreenSocket.Send
    //           Socket.Receive(IList<ArraySegment<byte>>, SocketFlags, out SocketError) → GreenSocket.Receive (scatter)
    //           Socket.SendFile(string, ReadOnlySpan<byte>, ReadOnlySpan<byte>, TransmitFileOptions) → GreenSocket.SendFile
    //           Socket.ReceiveFrom(Span<byte>, SocketFlags, ref EndPoint)         → GreenSocket.ReceiveFrom
    //           Socket.ReceiveFrom(byte[], int, int, SocketFlags, ref EndPoint)   → GreenSocket.ReceiveFrom
    //           Socket.SendTo(ReadOnlySpan<byte>, SocketFlags, EndPoint)          → GreenSocket.SendTo
    //           Socket.SendTo(byte[], int, int, SocketFlags, EndPoint)            → GreenSocket.SendTo
    //           Socket.Accept() / Connect(EndPoint)                               → GreenSocket.Accept / Connect
    //           Socket.Dispose(bool)  (Close(), Close(int), Dispose() funnel here) → wake green waiters, forget the fd
    //           Socket.Blocking get/set                                           → the user's setting, kept apart from the fd's
    //           Dns.GetHostAddresses(string)                                      → GreenDns (tpool; localhost inline)
    //           NetworkStream(Socket, FileAccess, bool)  (every NetworkStream ctor funnels here) → its inlined
    //             Blocking check sees the user's mode, not the non-blocking mode green code uses underneath
    //   select: Socket.Poll(int, SelectMode) / Socket.Select(IList, IList, IList, int)
    private static MethodBase M(string name, params Type[] ps) => typeof(Socket).GetMethod(name, ThreadPatch.All, ps)
        ?? throw new MissingMethodException("Socket", name);

    private static readonly Type s_spanB = typeof(Span<byte>), s_roSpanB = typeof(ReadOnlySpan<byte>), s_errRef = typeof(SocketError).MakeByRefType(), s_epRef = typeof(EndPoint).MakeByRefType();

    public static readonly (MethodBase Target, string Replacement)[] Table =
    [
        (M(nameof(Socket.Receive), s_spanB, typeof(SocketFlags), s_errRef), nameof(Receive)),
        (M(nameof(Socket.Send), s_roSpanB, typeof(SocketFlags), s_errRef), nameof(Send)),
        (M(nameof(Socket.Receive), typeof(IList<ArraySegment<byte>>), typeof(SocketFlags), s_errRef), nameof(ReceiveList)),
        (M(nameof(Socket.SendFile), typeof(string), s_roSpanB, s_roSpanB, typeof(TransmitFileOptions)), nameof(SendFile)),
        (M(nameof(Socket.ReceiveFrom), s_spanB, typeof(SocketFlags), s_epRef), nameof(ReceiveFromSpan)),
        (M(nameof(Socket.ReceiveFrom), typeof(byte[]), typeof(int), typeof(int), typeof(SocketFlags), s_epRef), nameof(ReceiveFromArray)),
        (M(nameof(Socket.SendTo), s_roSpanB, typeof(SocketFlags), typeof(EndPoint)), nameof(SendToSpan)),
        (M(nameof(Socket.SendTo), typeof(byte[]), typeof(int), typeof(int), typeof(SocketFlags), typeof(EndPoint)), nameof(SendToArray)),
        (M(nameof(Socket.Accept)), nameof(Accept)),
        (M(nameof(Socket.Connect), typeof(EndPoint)), nameof(Connect)),
        (M(nameof(Socket.Dispose), typeof(bool)), nameof(DisposeCore)),
        (typeof(Socket).GetProperty(nameof(Socket.Blocking))!.GetMethod!, nameof(GetBlocking)),
        (typeof(Socket).GetProperty(nameof(Socket.Blocking))!.SetMethod!, nameof(SetBlocking)),
        (typeof(Dns).GetMethod(nameof(Dns.GetHostAddresses), [typeof(string)])!, nameof(GetHostAddresses)),
        (typeof(NetworkStream).GetConstructor([typeof(Socket), typeof(FileAccess), typeof(bool)])!, nameof(NetworkStreamCtor)),
    ];

    /// <summary>
    /// Every other blocking overload (the BCL's overloads mostly do not call each other: NetworkStream.Read uses the
    /// byte[] Receive, for one) goes straight to its GreenSocket twin, matched by name and parameters. GreenSocket's
    /// functions themselves act natively off green threads and inside a native scope.
    /// </summary>
    public static (MethodBase Target, MethodInfo Replacement)[] Overloads(bool select) => MatchOverloads(
        select ? [nameof(Socket.Poll), nameof(Socket.Select)] : [nameof(Socket.Receive), nameof(Socket.Send), nameof(Socket.ReceiveFrom), nameof(Socket.SendTo), nameof(Socket.Connect), nameof(Socket.SendFile)],
        Table.Concat(SelectTableCore).Select(t => t.Target).ToHashSet());

    private static (MethodBase, MethodInfo)[] MatchOverloads(string[] names, HashSet<MethodBase> explicitTargets)
    {
        var list = new List<(MethodBase, MethodInfo)>();
        foreach (var m in typeof(Socket).GetMethods(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!names.Contains(m.Name) || explicitTargets.Contains(m)) continue;
            var ps = new[] { typeof(Socket) }.Concat(m.GetParameters().Select(p => p.ParameterType)).ToArray();
            var green = typeof(GreenSocket).GetMethod(m.Name, BindingFlags.Public | BindingFlags.Static, ps);
            if (green != null && green.ReturnType == m.ReturnType) list.Add((m, green));
        }
        foreach (var m in typeof(Socket).GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => names.Contains(m.Name)))
        {
            if (explicitTargets.Contains(m)) continue;
            var green = typeof(GreenSocket).GetMethod(m.Name, BindingFlags.Public | BindingFlags.Static, m.GetParameters().Select(p => p.ParameterType).ToArray());
            if (green != null) list.Add((m, green));
        }
        return list.ToArray();
    }

    public static readonly (MethodBase Target, string Replacement)[] SelectTableCore =
    [
        (M(nameof(Socket.Poll), typeof(int), typeof(SelectMode)), nameof(Poll)),
        (typeof(Socket).GetMethod(nameof(Socket.Select), [typeof(IList), typeof(IList), typeof(IList), typeof(int)])!, nameof(Select)),
    ];

    /// <summary>
    /// Runs the virtual Socket.Dispose(bool) once: until a virtual method is first called its entry still leads to the
    /// prestub and there is no body to detour. A Unix-domain socket does not count as "opened sockets" for the late rule.
    /// </summary>
    internal static void Warm()
    {
        using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    }

    private static delegate*<Socket, Span<byte>, SocketFlags, out SocketError, int> s_receive;
    private static delegate*<Socket, ReadOnlySpan<byte>, SocketFlags, out SocketError, int> s_send;
    private static delegate*<Socket, IList<ArraySegment<byte>>, SocketFlags, out SocketError, int> s_receiveList;
    private static delegate*<Socket, string?, ReadOnlySpan<byte>, ReadOnlySpan<byte>, TransmitFileOptions, void> s_sendFile;
    private static delegate*<Socket, Span<byte>, SocketFlags, ref EndPoint, int> s_receiveFromSpan;
    private static delegate*<Socket, byte[], int, int, SocketFlags, ref EndPoint, int> s_receiveFromArray;
    private static delegate*<Socket, ReadOnlySpan<byte>, SocketFlags, EndPoint, int> s_sendToSpan;
    private static delegate*<Socket, byte[], int, int, SocketFlags, EndPoint, int> s_sendToArray;
    private static delegate*<Socket, Socket> s_accept;
    private static delegate*<Socket, EndPoint, void> s_connect;
    private static delegate*<Socket, bool, void> s_disposeCore;
    private static delegate*<NetworkStream, Socket, FileAccess, bool, void> s_networkStreamCtor;

    internal static void NetworkStreamCtor(NetworkStream self, Socket socket, FileAccess access, bool ownsSocket)
    {
        if (socket is null || !GreenSocket.GetBlocking(socket) || socket.Blocking == NativeSocket.WillBlockField(socket))
        {
            s_networkStreamCtor(self, socket!, access, ownsSocket);
            return;
        }
        // Taken over by green code: non-blocking underneath, blocking for the user. Show the user's view to the
        // constructor's (inlined) check only, and put the BCL's pair of flags back in step right after.
        ref bool willBlock = ref NativeSocket.WillBlockField(socket);
        willBlock = true;
        try
        {
            s_networkStreamCtor(self, socket, access, ownsSocket);
        }
        finally
        {
            willBlock = false;
        }
    }
    private static delegate*<Socket, bool> s_getBlocking;
    private static delegate*<Socket, bool, void> s_setBlocking;
    private static delegate*<string, IPAddress[]> s_getHostAddresses;
    private static delegate*<Socket, int, SelectMode, bool> s_poll;
    private static delegate*<IList?, IList?, IList?, int, void> s_select;

    internal static int Receive(Socket s, Span<byte> buffer, SocketFlags flags, out SocketError error) =>
        PassThrough.Native && Restore(s) ? s_receive(s, buffer, flags, out error) : GreenSocket.Receive(s, buffer, flags, out error);

    internal static int Send(Socket s, ReadOnlySpan<byte> buffer, SocketFlags flags, out SocketError error) =>
        PassThrough.Native && Restore(s) ? s_send(s, buffer, flags, out error) : GreenSocket.Send(s, buffer, flags, out error);

    internal static int ReceiveList(Socket s, IList<ArraySegment<byte>> buffers, SocketFlags flags, out SocketError error) =>
        PassThrough.Native && Restore(s) ? s_receiveList(s, buffers, flags, out error) : GreenSocket.Receive(s, buffers, flags, out error);

    internal static void SendFile(Socket s, string? fileName, ReadOnlySpan<byte> preBuffer, ReadOnlySpan<byte> postBuffer, TransmitFileOptions flags)
    {
        if (PassThrough.Native && Restore(s)) s_sendFile(s, fileName, preBuffer, postBuffer, flags);
        else GreenSocket.SendFile(s, fileName, preBuffer, postBuffer, flags);
    }

    internal static int ReceiveFromSpan(Socket s, Span<byte> buffer, SocketFlags flags, ref EndPoint remote) =>
        PassThrough.Native && Restore(s) ? s_receiveFromSpan(s, buffer, flags, ref remote) : GreenSocket.ReceiveFrom(s, buffer, flags, ref remote);

    internal static int ReceiveFromArray(Socket s, byte[] buffer, int offset, int size, SocketFlags flags, ref EndPoint remote) =>
        PassThrough.Native && Restore(s) ? s_receiveFromArray(s, buffer, offset, size, flags, ref remote) : GreenSocket.ReceiveFrom(s, buffer, offset, size, flags, ref remote);

    internal static int SendToSpan(Socket s, ReadOnlySpan<byte> buffer, SocketFlags flags, EndPoint remote) =>
        PassThrough.Native && Restore(s) ? s_sendToSpan(s, buffer, flags, remote) : GreenSocket.SendTo(s, buffer, flags, remote);

    internal static int SendToArray(Socket s, byte[] buffer, int offset, int size, SocketFlags flags, EndPoint remote) =>
        PassThrough.Native && Restore(s) ? s_sendToArray(s, buffer, offset, size, flags, remote) : GreenSocket.SendTo(s, buffer, offset, size, flags, remote);

    internal static Socket Accept(Socket s) => PassThrough.Native && Restore(s) ? s_accept(s) : GreenSocket.Accept(s);

    internal static void Connect(Socket s, EndPoint remote)
    {
        if (PassThrough.Native && Restore(s)) s_connect(s, remote); else GreenSocket.Connect(s, remote);
    }

    /// <summary>
    /// Before an original call: a socket green code made non-blocking underneath goes back to blocking, so the native
    /// call blocks as the user expects. Always true (it only sits in the condition to keep each replacement one line).
    /// </summary>
    private static bool Restore(Socket s)
    {
        GreenSocket.RestoreForNative(s);
        return true;
    }

    internal static void DisposeCore(Socket s, bool disposing)
    {
        // On any thread: a green thread waiting on this socket must wake with .NET's error, and the hub must
        // drop the fd before its number is reused. Idempotent; finalizer runs (disposing: false) are left alone.
        if (disposing) GreenSocket.Forget(s);
        s_disposeCore(s, disposing);
    }

    internal static bool GetBlocking(Socket s) => PassThrough.Native ? s_getBlocking(s) : GreenSocket.GetBlocking(s);

    internal static void SetBlocking(Socket s, bool value)
    {
        if (PassThrough.Native) s_setBlocking(s, value); else GreenSocket.SetBlocking(s, value);
    }

    internal static IPAddress[] GetHostAddresses(string host) => PassThrough.Native ? s_getHostAddresses(host) : GreenDns.GetHostAddresses(host);

    internal static bool Poll(Socket s, int microSeconds, SelectMode mode) =>
        PassThrough.Native && Restore(s) ? s_poll(s, microSeconds, mode) : GreenSocket.Poll(s, microSeconds, mode);

    internal static void Select(IList? checkRead, IList? checkWrite, IList? checkError, int microSeconds)
    {
        if (PassThrough.Native) s_select(checkRead, checkWrite, checkError, microSeconds);
        else GreenSocket.Select(checkRead, checkWrite, checkError, microSeconds);
    }

    internal static void Bind(string replacement, nint o)
    {
        switch (replacement)
        {
            case nameof(Receive):
                s_receive = (delegate*<Socket, Span<byte>, SocketFlags, out SocketError, int>)o;
                NativeSocket.Receive = static (Socket s, Span<byte> b, SocketFlags f, out SocketError e) => s_receive(s, b, f, out e);
                break;
            case nameof(Send):
                s_send = (delegate*<Socket, ReadOnlySpan<byte>, SocketFlags, out SocketError, int>)o;
                NativeSocket.Send = static (Socket s, ReadOnlySpan<byte> b, SocketFlags f, out SocketError e) => s_send(s, b, f, out e);
                break;
            case nameof(ReceiveList):
                s_receiveList = (delegate*<Socket, IList<ArraySegment<byte>>, SocketFlags, out SocketError, int>)o;
                NativeSocket.ReceiveList = static (Socket s, IList<ArraySegment<byte>> b, SocketFlags f, out SocketError e) => s_receiveList(s, b, f, out e);
                break;
            case nameof(SendFile):
                s_sendFile = (delegate*<Socket, string?, ReadOnlySpan<byte>, ReadOnlySpan<byte>, TransmitFileOptions, void>)o;
                NativeSocket.SendFile = static (s, f, pre, post, fl) => s_sendFile(s, f, pre, post, fl);
                break;
            case nameof(ReceiveFromSpan):
                s_receiveFromSpan = (delegate*<Socket, Span<byte>, SocketFlags, ref EndPoint, int>)o;
                NativeSocket.ReceiveFrom = static (Socket s, Span<byte> b, SocketFlags f, ref EndPoint ep) => s_receiveFromSpan(s, b, f, ref ep);
                break;
            case nameof(ReceiveFromArray): s_receiveFromArray = (delegate*<Socket, byte[], int, int, SocketFlags, ref EndPoint, int>)o; break;
            case nameof(SendToSpan):
                s_sendToSpan = (delegate*<Socket, ReadOnlySpan<byte>, SocketFlags, EndPoint, int>)o;
                NativeSocket.SendTo = static (s, b, f, ep) => s_sendToSpan(s, b, f, ep);
                break;
            case nameof(SendToArray): s_sendToArray = (delegate*<Socket, byte[], int, int, SocketFlags, EndPoint, int>)o; break;
            case nameof(Accept):
                s_accept = (delegate*<Socket, Socket>)o;
                NativeSocket.Accept = static s => s_accept(s);
                break;
            case nameof(Connect):
                s_connect = (delegate*<Socket, EndPoint, void>)o;
                NativeSocket.Connect = static (s, ep) => s_connect(s, ep);
                break;
            case nameof(DisposeCore): s_disposeCore = (delegate*<Socket, bool, void>)o; break;
            case nameof(NetworkStreamCtor): s_networkStreamCtor = (delegate*<NetworkStream, Socket, FileAccess, bool, void>)o; break;
            case nameof(GetBlocking):
                s_getBlocking = (delegate*<Socket, bool>)o;
                NativeSocket.GetBlocking = static s => s_getBlocking(s);
                break;
            case nameof(SetBlocking):
                s_setBlocking = (delegate*<Socket, bool, void>)o;
                NativeSocket.SetBlocking = static (s, b) => s_setBlocking(s, b);
                break;
            case nameof(GetHostAddresses):
                s_getHostAddresses = (delegate*<string, IPAddress[]>)o;
                NativeSocket.GetHostAddresses = static h => s_getHostAddresses(h);
                break;
            case nameof(Poll):
                s_poll = (delegate*<Socket, int, SelectMode, bool>)o;
                NativeSocket.Poll = static (s, us, m) => s_poll(s, us, m);
                break;
            case nameof(Select):
                s_select = (delegate*<IList?, IList?, IList?, int, void>)o;
                NativeSocket.Select = static (r, w, e, us) => s_select(r, w, e, us);
                break;
            default: throw new ArgumentException("unknown replacement " + replacement);
        }
    }
}
