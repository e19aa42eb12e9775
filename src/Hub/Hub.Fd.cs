using Evergreen.Internal;

namespace Evergreen;

public sealed partial class Hub
{
    /// <summary>
    /// Waiters on one file descriptor: at most one reader and one writer (eventlet's guard; GreenSocket queues any more
    /// behind them), and any number of watchers (<see cref="WaitAnyFd"/>).
    /// </summary>
    private sealed class FdState
    {
        public GreenThread? Reader, Writer;
        public int ReaderWait, WriterWait;

        // False once the caller saw the fd drained for reading (EAGAIN, or a short TCP read) and no edge arrived since:
        // the poller is edge-triggered, so any new data reports an edge at a later poll.
        public bool MayRead = true;

        // Sticky once the poller reported urgent data, a hang-up or an error on this fd: a short read then no longer
        // proves the fd drained. TCP cuts a read short at the urgent mark with data queued behind it; and one read can
        // return the last bytes and consume the FIN (or leave a reset pending) behind them — EOF and errors are
        // states, not data, and no further edge reports them.
        public bool ShortReadUnproven;

        // Green threads in WaitAnyFd watching this fd beside others. Not readers or writers: the one-waiter guard
        // does not count them, and a readiness edge wakes each of them as well as the reader or writer.
        public List<FdWatch>? Watchers;
    }

    /// <summary>One green thread's interest in one fd during a <see cref="WaitAnyFd"/>.</summary>
    private readonly record struct FdWatch(GreenThread Thread, int WaitId, PollEvents Interest);

    /// <summary>
    /// False when <paramref name="fd"/> is known to have nothing to read: the caller saw it drained
    /// (<see cref="FdDrained"/>) and the poller reported no edge since, so a read would only return EAGAIN. True when
    /// unknown. The baton holder only (asserted in debug builds).
    /// </summary>
    internal bool FdMayBeReadable(int fd)
    {
        AssertBatonHolder();
        return !_fds.TryGetValue(fd, out var st) || st.MayRead;
    }

    /// <summary>
    /// Records that the caller, holding the baton since its read, saw <paramref name="fd"/> drained: the read returned
    /// EAGAIN, or (<paramref name="shortRead"/>) a TCP read returned less than asked — which proves nothing once urgent
    /// data, a hang-up or an error was reported on the fd. The next read edge makes it readable again.
    /// </summary>
    internal void FdDrained(int fd, bool shortRead = false)
    {
        AssertBatonHolder();
        if (!_fds.TryGetValue(fd, out var st)) return;
        if (shortRead && st.ShortReadUnproven) return;
        st.MayRead = false;
    }

    private readonly Dictionary<int, FdState> _fds = new();
    private int _fdWaiters;
    private readonly PollResult[] _pollResults = new PollResult[256];

    /// <summary>
    /// Waits greenly until <paramref name="fd"/> is ready for <paramref name="events"/> (Read or Write), or
    /// <paramref name="timeoutTicks"/> (Stopwatch ticks; negative: forever) passes. Returns the readiness seen,
    /// or <see cref="PollEvents.None"/> on timeout. The poller is edge-triggered: call this only after the
    /// operation reported it would block. A second green thread waiting to read (or write) the same fd gets
    /// <see cref="InvalidOperationException"/> — eventlet's "second simultaneous read" guard.
    /// </summary>
    internal PollEvents WaitFd(int fd, PollEvents events, long timeoutTicks)
    {
        using var entry = EnterGreen("Waiting for a file descriptor", out var self);
        bool read = (events & PollEvents.Read) != 0;
        if (read == ((events & PollEvents.Write) != 0))
            throw new ArgumentException("Wait for exactly one of Read or Write.", nameof(events));
        var st = StateForFd(fd);
        var current = read ? st.Reader : st.Writer;
        if (current != null && current.Blocked && current.WaitId == (read ? st.ReaderWait : st.WriterWait))
            throw new InvalidOperationException(
                $"Second simultaneous {(read ? "read" : "write")} on fd {fd}: green thread {current.Name} is already waiting to " +
                $"{(read ? "read" : "write")} it. Only one green thread may wait on each direction of a socket.");
        if (self.WaitKind == WaitKind.None) self.NoteWait(WaitKind.Fd, fd, read ? "readable" : "writable"); // not noted by GreenSocket: Green.Trampoline
        int id = BeginWait(self);
        if (read) { st.Reader = self; st.ReaderWait = id; } else { st.Writer = self; st.WriterWait = id; }
        try
        {
            return BlockForFd(self, id, timeoutTicks);
        }
        finally
        {
            if (read) { if (st.Reader == self) st.Reader = null; } else if (st.Writer == self) st.Writer = null;
        }
    }

    /// <summary>
    /// Parks <paramref name="self"/>, registered under wait <paramref name="id"/> on its fds, until an fd wakes it (the
    /// readiness) or <paramref name="timeoutTicks"/> passes (<see cref="PollEvents.None"/>). Not interruptible: a blocking
    /// socket call, select or poll is not interrupted by Thread.Interrupt in .NET on Linux either.
    /// </summary>
    private PollEvents BlockForFd(GreenThread self, int id, long timeoutTicks)
    {
        WakeTimer? timer = timeoutTicks >= 0 ? AddWakeTimer(self, id, timeoutTicks) : null;
        _fdWaiters++;
        self.NoInterrupt++;
        try
        {
            var v = Block(self);
            return v is PollEventsBox pe ? pe.Value : PollEvents.None;
        }
        finally
        {
            self.NoInterrupt--;
            _fdWaiters--;
            if (timer != null) CancelTimer(timer);
        }
    }

    /// <summary>True while a green thread watches <paramref name="fd"/> in <see cref="WaitAnyFd"/>; for tests and diagnostics.</summary>
    internal bool FdWatched(int fd)
    {
        AssertBatonHolder();
        return _fds.TryGetValue(fd, out var st) && st.Watchers is { Count: > 0 };
    }

    private FdState StateForFd(int fd)
    {
        if (!_fds.TryGetValue(fd, out var st))
        {
            _poller.Register(fd);
            st = new FdState();
            _fds[fd] = st;
        }
        return st;
    }

    /// <summary>
    /// Waits greenly until any of <paramref name="fds"/> reports readiness intersecting its interest, or
    /// <paramref name="timeoutTicks"/> (Stopwatch ticks; negative: forever) passes. Returns the readiness of the fd that
    /// woke the caller (<see cref="PollEvents.Error"/> when it was forgotten, i.e. closed, meanwhile), or
    /// <see cref="PollEvents.None"/> on timeout. The poller is edge-triggered: check readiness first and call this only
    /// when nothing was ready; a wake says an edge arrived since, not that the fd is still ready, so callers check again.
    /// The caller is a watcher, not a reader or writer: any number of green threads may watch an fd beside its one
    /// reader and one writer (select and poll, which consume nothing), and watchers are woken before them.
    /// </summary>
    internal PollEvents WaitAnyFd(ReadOnlySpan<(int Fd, PollEvents Interest)> fds, long timeoutTicks)
    {
        using var entry = EnterGreen("Waiting for file descriptors", out var self);
        if (self.WaitKind == WaitKind.None) self.NoteWait(WaitKind.Fd, fds.Length == 1 ? fds[0].Fd : null, $"any of {fds.Length} fds");
        int id = BeginWait(self);
        var states = new FdState[fds.Length];
        for (int i = 0; i < fds.Length; i++)
        {
            states[i] = StateForFd(fds[i].Fd);
            (states[i].Watchers ??= []).Add(new FdWatch(self, id, fds[i].Interest));
        }
        try
        {
            return BlockForFd(self, id, timeoutTicks);
        }
        finally
        {
            foreach (var st in states) RemoveWatch(st.Watchers!, self, id);
        }
    }

    // A plain loop: RemoveAll with a capturing lambda would allocate a closure on every Poll and Select.
    private static void RemoveWatch(List<FdWatch> watchers, GreenThread self, int id)
    {
        for (int i = watchers.Count - 1; i >= 0; i--)
            if (watchers[i].Thread == self && watchers[i].WaitId == id) watchers.RemoveAt(i);
    }

    /// <summary>
    /// Forgets <paramref name="fd"/> before it is closed: waiters are woken with <paramref name="wakeWith"/>
    /// (the error .NET gives for a socket closed under a blocking call) and the poller stops watching it.
    /// </summary>
    internal void ForgetFd(int fd, Func<Exception>? wakeWith)
    {
        AssertBatonHolder();
        if (!_fds.Remove(fd, out var st)) return;
        _poller.Unregister(fd);
        // Watchers are woken to look again: what a closed fd means for their poll or select is theirs to say.
        if (st.Watchers is { } ws) foreach (var watch in ws) Wake(watch.Thread, watch.WaitId, PollEventsBox.Of(PollEvents.Error));
        if (wakeWith == null) return;
        if (st.Reader is { } r && r.Blocked && r.WaitId == st.ReaderWait) Throw(r, wakeWith());
        if (st.Writer is { } w && w.Blocked && w.WaitId == st.WriterWait) Throw(w, wakeWith());
    }

    /// <summary>
    /// A readiness value as a wake value, one preallocated object for each of the 8 combinations: boxing a
    /// <see cref="PollEvents"/> per wake allocated 24 B for every message an echo server handled, and each GC
    /// with 1,000 green threads alive costs ~40 ms here (measured: the echo server with a once-a-second
    /// GC.GetTotalAllocatedBytes monitor, C=1000: ~1 MB/s and gen0 GCs of 38-45 ms before this and the socket
    /// timeout read were fixed; 0 KB over 50k messages after).
    /// </summary>
    private sealed class PollEventsBox(PollEvents value)
    {
        public readonly PollEvents Value = value;
        private static readonly PollEventsBox[] s_all = [.. Enumerable.Range(0, 8).Select(i => new PollEventsBox((PollEvents)i))];
        public static PollEventsBox Of(PollEvents e) => s_all[(int)e & 7];
    }

    private void PollIo(int timeoutMs)
    {
        int n;
        if (timeoutMs == 0)
        {
            n = _poller.Wait(_pollResults, 0);
        }
        else
        {
            _polling = true; // idle in the poller: not "holding the hub" for the blocking detector
            n = _poller.Wait(_pollResults, timeoutMs);
            _polling = false;
            _progress++;
        }
        if (ScheduleMode.Hooks) ShufflePollResults(n);
        for (int i = 0; i < n; i++)
        {
            var r = _pollResults[i];
            if (!_fds.TryGetValue(r.Fd, out var st)) continue;
            if ((r.Events & PollEvents.Read) != 0) st.MayRead = true;
            if ((r.Events & (PollEvents.Urgent | PollEvents.Hangup | PollEvents.Error)) != 0) st.ShortReadUnproven = true;
            // Watchers first: a poll beside a blocked receive sees the data before the receive takes it. Natively the
            // kernel wakes both and either may win (a poll that looks after the receive took the data waits on).
            if (st.Watchers is { } ws)
                foreach (var w in ws)
                    if ((r.Events & w.Interest) != 0) Wake(w.Thread, w.WaitId, PollEventsBox.Of(r.Events));
            if ((r.Events & PollEvents.Read) != 0 && st.Reader is { } rd) Wake(rd, st.ReaderWait, PollEventsBox.Of(r.Events));
            if ((r.Events & PollEvents.Write) != 0 && st.Writer is { } wr) Wake(wr, st.WriterWait, PollEventsBox.Of(r.Events));
        }
    }
}
