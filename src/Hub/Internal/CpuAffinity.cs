using System.Collections.Concurrent;
using Evergreen.Interop;

namespace Evergreen.Internal;

/// <summary>
/// Pins every OS thread that backs a green thread to one CPU. Only one green thread runs at a time, so
/// nothing is lost, and the baton handoff becomes a same-CPU futex switch: measured on this 2-vCPU
/// machine (DESIGN.md, anchors) ~1.4 us pinned vs 23-31 us across cores. It also leaves the other CPU to
/// the runtime (GC, tiering) and to tpool. <c>EVERGREEN_CPU=none</c> turns it off; <c>EVERGREEN_CPU=N</c>
/// picks CPU N; the default is the highest CPU the process may use.
/// <para>Only green threads are pinned. A thread inherits its creator's mask, so threads the runtime creates from a green
/// thread (thread-pool workers, ".NET Timer", ".NET TP Gate", ".NET Sockets", ...) start pinned too; nothing can start
/// them elsewhere, so <see cref="UnpinStrays"/> gives them the process's set back, called by the blocking detector's
/// watchdog every 250 ms.</para>
/// </summary>
internal static unsafe class CpuAffinity
{
    private const int MaskWords = 16; // 1024 CPUs

    private static readonly ulong[] s_processMask = new ulong[MaskWords];

    // OS thread ids of the threads pinned as green (registered before they pin, removed after they unpin).
    private static readonly ConcurrentDictionary<int, byte> s_green = new();

    public static readonly int HubCpu = Choose();

    private static int Choose()
    {
        string? env = Environment.GetEnvironmentVariable("EVERGREEN_CPU");
        if (string.Equals(env, "none", StringComparison.OrdinalIgnoreCase)) return -1;
        ulong* mask = stackalloc ulong[MaskWords];
        if (Libc.sched_getaffinity(0, MaskWords * 8, mask) != 0) return -1;
        // Read before any thread is pinned (this runs on the first thread about to be): what native threads get back.
        for (int i = 0; i < MaskWords; i++) s_processMask[i] = mask[i];
        if (int.TryParse(env, out int want))
            return want >= 0 && want < MaskWords * 64 && (mask[want / 64] & (1UL << (want % 64))) != 0 ? want : -1;
        for (int cpu = MaskWords * 64 - 1; cpu >= 0; cpu--)
            if ((mask[cpu / 64] & (1UL << (cpu % 64))) != 0) return cpu;
        return -1;
    }

    /// <summary>Pins the calling thread as green; returns its previous mask for <see cref="Unpin"/> (an adopted thread leaving).</summary>
    public static ulong[]? PinCurrent()
    {
        if (HubCpu < 0) return null;
        var old = new ulong[MaskWords];
        fixed (ulong* o = old)
            if (Libc.sched_getaffinity(0, MaskWords * 8, o) != 0) return null;
        s_green[Libc.gettid()] = 0; // before the pin: UnpinStrays re-checks after it unpins (see there)
        SetHubMask(0);
        return old;
    }

    /// <summary>Undoes <see cref="PinCurrent"/>: the calling thread is no longer green and gets <paramref name="old"/> back.</summary>
    public static void Unpin(ulong[]? old)
    {
        if (old is null) return;
        Restore(old);
        s_green.TryRemove(Libc.gettid(), out _);
    }

    private static void SetHubMask(int tid)
    {
        ulong* m = stackalloc ulong[MaskWords];
        for (int i = 0; i < MaskWords; i++) m[i] = 0;
        m[HubCpu / 64] = 1UL << (HubCpu % 64);
        Libc.sched_setaffinity(tid, MaskWords * 8, m);
    }

    /// <summary>
    /// Gives every thread of the process that is not green and still carries exactly the hub's one-CPU mask (inherited
    /// from a green creator) the process's set back. A mask the program set itself is left alone. Any thread.
    /// </summary>
    public static void UnpinStrays()
    {
        if (HubCpu < 0) return;
        // readdir, not Directory.GetDirectories: with 10,000 green threads the latter made ~10,000 strings a sample, and
        // every GC with that many threads alive pauses 100-600 ms (README).
        nint dir = Libc.opendir("/proc/self/task");
        if (dir == 0) return; // the next sample tries again
        try
        {
            ulong* mask = stackalloc ulong[MaskWords];
            for (byte* entry; (entry = Libc.readdir(dir)) != null;)
            {
                if (!TryParseTid(entry + Libc.DirentNameOffset, out int tid) || s_green.ContainsKey(tid)) continue;
                if (Libc.sched_getaffinity(tid, MaskWords * 8, mask) != 0 || !IsHubMask(mask)) continue; // gone, or not ours
                fixed (ulong* p = s_processMask) Libc.sched_setaffinity(tid, MaskWords * 8, p);
                // A thread becoming green registers before it pins: if it registered after the look above, its pin may have
                // come before our unpin — pin it again (harmless if its own pin is still to come).
                if (s_green.ContainsKey(tid)) SetHubMask(tid);
            }
        }
        finally
        {
            Libc.closedir(dir);
        }
    }

    private static bool TryParseTid(byte* name, out int tid)
    {
        tid = 0;
        if (*name == 0) return false;
        for (; *name != 0; name++)
        {
            if (*name < (byte)'0' || *name > (byte)'9') return false; // "." and ".."
            tid = tid * 10 + (*name - '0');
        }
        return true;
    }

    private static bool IsHubMask(ulong* mask)
    {
        for (int i = 0; i < MaskWords; i++)
            if (mask[i] != (i == HubCpu / 64 ? 1UL << (HubCpu % 64) : 0)) return false;
        return true;
    }

    /// <summary>
    /// Gives the calling (pinned) thread the process's whole CPU set for a moment, so that a native thread it starts
    /// (tpool, <c>Original("Thread")</c>) does not inherit the hub's CPU; returns the mask to restore.
    /// </summary>
    public static ulong[]? UnpinCurrent()
    {
        if (HubCpu < 0) return null;
        var old = new ulong[MaskWords];
        fixed (ulong* o = old)
            if (Libc.sched_getaffinity(0, MaskWords * 8, o) != 0) return null;
        fixed (ulong* m = s_processMask) Libc.sched_setaffinity(0, MaskWords * 8, m);
        return old;
    }

    /// <summary>Restores a mask returned by <see cref="PinCurrent"/> or <see cref="UnpinCurrent"/>.</summary>
    public static void Restore(ulong[]? old)
    {
        if (old is null) return;
        fixed (ulong* o = old) Libc.sched_setaffinity(0, MaskWords * 8, o);
    }
}
