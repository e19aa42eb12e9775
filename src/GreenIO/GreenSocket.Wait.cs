using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Evergreen.Internal;
using Evergreen.IO.Internal;

namespace Evergreen.IO;

public static unsafe partial class GreenSocket
{
    // The core every green operation shares: take the socket over (non-blocking underneath, the user's
    // blocking mode remembered), and park on the hub's poller after the OS said EAGAIN.

    private static readonly ConditionalWeakTable<Socket, SocketState> s_states = new();

    // fd → the state that last registered it with the hub. fd numbers are reused after close; a socket
    // closed behind our back (unpatched Close, a finalizer) leaves the hub's registration for the old
    // file, which epoll dropped when the file closed. A new owner of the number must make the hub forget
    // it so the next wait registers the new file. The baton holder only (Claim, ForgetOnHub; asserted in debug builds).
    private static readonly Dictionary<int, SocketState> s_fdOwners = new();

    /// <summary>Thrown into a waiter by the hub when its socket is closed under it; each operation turns it into .NET's error.</summary>
    private sealed class ClosedSignal : Exception;

    private static readonly Func<Exception> s_closedSignal = static () => new ClosedSignal();

    /// <summary>
    /// On a green thread: returns the state of a socket the user wants blocking, taking it over (making the
    /// OS socket non-blocking) if needed; null if the user chose non-blocking, in which case the caller just
    /// calls the original once, as .NET does.
    /// </summary>
    private static SocketState? Prepare(Socket s)
    {
        if (s_states.TryGetValue(s, out var known))
        {
            if (!known.UserBlocking) return null;
            KeepNonBlocking(s); // a non-green caller may have put it back to blocking meanwhile
            return known;
        }
        if (!IoPatchSeam.GetBlocking(s)) return null; // the user chose non-blocking before any green use
        SocketFields.GoNonBlocking(s);
        var st = StateOf(s);
        st.UserBlocking = true;
        return st;
    }

    /// <summary>The state of <paramref name="s"/>, created (and its fd claimed from any stale owner) on first use.</summary>
    private static SocketState StateOf(Socket s)
    {
        if (s_states.TryGetValue(s, out var st)) return st;
        st = new SocketState(s);
        s_states.AddOrUpdate(s, st);
        Claim(st);
        return st;
    }

    private static void Claim(SocketState st)
    {
        using var entry = Hub.Enter(out var self);
        if (self == null) return;
        Hub.AssertBatonHolder();
        if (s_fdOwners.TryGetValue(st.Fd, out var prev) && prev != st)
            Hub.Instance.ForgetFd(st.Fd, null);
        s_fdOwners[st.Fd] = st;
    }

    /// <summary>
    /// Off green threads the BCL runs the call itself and must find the socket in the mode the user asked for:
    /// a socket green code made non-blocking goes back to blocking before a plain blocking call.
    /// </summary>
    internal static void RestoreForNative(Socket s)
    {
        if (SocketFields.IsInternallyNonBlocking(s) && s_states.TryGetValue(s, out var st) && st.UserBlocking && !st.Closed)
            IoPatchSeam.SetBlocking(s, true);
    }

    /// <summary>Keeps the OS socket non-blocking across retries (a non-green thread may have restored it meanwhile).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void KeepNonBlocking(Socket s)
    {
        if (!SocketFields.IsInternallyNonBlocking(s)) SocketFields.GoNonBlocking(s);
    }

    /// <summary>
    /// Ticks left before the operation's deadline: on the first call it is set from the socket's ReceiveTimeout
    /// (<paramref name="receive"/>) or SendTimeout (0 or -1 mean none, as for .NET's blocking calls). Returns -1
    /// for no deadline, 0 once it has passed.
    /// </summary>
    private static long Remaining(ref long deadline, Socket s, bool receive)
    {
        if (deadline == 0)
        {
            int timeoutMs = SocketFields.TimeoutMs(s, receive);
            deadline = timeoutMs > 0 ? Green.Now + Hub.ToTicks(TimeSpan.FromMilliseconds(timeoutMs)) : -1;
        }
        if (deadline < 0) return -1;
        return Math.Max(0, deadline - Green.Now);
    }

    /// <summary>
    /// Parks the calling green thread until <paramref name="s"/> is ready to read (or write), then returns
    /// <see cref="SocketError.Success"/> so the caller retries. Returns <see cref="SocketError.TimedOut"/> when
    /// <paramref name="timeoutTicks"/> passes and <paramref name="closedError"/> when the socket is closed
    /// meanwhile. Throws <see cref="InvalidOperationException"/> naming the socket when another green thread
    /// already waits the same way and concurrent waiters were not allowed; a kill or GreenTimeout scope propagates.
    /// <paramref name="whole"/>: the operation hands each caller a whole unit (a connection, a datagram), so waiters
    /// share the socket without being allowed explicitly — eventlet's guard is for byte streams, whose reads interleave.
    /// </summary>
    private static SocketError WaitReady(Socket s, SocketState st, bool read, long timeoutTicks, SocketError closedError,
        bool whole = false, [CallerMemberName] string operation = "")
    {
        if (st.Closed) return closedError;
        if (timeoutTicks == 0) return SocketError.TimedOut;
        var hub = Hub.Instance;
        using var entry = hub.EnterGreen("A green socket wait", out var self);
        var parked = read ? st.Reader : st.Writer;
        if (parked != null)
        {
            if (!st.AllowConcurrent && !whole) throw SecondWaiter(s, st, read, parked.Name, null);
            var extra = read ? st.ExtraReaders ??= new WaitList() : st.ExtraWriters ??= new WaitList();
            self.NoteWait(timeoutTicks < 0 ? WaitKind.Socket : WaitKind.Socket | WaitKind.Timed, st, operation);
            if (!extra.Wait(hub, self, timeoutTicks, out _)) return SocketError.TimedOut;
            return st.Closed ? closedError : SocketError.Success;
        }
        if (read) st.Reader = self; else st.Writer = self;
        PollEvents ready;
        try
        {
            self.NoteWait(timeoutTicks < 0 ? WaitKind.Socket : WaitKind.Socket | WaitKind.Timed, st, operation);
            ready = hub.WaitFd(st.Fd, read ? PollEvents.Read : PollEvents.Write, timeoutTicks);
        }
        catch (ClosedSignal)
        {
            return closedError;
        }
        catch (InvalidOperationException e) when (e.GetType() == typeof(InvalidOperationException))
        {
            // The hub's own guard: someone waited on this fd without going through GreenSocket.
            throw SecondWaiter(s, st, read, null, e);
        }
        finally
        {
            if (read) st.Reader = null; else st.Writer = null;
            // Whatever ended the parked wait (readiness, timeout, kill, close), the extra waiters retry:
            // one of them becomes the parked waiter if the data was taken.
            (read ? st.ExtraReaders : st.ExtraWriters)?.WakeAll(hub, true);
        }
        if (st.Closed) return closedError;
        return ready == PollEvents.None ? SocketError.TimedOut : SocketError.Success;
    }

    private static InvalidOperationException SecondWaiter(Socket s, SocketState st, bool read, string? other, Exception? inner)
    {
        string dir = read ? "read" : "write";
        return new InvalidOperationException(
            $"Second simultaneous {dir} on socket {Describe(s, st)}: green thread {other ?? "(unknown)"} is already waiting to {dir} it. " +
            $"Only one green thread may wait on each direction of a socket; call GreenSocket.AllowConcurrentWaiters(socket, true) " +
            "if several are meant to share it.", inner);
    }

    internal static string Describe(Socket s, SocketState st)
    {
        string ends;
        try
        {
            ends = $"{s.LocalEndPoint?.ToString() ?? "unbound"} -> {s.RemoteEndPoint?.ToString() ?? "unconnected"}";
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
            ends = "closed";
        }
        return $"{s.SocketType}/{s.ProtocolType} {ends} (fd {st.Fd})";
    }

    private static SocketException Error(SocketError e) => new((int)e);

    /// <summary>True while a green thread is parked waiting to read (or write) <paramref name="s"/>; for tests and diagnostics.</summary>
    internal static bool HasWaiter(Socket s, bool read) =>
        s_states.TryGetValue(s, out var st) && (read ? st.Reader : st.Writer) != null;

    /// <summary>True while a green thread is parked in Poll or Select watching <paramref name="s"/>; for tests and diagnostics.</summary>
    internal static bool HasWatcher(Socket s)
    {
        using var entry = Hub.Enter(out _);
        return s_states.TryGetValue(s, out var st) && Hub.Instance.FdWatched(st.Fd);
    }

    /// <summary>True when the hub knows <paramref name="s"/> has nothing to read, so a green Receive parks without a recv; for tests.</summary>
    internal static bool KnownDrained(Socket s)
    {
        using var entry = Hub.Enter(out _);
        return s_states.TryGetValue(s, out var st) && !Hub.Instance.FdMayBeReadable(st.Fd);
    }
}
