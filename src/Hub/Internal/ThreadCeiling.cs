namespace Evergreen.Internal;

/// <summary>
/// Guards the OS-thread ceiling before the runtime hits it. Each green thread is backed by an OS thread,
/// and on this machine the process died (not an exception) at ~16,300 threads: vm.max_map_count (65530)
/// runs out at ~4 mappings a thread (DESIGN.md §2). We count the process's mappings every so often,
/// always early enough that even 8 mappings a thread cannot overshoot, and refuse with a typed exception.
/// </summary>
internal sealed class ThreadCeiling
{
    private const int MapsPerThreadBound = 8;   // measured ~4; be conservative between checks
    private const int ReservedMaps = 4096;      // head-room for the runtime (GC regions, JIT code heaps, sockets)
    private readonly long _maxMaps;
    private readonly long _pidMax;
    private readonly long _threadsMax;
    private long _mapsAtLastCheck;
    private int _creationsUntilCheck;

    /// <summary>Reads the kernel's limits from /proc.</summary>
    public ThreadCeiling()
        : this(ReadLong("/proc/sys/vm/max_map_count", 65530), ReadLong("/proc/sys/kernel/pid_max", 32768),
               ReadLong("/proc/sys/kernel/threads-max", long.MaxValue))
    {
    }

    /// <summary>Uses the given limits instead of the kernel's: a seam for tests, which must not exhaust real threads.</summary>
    internal ThreadCeiling(long maxMaps, long pidMax, long threadsMax)
    {
        _maxMaps = maxMaps;
        _pidMax = pidMax;
        _threadsMax = threadsMax;
    }

    /// <summary>Called (under the hub's creation lock) before every new OS thread for a green thread.</summary>
    public void BeforeCreate(int greenOsThreads)
    {
        long threadCap = Math.Min(_pidMax, _threadsMax) - 512;
        if (greenOsThreads + 1 > threadCap) throw Refuse(greenOsThreads, "kernel.pid_max / kernel.threads-max", threadCap);
        if (--_creationsUntilCheck > 0) return;
        _mapsAtLastCheck = CountMaps();
        long headroom = _maxMaps - ReservedMaps - _mapsAtLastCheck;
        if (headroom < MapsPerThreadBound) throw Refuse(greenOsThreads, "vm.max_map_count", _maxMaps);
        _creationsUntilCheck = (int)Math.Clamp(headroom / MapsPerThreadBound / 2, 1, 1024);
    }

    private GreenThreadLimitException Refuse(int alive, string limit, long value) => new(
        $"Cannot start another OS thread for a green thread: {alive} are alive and the process is at " +
        $"{_mapsAtLastCheck} of {_maxMaps} memory mappings (vm.max_map_count), pid_max {_pidMax}, threads-max {_threadsMax}. " +
        $"The limit reached is {limit} ({value}). Every green thread is backed by an OS thread (~4 mappings each). " +
        "Raise the ceiling as root, e.g. `sysctl -w vm.max_map_count=262144` (and kernel.pid_max / kernel.threads-max beyond ~30k threads), " +
        "or keep fewer green threads alive at once (GreenPool with a size).", alive);

    private static long CountMaps()
    {
        try
        {
            long n = 0;
            using var f = new FileStream("/proc/self/maps", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
            Span<byte> buf = stackalloc byte[1 << 14];
            int r;
            while ((r = f.Read(buf)) > 0) n += buf[..r].Count((byte)'\n');
            return n;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static long ReadLong(string path, long fallback)
    {
        try { return long.TryParse(File.ReadAllText(path).Trim(), out long v) ? v : fallback; }
        catch (IOException) { return fallback; }
        catch (UnauthorizedAccessException) { return fallback; }
    }
}
