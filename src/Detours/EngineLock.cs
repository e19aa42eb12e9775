namespace Evergreen.Detours;

/// <summary>
/// Serialises the engine's own work. Deliberately not <c>lock</c>, <see cref="System.Threading.Lock"/>,
/// <see cref="SpinWait"/> or <see cref="Thread.Yield"/>: those are detour targets, and the engine must not pass through
/// what it is in the middle of patching. Contention is rare (patching is a start-up event), so a CAS and sched_yield do.
/// </summary>
internal sealed class EngineLock
{
    private int _held;

    internal void Enter()
    {
        while (Interlocked.CompareExchange(ref _held, 1, 0) != 0)
        {
            Interop.Libc.SchedYield();
        }
    }

    internal void Exit() => Volatile.Write(ref _held, 0);
}
