using System.Runtime.InteropServices;
using Evergreen;
using Serilog;
using Serilog.Core;
using Serilog.Events;

// Green threads blocked in calls nobody made green (issue 11.2): raw libc calls through P/Invoke. Plain .NET runs the
// other threads meanwhile; patched, the watchdog takes the baton back from the blocked holder (Hub.TakeBack.cs), so
// the other green threads keep running, and the blocked one rejoins the hub at its next green call.
internal static partial class Scenarios
{
    private static bool RunNativeBlocking(string name)
    {
        switch (name)
        {
            case "diff-native-poll": DiffNativePoll(); return true;
            case "diff-native-pipe-read": DiffNativePipeRead(); return true;
            case "diff-native-block-on-main": DiffNativeBlockOnMain(); return true;
            default: return false;
        }
    }

    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static extern int LibcPoll(nint fds, nuint count, int timeoutMs);

    [DllImport("libc", EntryPoint = "pipe", SetLastError = true)]
    private static extern unsafe int LibcPipe(int* fds);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    private static extern unsafe nint LibcRead(int fd, byte* buffer, nuint count);

    [DllImport("libc", EntryPoint = "write", SetLastError = true)]
    private static extern unsafe nint LibcWrite(int fd, byte* buffer, nuint count);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int LibcClose(int fd);

    /// <summary>A thread sleeps 2 s in libc poll(2); another thread counts meanwhile. Did it count during the poll?</summary>
    private static void DiffNativePoll()
    {
        var counter = new Counter();
        int before = 0, after = 0, rc = -2;
        var blocker = new Thread(() =>
        {
            before = counter.Count;
            rc = LibcPoll(0, 0, 2000);
            after = counter.Count;
        });
        blocker.Start();
        blocker.Join();
        counter.Stop();
        Observe($"poll returned {rc}; the other thread counted during it: {after > before}");
    }

    /// <summary>
    /// A thread reads an empty pipe with libc read(2); the only writer is another thread that first counts to 20 with
    /// Thread.Sleep(1). Patched without taking the baton back, the reader holds the hub and the writer can never run.
    /// </summary>
    private static unsafe void DiffNativePipeRead()
    {
        int* fds = stackalloc int[2];
        if (LibcPipe(fds) != 0) throw new InvalidOperationException("pipe failed: " + Marshal.GetLastPInvokeError());
        int readFd = fds[0], writeFd = fds[1];
        int ticks = 0;
        nint written = 0;
        var reader = new Thread(() =>
        {
            byte b = 0;
            nint n = LibcRead(readFd, &b, 1);
            Observe($"read {n} byte '{(char)b}' after the writer counted to {Volatile.Read(ref ticks)}");
        });
        var writer = new Thread(() =>
        {
            for (int i = 0; i < 20; i++)
            {
                Thread.Sleep(1);
                Interlocked.Increment(ref ticks);
            }
            byte x = (byte)'x';
            written = LibcWrite(writeFd, &x, 1);
        });
        reader.Start();
        writer.Start();
        reader.Join();
        writer.Join();
        Observe($"wrote {written} byte");
        LibcClose(readFd);
        LibcClose(writeFd);
    }

    /// <summary>
    /// Main itself blocks natively twice (poll(2) on a pipe) until another thread has counted five more and writes to the
    /// pipe; then both share a lock as usual. Patched, only a take-back lets the other thread run at all.
    /// </summary>
    private static void DiffNativeBlockOnMain()
    {
        using var gate = new NativeGate();
        object turn = new();
        int asked = 0, counted = 0;
        var other = new Thread(() =>
        {
            for (int round = 0; round < 2; round++)
            {
                lock (turn)
                {
                    while (asked <= round) Monitor.Wait(turn);
                }
                for (int k = 0; k < 5; k++)
                {
                    Thread.Sleep(1);
                    Interlocked.Increment(ref counted);
                }
                gate.Open();
            }
        });
        other.Start();
        var progressed = new List<bool>();
        for (int round = 0; round < 2; round++)
        {
            int before = Volatile.Read(ref counted);
            lock (turn)
            {
                asked++;
                Monitor.Pulse(turn);
            }
            gate.WaitNatively();
            progressed.Add(Volatile.Read(ref counted) > before);
            Thread.Sleep(1); // a green call: Main rejoins the hub here
        }
        other.Join();
        Observe($"the other thread counted during each of Main's polls: {string.Join(", ", progressed)}");
    }

    /// <summary>
    /// Patched only: the take-back is logged once per call site, the blocked thread's return is logged with the green call
    /// it came back at, and after it rejoins two threads never overlap in a critical section again (one at a time).
    /// </summary>
    private static unsafe void NativeBlockTakeBackLogged()
    {
        var sink = new CollectingSink();
        Hub.Logger = new LoggerConfiguration().MinimumLevel.Information().WriteTo.Sink(sink).CreateLogger();
        int inside = 0, overlaps = 0;
        void Critical()
        {
            for (int i = 0; i < 200; i++)
            {
                if (Interlocked.Increment(ref inside) != 1) Interlocked.Increment(ref overlaps);
                for (int spin = 0; spin < 100; spin++) Thread.SpinWait(1);
                Interlocked.Decrement(ref inside);
                Thread.Yield();
            }
        }
        // Each round the blocker asks the opener for a byte and waits for it natively: the opener can only run once the
        // baton is taken back, so each of the three rounds needs its own take-back, all at one call site.
        using var gate = new NativeGate();
        object turn = new();
        int asked = 0;
        var opener = new Thread(() =>
        {
            for (int round = 0; round < 3; round++)
            {
                lock (turn)
                {
                    while (asked <= round) Monitor.Wait(turn);
                }
                gate.Open();
            }
        });
        var blocker = new Thread(() =>
        {
            for (int round = 0; round < 3; round++)
            {
                lock (turn)
                {
                    asked++;
                    Monitor.Pulse(turn);
                }
                gate.WaitNatively();
                Thread.Yield(); // a green call: back on the hub
            }
            Critical();
        });
        var other = new Thread(Critical);
        opener.Start();
        blocker.Start();
        other.Start();
        blocker.Join();
        other.Join();
        opener.Join();
        long takeBacks = Hub.Instance.TakeBacks;
        var warnings = sink.Messages(LogEventLevel.Warning).Where(m => m.Contains("took the baton back", StringComparison.Ordinal)).ToList();
        var returns = sink.Messages(LogEventLevel.Information).Where(m => m.Contains("is back on the hub", StringComparison.Ordinal)).ToList();
        if (takeBacks < 3) throw new InvalidOperationException($"expected the baton taken back at each of 3 polls, got {takeBacks}");
        if (warnings.Count != 1 || !warnings[0].Contains("poll", StringComparison.Ordinal))
            throw new InvalidOperationException($"expected one take-back warning naming poll, got {warnings.Count}: {string.Join(" | ", warnings)}");
        if (returns.Count != 1 || !returns[0].Contains(nameof(NativeBlockTakeBackLogged), StringComparison.Ordinal))
            throw new InvalidOperationException($"expected one return report with the green call's stack, got {returns.Count}: {string.Join(" | ", returns)}");
        if (overlaps != 0) throw new InvalidOperationException($"{overlaps} overlapping critical sections after the blocked thread rejoined");
        Console.WriteLine(warnings[0]);
    }

    /// <summary>A pipe one thread waits on natively, in libc poll(2), until another thread writes a byte to it.</summary>
    private sealed unsafe class NativeGate : IDisposable
    {
        private readonly int _readFd, _writeFd;

        public NativeGate()
        {
            int* fds = stackalloc int[2];
            if (LibcPipe(fds) != 0) throw new InvalidOperationException("pipe failed: " + Marshal.GetLastPInvokeError());
            _readFd = fds[0];
            _writeFd = fds[1];
        }

        /// <summary>Blocks in poll(2) (60 s safety bound) until a byte arrives, and takes it.</summary>
        public void WaitNatively()
        {
            var pfd = new PollFd { Fd = _readFd, Events = 1 /* POLLIN */ };
            if (LibcPollFds(&pfd, 1, 60_000) != 1) throw new InvalidOperationException("no byte within the 60 s bound");
            byte b;
            if (LibcRead(_readFd, &b, 1) != 1) throw new InvalidOperationException("read failed: " + Marshal.GetLastPInvokeError());
        }

        /// <summary>Lets one <see cref="WaitNatively"/> through.</summary>
        public void Open()
        {
            byte b = 1;
            if (LibcWrite(_writeFd, &b, 1) != 1) throw new InvalidOperationException("write failed: " + Marshal.GetLastPInvokeError());
        }

        public void Dispose()
        {
            LibcClose(_readFd);
            LibcClose(_writeFd);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static extern unsafe int LibcPollFds(PollFd* fds, nuint count, int timeoutMs);

    /// <summary>A thread that counts with Thread.Sleep(1) until stopped; it has counted once when the constructor returns.</summary>
    private sealed class Counter
    {
        private readonly Thread _thread;
        private int _count;
        private bool _stop;

        public Counter()
        {
            _thread = new Thread(() =>
            {
                while (!Volatile.Read(ref _stop))
                {
                    Thread.Sleep(1);
                    Interlocked.Increment(ref _count);
                }
            });
            _thread.Start();
            while (Count == 0) Thread.Sleep(1);
        }

        public int Count => Volatile.Read(ref _count);

        public void Stop()
        {
            Volatile.Write(ref _stop, true);
            _thread.Join();
        }
    }

    private sealed class CollectingSink : ILogEventSink
    {
        private readonly List<(LogEventLevel Level, string Text)> _events = new();

        public void Emit(LogEvent logEvent)
        {
            lock (_events) _events.Add((logEvent.Level, logEvent.RenderMessage()));
        }

        public List<string> Messages(LogEventLevel level)
        {
            lock (_events) return _events.Where(e => e.Level == level).Select(e => e.Text).ToList();
        }
    }
}
