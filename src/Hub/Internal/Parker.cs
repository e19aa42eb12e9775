using System.Runtime.InteropServices;
using Evergreen.Interop;

namespace Evergreen.Internal;

/// <summary>
/// A one-permit park/unpark on a raw futex. The word lives in native memory because a futex address
/// must not move while a thread sleeps on it (a GC compaction would strand the sleeper).
/// States: 0 empty, 1 permit available, 2 a thread is (about to be) asleep in the kernel.
/// </summary>
/// <remarks>
/// No spin phase: every green thread is pinned to one CPU (see <see cref="CpuAffinity"/>), so the thread
/// we hand the baton to cannot run while we spin. Measured here: a pinned futex handoff is ~1.4 us;
/// across cores ~25 us (the idle vCPU's wake-up latency dominates).
/// <para>
/// Tried (2026-11-23) and dropped: a bounded spin (Thread.SpinWait(1) × K on the word) before the futex wait,
/// only when unpinned (EVERGREEN_CPU=none). `bench/Hub switch 100000`, same session, pinned no-spin 2,215-2,291 ns:
/// unpinned K=0 2,465 / 6,388 ns; K=200 11,525 / 507 ns; K=2000 85,476 / 456 ns; K=20000 291 / 519 ns (two runs
/// each). With both vCPUs free a spin gets ~0.3-0.5 us, but on this shared 2-vCPU machine it swings to 10-85 us
/// whenever the other CPU is busy, and with hundreds of parked threads (echo) every parked one would spin.
/// Pinned without spin stays the default. SCHED_BATCH (`chrt -b 0`, no wake-up preemption) was also measured:
/// 2,754-2,825 ns vs 2,224-2,366 ns (SCHED_OTHER), and no fewer context switches per echo message (1.93 vs 1.89).
/// </para>
/// </remarks>
internal sealed unsafe class Parker
{
    private readonly int* _word;

    public Parker()
    {
        _word = (int*)NativeMemory.AlignedAlloc(64, 64); // own cache line
        *_word = 0;
    }

    ~Parker() => NativeMemory.AlignedFree(_word);

    /// <summary>Creates a parker whose permit is already available (a thread that starts with the baton).</summary>
    public static Parker Signaled()
    {
        var p = new Parker();
        *p._word = 1;
        return p;
    }

    /// <summary>Blocks until <see cref="Unpark"/> has been called (consumes the permit).</summary>
    public void Park()
    {
        if (Interlocked.CompareExchange(ref *_word, 0, 1) == 1) return;

        if (Interlocked.CompareExchange(ref *_word, 2, 0) == 1)
        {
            Volatile.Write(ref *_word, 0);
            return;
        }
        while (true)
        {
            Libc.FutexWait(_word, 2);
            if (Interlocked.CompareExchange(ref *_word, 0, 1) == 1) return;
        }
    }

    /// <summary>Makes the permit available, waking the parked thread if it sleeps in the kernel.</summary>
    public void Unpark()
    {
        if (Interlocked.Exchange(ref *_word, 1) == 2) Libc.FutexWake(_word);
    }
}
