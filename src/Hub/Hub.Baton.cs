using System.Diagnostics;

namespace Evergreen;

public sealed partial class Hub
{
    // Which thread holds the baton, recorded in debug builds only so that hub state documented as "baton holder only"
    // can assert it; Release builds compile the recording and the checks out. 0: nobody (idle hub, or mid-handoff:
    // the giver clears it before waking the taker, the taker sets it once awake).
#if DEBUG
    private static int s_batonHolder;
#endif

    /// <summary>Debug builds: asserts that the calling thread holds the baton. Compiled out in Release.</summary>
    [Conditional("DEBUG")]
    internal static void AssertBatonHolder()
    {
#if DEBUG
        int holder = Volatile.Read(ref s_batonHolder);
        Debug.Assert(holder == Environment.CurrentManagedThreadId,
            $"Hub state touched by thread {Environment.CurrentManagedThreadId}, which does not hold the baton (holder: {holder}).");
        Debug.Assert(t_current is not { Lease: LeaseRunning },
            $"Hub state touched by green thread {t_current?.Name} outside a HubEntry: the watchdog could take the baton back meanwhile (Hub.TakeBack.cs).");
#endif
    }

    /// <summary>Records that the calling thread has just taken the baton (debug builds).</summary>
    [Conditional("DEBUG")]
    internal static void TookBaton()
    {
#if DEBUG
        Volatile.Write(ref s_batonHolder, Environment.CurrentManagedThreadId);
#endif
    }

    /// <summary>Records that the calling thread is about to hand the baton on, or give it up (debug builds).</summary>
    [Conditional("DEBUG")]
    private static void GivingBaton()
    {
#if DEBUG
        AssertBatonHolder();
        Volatile.Write(ref s_batonHolder, 0);
#endif
    }
}
