using System.Collections;
using System.Net;
using System.Net.Sockets;

namespace Evergreen.IO.Internal;

/// <summary>
/// GreenIO's seam: the BCL members the green functions call to do the real work (a non-blocking attempt, or the plain
/// blocking call off green threads), one function pointer each. Unset, each calls the BCL member. The monkey patch
/// detours those very members to the green functions, so its socket and select tables point each slot at the saved
/// original before any detour is written (otherwise a green call would recur into itself); nothing else sets them.
/// </summary>
internal static unsafe class IoPatchSeam
{
    internal static delegate*<Socket, Span<byte>, SocketFlags, out SocketError, int> Receive = &Bcl.Receive;
    internal static delegate*<Socket, IList<ArraySegment<byte>>, SocketFlags, out SocketError, int> ReceiveList = &Bcl.ReceiveList;
    internal static delegate*<Socket, ReadOnlySpan<byte>, SocketFlags, out SocketError, int> Send = &Bcl.Send;
    internal static delegate*<Socket, IList<ArraySegment<byte>>, SocketFlags, out SocketError, int> SendList = &Bcl.SendList;
    internal static delegate*<Socket, string?, ReadOnlySpan<byte>, ReadOnlySpan<byte>, TransmitFileOptions, void> SendFile = &Bcl.SendFile;
    internal static delegate*<Socket, Span<byte>, SocketFlags, ref EndPoint, int> ReceiveFrom = &Bcl.ReceiveFrom;
    internal static delegate*<Socket, Span<byte>, ref SocketFlags, ref EndPoint, out IPPacketInformation, int> ReceiveMessageFrom = &Bcl.ReceiveMessageFrom;
    internal static delegate*<Socket, ReadOnlySpan<byte>, SocketFlags, EndPoint, int> SendTo = &Bcl.SendTo;
    internal static delegate*<Socket, Span<byte>, SocketFlags, SocketAddress, int> ReceiveFromAddress = &Bcl.ReceiveFromAddress;
    internal static delegate*<Socket, ReadOnlySpan<byte>, SocketFlags, SocketAddress, int> SendToAddress = &Bcl.SendToAddress;
    internal static delegate*<Socket, Socket> Accept = &Bcl.Accept;
    internal static delegate*<Socket, EndPoint, void> Connect = &Bcl.Connect;
    internal static delegate*<Socket, int, SelectMode, bool> Poll = &Bcl.Poll;
    internal static delegate*<IList?, IList?, IList?, int, void> Select = &Bcl.Select;
    internal static delegate*<Socket, bool> GetBlocking = &Bcl.GetBlocking;
    internal static delegate*<Socket, bool, void> SetBlocking = &Bcl.SetBlocking;
    /// <summary>
    /// Set by the monkey patch's socket table: every socket shares its waits as .NET's sockets do (see
    /// <see cref="GreenSocket.AllowConcurrentWaiters"/>), because patched code is plain .NET code, which may block
    /// several threads on one socket. Unset, a stream socket keeps eventlet's one waiter a direction.
    /// </summary>
    internal static bool SharedWaiters;

    internal static delegate*<string, AddressFamily, IPAddress[]> GetHostAddresses = &Dns.GetHostAddresses;
    internal static delegate*<string, AddressFamily, IPHostEntry> GetHostEntry = &Dns.GetHostEntry;
    internal static delegate*<IPAddress, IPHostEntry> GetHostEntryByAddress = &Dns.GetHostEntry;

    /// <summary>The unset slots: the BCL members themselves.</summary>
    private static class Bcl
    {
        public static int Receive(Socket s, Span<byte> b, SocketFlags f, out SocketError e) => s.Receive(b, f, out e);
        public static int ReceiveList(Socket s, IList<ArraySegment<byte>> b, SocketFlags f, out SocketError e) => s.Receive(b, f, out e);
        public static int Send(Socket s, ReadOnlySpan<byte> b, SocketFlags f, out SocketError e) => s.Send(b, f, out e);
        public static int SendList(Socket s, IList<ArraySegment<byte>> b, SocketFlags f, out SocketError e) => s.Send(b, f, out e);
        public static void SendFile(Socket s, string? file, ReadOnlySpan<byte> pre, ReadOnlySpan<byte> post, TransmitFileOptions f) => s.SendFile(file, pre, post, f);
        public static int ReceiveFrom(Socket s, Span<byte> b, SocketFlags f, ref EndPoint ep) => s.ReceiveFrom(b, f, ref ep);
        public static int ReceiveMessageFrom(Socket s, Span<byte> b, ref SocketFlags f, ref EndPoint ep, out IPPacketInformation i) =>
            s.ReceiveMessageFrom(b, ref f, ref ep, out i);
        public static int SendTo(Socket s, ReadOnlySpan<byte> b, SocketFlags f, EndPoint ep) => s.SendTo(b, f, ep);
        public static int ReceiveFromAddress(Socket s, Span<byte> b, SocketFlags f, SocketAddress a) => s.ReceiveFrom(b, f, a);
        public static int SendToAddress(Socket s, ReadOnlySpan<byte> b, SocketFlags f, SocketAddress a) => s.SendTo(b, f, a);
        public static Socket Accept(Socket s) => s.Accept();
        public static void Connect(Socket s, EndPoint ep) => s.Connect(ep);
        public static bool Poll(Socket s, int us, SelectMode m) => s.Poll(us, m);
        public static void Select(IList? r, IList? w, IList? e, int us) => Socket.Select(r, w, e, us);
        public static bool GetBlocking(Socket s) => s.Blocking;
        public static void SetBlocking(Socket s, bool b) => s.Blocking = b;
    }
}
