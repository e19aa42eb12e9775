using Evergreen.Interop;

namespace Evergreen.Internal;

/// <summary>
/// Pins every OS thread that backs a green thread to one CPU. Only one green thread runs at a time, so
/// nothing is lost, and the baton handoff becomes a same-CPU futex switch: measured on this 2-vCPU
/// machine (DESIGN.md, anchors) ~1.4 us pinned vs 23-31 us across cores. It also leaves the other CPU to
/// the runtime (GC, tiering) and to tpool. <c>EVERGREEN_CPU=none</c> turns it off; <c>EVERGREEN_CPU=N</c>
/// picks CPU N; the default is the highest CPU the process may use.
/// </summary>
internal static unsafe class CpuAffinity
{
    private const int MaskWords = 16; // 1024 CPUs

    private static readonly ulong[] s_processMask = new ulong[MaskWords];

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

    /// <summary>Pins the calling thread; returns its previous mask so an adopted thread can be restored.</summary>
    public static ulong[]? PinCurrent()
    {
        if (HubCpu < 0) return null;
        var old = new ulong[MaskWords];
        fixed (ulong* o = old)
            if (Libc.sched_getaffinity(0, MaskWords * 8, o) != 0) return null;
        ulong* m = stackalloc ulong[MaskWords];
        for (int i = 0; i < MaskWords; i++) m[i] = 0;
        m[HubCpu / 64] = 1UL << (HubCpu % 64);
        Libc.sched_setaffinity(0, MaskWords * 8, m);
        return old;
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
