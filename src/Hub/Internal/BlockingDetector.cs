using System.Diagnostics;

namespace Evergreen.Internal;

/// <summary>
/// Reports a green thread that holds the hub without switching (eventlet's hub_blocking_detection, on by default
/// here; gevent's monitor thread is off by default). A native watchdog thread, off the hub's CPU, samples the hub's
/// progress counter; when it has not moved for <see cref="ThresholdMs"/> while the hub is neither idle nor polling, it
/// logs one warning per episode naming the green thread and what its OS thread is doing in the kernel (state,
/// wchan, system call) — .NET cannot read another thread's managed stack, but "blocked in read(2)" or "running on the
/// CPU" already says which kind of mistake it is. It also watches the hub when nobody runs green code: if runnable
/// threads, an overdue timer or posts stay due for the threshold while the hub is idle or asleep in the poller and its
/// progress counter stands still, a wake-up was lost, and it logs one error per episode saying what is due and who has
/// the baton (issue 11.8). <c>EVERGREEN_BLOCK_DETECT_MS</c> sets the threshold (default 1000; 0 turns it off). The same
/// thread gives runtime threads that inherited the hub's CPU pin the process's set back
/// (<see cref="CpuAffinity.UnpinStrays"/>), every 250 ms whether reporting is on or off.
/// </summary>
internal sealed class BlockingDetector
{
    private static int s_thresholdMs =
        int.TryParse(Environment.GetEnvironmentVariable("EVERGREEN_BLOCK_DETECT_MS"), out int ms) && ms >= 0 ? ms : 1000;

    private static int s_takeBackMs =
        int.TryParse(Environment.GetEnvironmentVariable("EVERGREEN_TAKEBACK_MS"), out int tb) && tb >= 0 ? tb : 10;

    private readonly Hub _hub;
    private long _reports;
    private readonly HashSet<string> _takeBackSitesLogged = new(); // the watchdog's own
    private readonly HashSet<string> _rejoinSitesLogged = new();   // under the baton

    public BlockingDetector(Hub hub) => _hub = hub;

    /// <summary>The threshold in milliseconds; 0 turns reporting off. Read on every sample, so it can change at run time.</summary>
    public static int ThresholdMs
    {
        get => Volatile.Read(ref s_thresholdMs);
        set => Volatile.Write(ref s_thresholdMs, Math.Max(0, value));
    }

    /// <summary>
    /// How long, in milliseconds, the baton holder may stay blocked in the kernel outside the hub before the watchdog
    /// takes the baton back (<see cref="Hub.TryTakeBack"/>); 0 turns taking back off. <c>EVERGREEN_TAKEBACK_MS</c>, default 10.
    /// </summary>
    public static int TakeBackMs
    {
        get => Volatile.Read(ref s_takeBackMs);
        set => Volatile.Write(ref s_takeBackMs, Math.Max(0, value));
    }

    /// <summary>Warnings logged so far.</summary>
    public long Reports => Interlocked.Read(ref _reports);

    public void Start() =>
        Hub.StartNativeThread(new Thread(Run, 256 * 1024) { IsBackground = true, Name = "evergreen-watchdog" });

    private void Run()
    {
        long lastProgress = -1, lastChange = Stopwatch.GetTimestamp(), dueSince = 0;
        long lastUnpin = 0, unpinEvery = Hub.ToTicks(TimeSpan.FromMilliseconds(250));
        bool reported = false, stallReported = false;
        while (true)
        {
            int threshold = ThresholdMs, takeBack = TakeBackMs;
            int period = threshold == 0 ? 1000 : Math.Clamp(threshold / 4, 10, 250);
            if (takeBack > 0) period = Math.Min(period, Math.Max(1, takeBack / 2));
            Thread.Sleep(period); // a native thread: a real sleep
            long now = Stopwatch.GetTimestamp();
            // Every 250 ms, not every sample: it lists /proc/self/task, too much for the take-back's 5 ms samples.
            if (now - lastUnpin >= unpinEvery)
            {
                CpuAffinity.UnpinStrays();
                lastUnpin = now;
            }
            long progress = _hub.Progress;
            if (progress != lastProgress || (threshold == 0 && takeBack == 0))
            {
                lastProgress = progress;
                lastChange = now;
                dueSince = 0;
                reported = stallReported = false;
                continue;
            }
            long thresholdTicks = Hub.ToTicks(TimeSpan.FromMilliseconds(threshold));
            if (_hub.IsBusy)
            {
                double heldMs = (now - lastChange) * 1000.0 / Stopwatch.Frequency;
                if (takeBack > 0 && heldMs >= takeBack && TryTakeBack(progress, heldMs)) continue;
                if (threshold == 0 || reported || heldMs < threshold) continue;
                reported = true;
                Report(heldMs, _hub.DueWork(now, 0));
                continue;
            }
            // Idle or polling, with no progress: a stall if work stays due meanwhile (a lost wake-up, docs/hub.md).
            // Seen due at every sample for the threshold, so a post or timer the poller is just waking for is not one.
            if (threshold == 0) continue;
            string? due = _hub.DueWork(now, 0);
            if (due == null) { dueSince = 0; continue; }
            if (dueSince == 0) dueSince = now;
            if (stallReported || now - dueSince < thresholdTicks) continue;
            stallReported = true;
            ReportStall((now - dueSince) * 1000.0 / Stopwatch.Frequency, due);
        }
    }

    private void Report(double heldMs, string? due)
    {
        var holder = _hub.Holder;
        int tid = _hub.HolderTid;
        string what = Describe(tid);
        Interlocked.Increment(ref _reports);
        Hub.Logger.Warning(
            "Green thread {Name} (id {Id}, OS thread {Tid}) has held the hub for {HeldMs:0} ms without a green call: {What}. " +
            "Every other green thread is stopped meanwhile{Due:l}. A call that blocks natively should be made green (patch its area) " +
            "or run through Tpool.Execute; a long computation should call Green.Sleep(0) now and then.",
            holder?.Name ?? "(none: a thread that is not green)", holder?.Id ?? 0, tid, heldMs, what, due == null ? "" : $" ({due})");
    }

    /// <summary>Stall reports logged so far: work was due and the hub made no progress (a lost wake-up).</summary>
    public long StallReports => Interlocked.Read(ref _stallReports);

    private long _stallReports;

    private void ReportStall(double stalledMs, string due)
    {
        string baton = _hub.BatonState;
        int tid = _hub.HolderTid;
        Interlocked.Increment(ref _stallReports);
        Hub.Logger.Error(
            "The hub has made no progress for {StalledMs:0} ms although work is due: {Due:l}; {Baton:l}{Where:l}. Nobody is running the " +
            "scheduler: a wake-up was lost (a bug in Evergreen: please report it with this line).",
            stalledMs, due, baton, tid != 0 && !baton.StartsWith("nobody", StringComparison.Ordinal) ? $" ({Describe(tid)})" : "");
    }

    /// <summary>
    /// Takes the baton back from a holder that has made no green call for <see cref="TakeBackMs"/> and sleeps in the
    /// kernel (not running, not in a collection: a GC suspends threads in the kernel too, so a look during which one ran
    /// is void and the next sample looks again; a GC before the look excuses nothing: a holder that collected and then
    /// blocks in GC.WaitForPendingFinalizers is blocked). Only a holder running its own code can lose the baton (its
    /// lease, Hub.TakeBack.cs); one inside the hub never does, whatever the kernel says.
    /// </summary>
    private bool TryTakeBack(long progress, double heldMs)
    {
        if (_hub.Holder is not { Lease: Hub.LeaseRunning } g) return false;
        int tid = _hub.HolderTid;
        int gcs = GC.CollectionCount(0);
        if (tid == 0 || ReadNativeCall(tid) is not { } call) return false;
        // A runtime suspension (a GC, or tiered compilation installing its stubs) parks every thread in futex too, and
        // GC counts miss the second kind. This thread cannot come back from its /proc reads into managed code until a
        // suspension in progress has ended, so a second look a moment later sees a suspended holder running again; a
        // holder still in the very same call (number, arguments, stack and instruction pointer) is blocked in it.
        Thread.Sleep(1);
        if (ReadNativeCall(tid) is not { } again || again.Raw != call.Raw) return false;
        if (GC.CollectionCount(0) != gcs || _hub.Progress != progress) return false;
        string site = ModuleOffset(call.Pc);
        g.TakenBackAt = Stopwatch.GetTimestamp();
        g.TakeBackSite = site;
        return _hub.TryTakeBack(g, () =>
        {
            if (!_takeBackSitesLogged.Add(site)) return;
            Hub.Logger.Warning(
                "Green thread {Name} (id {Id}, OS thread {Tid}) sat {HeldMs:0} ms in {Syscall:l} at {Site:l} without a green call, holding the hub: " +
                "the hub took the baton back and runs the other green threads. The thread runs natively, beside them, from when that call " +
                "returns until its next green call, where it waits for the baton again. Make the call green (patch its area) or run it " +
                "through Tpool.Execute; this is logged once per call site.",
                g.Name, g.Id, tid, heldMs, SyscallName(call.Nr), site);
        });
    }

    /// <summary>Logs, once per call site, where a green thread whose baton was taken back came back to the hub (under the baton).</summary>
    internal void NoteRejoined(GreenThread g)
    {
        string site = g.TakeBackSite ?? "an unknown site";
        if (!_rejoinSitesLogged.Add(site)) return;
        double ms = (Stopwatch.GetTimestamp() - g.TakenBackAt) * 1000.0 / Stopwatch.Frequency;
        Hub.Logger.Information(
            "Green thread {Name} (id {Id}) is back on the hub {Ms:0} ms after the baton was taken back from its native call at {Site:l}; " +
            "its first green call after it:{NewLine:l}{Stack:l}",
            g.Name, g.Id, ms, site, Environment.NewLine, new StackTrace(3, false).ToString());
    }

    /// <summary>A thread asleep in a system call: its number, the user PC it was made from, and the whole /proc line.</summary>
    private sealed record NativeCall(int Nr, ulong Pc, string Raw);

    /// <summary>What <paramref name="tid"/> is blocked in, or null if it is running, stopped, or not in a system call.</summary>
    private static NativeCall? ReadNativeCall(int tid)
    {
        try
        {
            string dir = $"/proc/self/task/{tid}";
            if (ReadState(dir) is not ('S' or 'D')) return null;
            // "nr arg1 … arg6 sp pc" while in a call; "running" or "-1 sp pc" otherwise.
            string raw = File.ReadAllText(dir + "/syscall").Trim();
            string[] f = raw.Split(' ');
            if (f.Length < 9 || !int.TryParse(f[0], out int nr) || nr < 0) return null;
            return new NativeCall(nr, Convert.ToUInt64(f[8], 16), raw);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return null;
        }
    }

    /// <summary>"libc.so.6+0x1a2b3" for an address in a mapped file, else the bare address.</summary>
    private static string ModuleOffset(ulong pc)
    {
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            // "start-end perms offset dev inode path"
            int dash = line.IndexOf('-'), sp = line.IndexOf(' ');
            if (dash < 0 || sp < dash) continue;
            ulong start = Convert.ToUInt64(line[..dash], 16), end = Convert.ToUInt64(line[(dash + 1)..sp], 16);
            if (pc < start || pc >= end) continue;
            string[] parts = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            ulong fileOffset = Convert.ToUInt64(parts[2], 16);
            string path = parts.Length > 5 ? Path.GetFileName(parts[5].Trim()) : "";
            return path.Length > 0 ? $"{path}+0x{pc - start + fileOffset:x}" : $"0x{pc:x}";
        }
        return $"0x{pc:x}";
    }

    private static string Describe(int tid)
    {
        if (tid == 0) return "its OS thread is unknown";
        try
        {
            string dir = $"/proc/self/task/{tid}";
            char state = ReadState(dir);
            if (state == 'R') return "it is running on the CPU (a loop without a green call?)";
            string wchan = File.ReadAllText(dir + "/wchan").Trim();
            string sys = File.ReadAllText(dir + "/syscall").Split(' ')[0];
            string name = int.TryParse(sys, out int nr) ? SyscallName(nr) : sys;
            return $"it is blocked in the kernel (state {state}, in {name}, wchan {wchan})";
        }
        catch (IOException)
        {
            return "its OS thread could not be inspected";
        }
        catch (UnauthorizedAccessException)
        {
            return "its OS thread could not be inspected";
        }
    }

    /// <summary>The scheduler state letter of the task whose /proc directory is <paramref name="dir"/> (R, S, D, …).</summary>
    private static char ReadState(string dir)
    {
        string stat = File.ReadAllText(dir + "/stat");
        return stat[stat.LastIndexOf(')') + 2]; // the name in parentheses may itself hold spaces and ')'
    }

    private static string SyscallName(int nr) => nr switch
    {
        0 => "read",
        1 => "write",
        7 => "poll",
        17 => "pread64",
        23 => "select",
        35 => "nanosleep",
        42 => "connect",
        43 => "accept",
        44 => "sendto",
        45 => "recvfrom",
        46 => "sendmsg",
        47 => "recvmsg",
        61 => "wait4",
        202 => "futex",
        230 => "clock_nanosleep",
        232 => "epoll_wait",
        270 => "pselect6",
        271 => "ppoll",
        281 => "epoll_pwait",
        288 => "accept4",
        _ => $"syscall {nr}",
    };
}
