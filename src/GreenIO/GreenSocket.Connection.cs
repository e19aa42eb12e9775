using System.Collections;
using System.Net;
using System.Net.Sockets;
using Evergreen.Internal;
using Evergreen.IO.Internal;

namespace Evergreen.IO;

public static unsafe partial class GreenSocket
{
    // ------------------------------------------------------------------------------------------
    // Accept / Connect
    // ------------------------------------------------------------------------------------------

    /// <summary>
    /// Green <see cref="Socket.Accept"/>: parks the green thread until a connection arrives and returns it. The
    /// accepted socket is blocking from the user's point of view (as the BCL gives it) and already set up for
    /// green use. A close of the listener by another green thread meanwhile throws
    /// <see cref="SocketException"/> <see cref="SocketError.Interrupted"/>, as .NET does on Linux.
    /// </summary>
    /// <exception cref="SocketException">The accept failed (Interrupted when the listener was closed meanwhile).</exception>
    /// <exception cref="ObjectDisposedException">The listener was already closed.</exception>
    public static Socket Accept(Socket s)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (!NativeScope.GreenCaller)
        {
            RestoreForNative(s);
            return IoPatchSeam.Accept(s);
        }
        using var entry = Hub.Enter(out _);
        var st = Prepare(s);
        if (st == null) return IoPatchSeam.Accept(s);
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = IoPatchSeam.Accept(s);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                // The BCL reports EAGAIN on a non-blocking listener only by throwing; one exception a park.
                // Several acceptors on one listener (a pool of accept threads) each get a connection of their own.
                var err = WaitReady(s, st, read: true, -1, SocketError.Interrupted, whole: true);
                if (err != SocketError.Success) throw Error(err);
                KeepNonBlocking(s);
                continue;
            }
            // On Linux the accepted socket inherits O_NONBLOCK from the listener: record it as taken over so
            // it needs no second fcntl on first use, and so non-green users get it back blocking.
            SocketFields.GoNonBlocking(accepted); // make sure the BCL knows; GetBlocking answers the user's view
            StateOf(accepted);
            return accepted;
        }
    }

    /// <summary>
    /// Green <see cref="Socket.Connect(EndPoint)"/>: starts a non-blocking connect and parks the green thread until
    /// it completes. A refused connect throws <see cref="SocketException"/>
    /// <see cref="SocketError.ConnectionRefused"/> naming the endpoint, as the BCL does. Like a blocking BCL
    /// connect there is no timeout of its own; use a <see cref="GreenTimeout"/> scope.
    /// </summary>
    /// <exception cref="SocketException">The connect failed.</exception>
    public static void Connect(Socket s, EndPoint remoteEP)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(remoteEP);
        if (!NativeScope.GreenCaller)
        {
            RestoreForNative(s);
            IoPatchSeam.Connect(s, remoteEP);
            return;
        }
        using var entry = Hub.Enter(out _);
        if (remoteEP is DnsEndPoint dns)
        {
            Connect(s, dns.Host, dns.Port);
            return;
        }
        var st = Prepare(s);
        if (st == null)
        {
            IoPatchSeam.Connect(s, remoteEP);
            return;
        }
        try
        {
            IoPatchSeam.Connect(s, remoteEP);
            return; // loopback can complete at once
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            // EINPROGRESS: wait below
        }
        var waited = WaitReady(s, st, read: false, -1, SocketError.ConnectionAborted);
        var result = waited != SocketError.Success
            ? waited
            : (SocketError)(int)s.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
        if (result != SocketError.Success)
        {
            SocketFields.ClearConnectInProgress(s);
            throw new SocketException((int)result, $"{Error(result).Message} {remoteEP}");
        }
        // Reading Connected completes .NET's own bookkeeping of a non-blocking connect (connected flag,
        // remote endpoint), exactly as a user of a non-blocking socket would.
        _ = s.Connected;
    }

    /// <summary>Green <see cref="Socket.Connect(IPAddress, int)"/>; see <see cref="Connect(Socket, EndPoint)"/>.</summary>
    /// <exception cref="SocketException">The connect failed.</exception>
    public static void Connect(Socket s, IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        Connect(s, new IPEndPoint(address, port));
    }

    /// <summary>
    /// Green <see cref="Socket.Connect(IPAddress[], int)"/>: tries each address of a family the socket can use, in
    /// order, and throws the last failure if none connects.
    /// </summary>
    /// <exception cref="SocketException">No address connected.</exception>
    public static void Connect(Socket s, IPAddress[] addresses, int port)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(addresses);
        if (addresses.Length == 0) throw new ArgumentException("No addresses to connect to.", nameof(addresses));
        Exception? last = null;
        foreach (var a in addresses)
        {
            bool usable = a.AddressFamily == s.AddressFamily ||
                          (s.AddressFamily == AddressFamily.InterNetworkV6 && s.DualMode && a.AddressFamily == AddressFamily.InterNetwork);
            if (!usable) continue;
            try
            {
                Connect(s, new IPEndPoint(a, port));
                return;
            }
            catch (SocketException e)
            {
                last = e;
            }
        }
        throw last ?? new ArgumentException("None of the addresses is of the socket's address family.", nameof(addresses));
    }

    /// <summary>
    /// Green <see cref="Socket.Connect(string, int)"/>: resolves <paramref name="host"/> with
    /// <see cref="GreenDns.GetHostAddresses(string)"/> (the system resolver on a tpool thread) and connects as
    /// <see cref="Connect(Socket, IPAddress[], int)"/> does.
    /// </summary>
    /// <exception cref="SocketException">Resolution or the connect failed.</exception>
    public static void Connect(Socket s, string host, int port)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(host);
        if (!NativeScope.GreenCaller)
        {
            RestoreForNative(s);
            s.Connect(host, port);
            return;
        }
        using var entry = Hub.Enter(out _);
        Connect(s, GreenDns.GetHostAddresses(host), port);
    }

    // ------------------------------------------------------------------------------------------
    // Close
    // ------------------------------------------------------------------------------------------

    /// <summary>
    /// Green <see cref="Socket.Close()"/>: wakes any green thread waiting on the socket with the error .NET gives
    /// a blocking call whose socket is closed under it (Receive/Send: <see cref="SocketError.ConnectionAborted"/>;
    /// Accept: <see cref="SocketError.Interrupted"/>), makes the hub forget the fd (its number will be reused),
    /// then closes. Callable from any thread; off the hub the wake-up is posted to it.
    /// </summary>
    public static void Close(Socket s)
    {
        ArgumentNullException.ThrowIfNull(s);
        Forget(s);
        s.Close();
    }

    /// <summary>Green <see cref="Socket.Close(int)"/> (linger <paramref name="timeout"/> seconds); see <see cref="Close(Socket)"/>.</summary>
    public static void Close(Socket s, int timeout)
    {
        ArgumentNullException.ThrowIfNull(s);
        Forget(s);
        s.Close(timeout);
    }

    /// <summary>Green <see cref="Socket.Dispose()"/>: the same as <see cref="Close(Socket)"/>.</summary>
    public static void Dispose(Socket s) => Close(s);

    internal static void Forget(Socket s)
    {
        if (!s_states.TryGetValue(s, out var st) || st.Closed) return;
        st.Closed = true;
        using var entry = Hub.Enter(out var self);
        if (self != null) ForgetOnHub(st);
        else Hub.Instance.Post(() => ForgetOnHub(st));
    }

    private static void ForgetOnHub(SocketState st)
    {
        Hub.AssertBatonHolder();
        var hub = Hub.Instance;
        // Only the state that owns the fd number may drop it: after a post the number may belong to a new socket.
        if (!s_fdOwners.TryGetValue(st.Fd, out var owner) || owner != st) return;
        s_fdOwners.Remove(st.Fd);
        hub.ForgetFd(st.Fd, s_closedSignal);
        st.ExtraReaders?.WakeAll(hub, true);
        st.ExtraWriters?.WakeAll(hub, true);
    }

    // ------------------------------------------------------------------------------------------
    // Poll / Select / Blocking
    // ------------------------------------------------------------------------------------------

    /// <summary>
    /// Green <see cref="Socket.Poll(int, SelectMode)"/>: parks the green thread on the hub's poller for up to
    /// <paramref name="microSeconds"/> (-1: forever; like .NET, whole milliseconds, so under 1000 µs does not wait) until
    /// the socket is readable, writable, or has an error or urgent data (<see cref="SelectMode.SelectError"/>). A poll
    /// watches the socket beside its reader and writer: it waits beside a thread blocked in Receive or Send on the same
    /// socket, as .NET's does, and is not counted by the one-waiter guard.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket was already closed (closed during the wait, it is reported ready
    /// as by .NET: see <see cref="ReadyOnceClosed"/>).</exception>
    public static bool Poll(Socket s, int microSeconds, SelectMode mode)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (!NativeScope.GreenCaller || WaitMs(microSeconds) == 0) return IoPatchSeam.Poll(s, microSeconds, mode);
        using var entry = Hub.Enter(out _);
        if (IoPatchSeam.Poll(s, 0, mode)) return true;
        var st = StateOf(s);
        ReadOnlySpan<(int, PollEvents)> fds = [(st.Fd, Interest(mode))];
        long deadline = Deadline(microSeconds);
        while (true)
        {
            bool woken = WaitAny(fds, deadline, st, "Poll");
            if (st.Closed) return ReadyOnceClosed(s, mode);
            if (IoPatchSeam.Poll(s, 0, mode)) return true;
            if (!woken) return false;
        }
    }

    /// <summary>Green <see cref="Socket.Poll(TimeSpan, SelectMode)"/>; see <see cref="Poll(Socket, int, SelectMode)"/>.</summary>
    public static bool Poll(Socket s, TimeSpan timeout, SelectMode mode)
    {
        long us = timeout == Timeout.InfiniteTimeSpan ? -1 : (long)timeout.TotalMicroseconds;
        if (us < -1 || us > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(timeout));
        return Poll(s, (int)us, mode);
    }

    /// <summary>
    /// Green <see cref="Socket.Select(IList, IList, IList, int)"/>: parks the green thread on the hub's poller, watching
    /// every listed socket (as <see cref="Poll(Socket, int, SelectMode)"/> watches one) for up to
    /// <paramref name="microSeconds"/> (-1: forever; whole milliseconds, as in .NET), then leaves in each list only the
    /// sockets that are ready, as the BCL does (all lists cleared on timeout). Holds no OS thread while it waits, and
    /// throws what the BCL throws for empty, oversized or non-socket lists and for closed sockets.
    /// </summary>
    /// <exception cref="ArgumentNullException">All three lists are null or empty.</exception>
    /// <exception cref="ArgumentException">A list holds something that is not a <see cref="Socket"/>.</exception>
    /// <exception cref="ObjectDisposedException">A listed socket was already closed (closed during the wait, it is reported
    /// ready as by .NET: see <see cref="ReadyOnceClosed"/>).</exception>
    /// <exception cref="SocketException">The select failed.</exception>
    public static void Select(IList? checkRead, IList? checkWrite, IList? checkError, int microSeconds)
    {
        if (!NativeScope.GreenCaller || WaitMs(microSeconds) == 0)
        {
            IoPatchSeam.Select(checkRead, checkWrite, checkError, microSeconds);
            return;
        }
        using var entry = Hub.Enter(out _);
        // Each round asks the native select, without waiting, on copies of the lists (so it validates them exactly as
        // the BCL does and the lists stay whole until something is ready); a round that finds nothing parks on the hub
        // until an edge on any of the sockets or the deadline. On tpool each waiting select held a pool thread, and 20
        // waiting loops left none for a 21st (diff-p2-select-two-per-connection).
        if (SelectNow(checkRead, checkWrite, checkError, afterWait: false)) return;
        var fds = new (int, PollEvents)[Count(checkRead) + Count(checkWrite) + Count(checkError)];
        int n = 0;
        SocketState? first = null;
        AddInterest(checkRead, PollEvents.Read, fds, ref n, ref first);
        AddInterest(checkWrite, PollEvents.Write, fds, ref n, ref first);
        AddInterest(checkError, PollEvents.Error | PollEvents.Urgent, fds, ref n, ref first);
        long deadline = Deadline(microSeconds);
        while (true)
        {
            bool woken = WaitAny(fds, deadline, first!, fds.Length == 1 ? "Select" : $"Select (one of {fds.Length})");
            if (SelectNow(checkRead, checkWrite, checkError, afterWait: true)) return;
            if (!woken)
            {
                checkRead?.Clear();
                checkWrite?.Clear();
                checkError?.Clear();
                return;
            }
        }
    }

    private static int Count(IList? list) => list?.Count ?? 0;

    private static void AddInterest(IList? list, PollEvents interest, (int, PollEvents)[] fds, ref int n, ref SocketState? first)
    {
        if (list == null) return;
        foreach (var item in list)
        {
            var st = StateOf((Socket)item); // SelectNow has checked that every entry is a socket
            first ??= st;
            fds[n++] = (st.Fd, interest);
        }
    }

    /// <summary>
    /// The native select, not waiting, on copies of the lists: when any socket is ready, filters the lists in place to the
    /// ready ones (as the BCL does) and returns true; otherwise leaves them untouched. Throws what the BCL's select throws.
    /// <paramref name="afterWait"/>: sockets closed during the wait are not asked (the BCL would throw
    /// ObjectDisposedException) but counted ready as .NET reports them (<see cref="ReadyOnceClosed"/>).
    /// </summary>
    private static bool SelectNow(IList? checkRead, IList? checkWrite, IList? checkError, bool afterWait)
    {
        List<object?>? closed = null;
        List<object?>? r = Copy(checkRead, afterWait, SelectMode.SelectRead, ref closed), w = Copy(checkWrite, afterWait, SelectMode.SelectWrite, ref closed),
            e = Copy(checkError, afterWait, SelectMode.SelectError, ref closed);
        if (closed == null || Count(r) + Count(w) + Count(e) > 0) IoPatchSeam.Select(r, w, e, 0);
        if (closed == null && Count(r) + Count(w) + Count(e) == 0) return false;
        KeepReady(checkRead, r, closed, SelectMode.SelectRead);
        KeepReady(checkWrite, w, closed, SelectMode.SelectWrite);
        KeepReady(checkError, e, closed, SelectMode.SelectError);
        return true;
    }

    private static List<object?>? Copy(IList? list, bool skipClosed, SelectMode mode, ref List<object?>? closed)
    {
        if (list == null) return null;
        var copy = new List<object?>(list.Count);
        foreach (var item in list)
        {
            if (skipClosed && item is Socket s && s_states.TryGetValue(s, out var st) && st.Closed)
            {
                if (ReadyOnceClosed(s, mode)) (closed ??= []).Add(s);
                else closed ??= [];
                continue;
            }
            copy.Add(item);
        }
        return copy;
    }

    /// <summary>
    /// Whether .NET's blocking poll or select reports <paramref name="s"/> ready for <paramref name="mode"/> when the socket
    /// is closed during the wait (measured on .NET 10 linux-x64: readable and writable, TCP and UDP; an error only on a
    /// TCP socket, whose close resets the connection). The closed socket can no longer be asked.
    /// </summary>
    private static bool ReadyOnceClosed(Socket s, SelectMode mode) => mode != SelectMode.SelectError || s.SocketType == SocketType.Stream;

    // Removes from the end, as the BCL's FilterPollList does, each entry that is not among the ready ones (nor a socket
    // closed during the wait that counts as ready for this list).
    private static void KeepReady(IList? list, List<object?>? ready, List<object?>? closed, SelectMode mode)
    {
        if (list == null) return;
        for (int i = list.Count - 1; i >= 0; i--)
        {
            var item = list[i];
            bool keep = ready!.Exists(x => ReferenceEquals(x, item)) ||
                (closed != null && item is Socket s && closed.Exists(x => ReferenceEquals(x, s)) && ReadyOnceClosed(s, mode));
            if (!keep) list.RemoveAt(i);
        }
    }

    /// <summary>.NET's wait for a Poll or Select timeout: -1 is forever (-1 returned), else whole milliseconds.</summary>
    private static int WaitMs(int microSeconds) => microSeconds == -1 ? -1 : microSeconds / 1000;

    /// <summary>The deadline in Stopwatch ticks for a Poll or Select timeout; -1 for none (any negative wait: poll(2) waits forever).</summary>
    private static long Deadline(int microSeconds)
    {
        int ms = WaitMs(microSeconds);
        return ms < 0 ? -1 : Green.Now + Hub.ToTicks(TimeSpan.FromMilliseconds(ms));
    }

    private static PollEvents Interest(SelectMode mode) => mode switch
    {
        SelectMode.SelectRead => PollEvents.Read,
        SelectMode.SelectWrite => PollEvents.Write,
        _ => PollEvents.Error | PollEvents.Urgent,
    };

    /// <summary>
    /// Parks until an edge on any of <paramref name="fds"/> (true) or <paramref name="deadline"/> (false; -1: none). A wake
    /// only says something changed: the caller asks the OS again.
    /// </summary>
    private static bool WaitAny(ReadOnlySpan<(int, PollEvents)> fds, long deadline, SocketState noted, string operation)
    {
        long left = deadline < 0 ? -1 : Math.Max(0, deadline - Green.Now);
        if (left == 0) return false;
        var hub = Hub.Instance;
        using var entry = hub.EnterGreen("A green socket poll", out var self);
        self.NoteWait(left < 0 ? WaitKind.Socket : WaitKind.Socket | WaitKind.Timed, noted, operation);
        return hub.WaitAnyFd(fds, left) != PollEvents.None;
    }

    /// <summary>Green <see cref="Socket.Select(IList, IList, IList, TimeSpan)"/>; see <see cref="Select(IList, IList, IList, int)"/>.</summary>
    public static void Select(IList? checkRead, IList? checkWrite, IList? checkError, TimeSpan timeout)
    {
        long us = timeout == Timeout.InfiniteTimeSpan ? -1 : (long)timeout.TotalMicroseconds;
        if (us < -1 || us > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(timeout));
        Select(checkRead, checkWrite, checkError, (int)us);
    }

    /// <summary>
    /// The blocking mode the user asked for (the patch target of <see cref="Socket.Blocking"/>'s getter): true for
    /// a socket green code made non-blocking underneath on the user's behalf.
    /// </summary>
    public static bool GetBlocking(Socket s)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (IoPatchSeam.GetBlocking(s)) return true;
        return s_states.TryGetValue(s, out var st) && st.UserBlocking && !st.Closed;
    }

    /// <summary>
    /// Sets the blocking mode the user asks for (the patch target of <see cref="Socket.Blocking"/>'s setter): false
    /// makes later green calls make one attempt and fail with WouldBlock, as .NET does.
    /// </summary>
    public static void SetBlocking(Socket s, bool blocking)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (s_states.TryGetValue(s, out var st)) st.UserBlocking = blocking;
        // A green call on a socket set back to blocking takes it over again (Prepare sees the OS mode).
        IoPatchSeam.SetBlocking(s, blocking);
    }

    /// <summary>
    /// Allows (or forbids again) several green threads to wait to read, or to write, <paramref name="s"/> at the same time
    /// (eventlet's <c>hub_prevent_multiple_readers(False)</c>). Forbidden by default when GreenSocket is called directly
    /// (a second waiter gets <see cref="InvalidOperationException"/>); allowed by default under <c>Patcher.MonkeyPatch</c>,
    /// where the BCL's sockets let several threads block on one socket. When allowed, the first waiter parks on the hub and
    /// the others queue behind it; whenever it wakes every waiter retries in arrival order and those that find the socket
    /// not ready wait again. Accept on a listener and the waits of a datagram socket are shared this way without it (each
    /// waiter gets a whole unit); Poll and Select never count as waiters.
    /// </summary>
    public static void AllowConcurrentWaiters(Socket s, bool allow)
    {
        ArgumentNullException.ThrowIfNull(s);
        StateOf(s).AllowConcurrent = allow;
    }
}
