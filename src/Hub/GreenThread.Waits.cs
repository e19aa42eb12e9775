using System.Diagnostics;
using Evergreen.Internal;

namespace Evergreen;

public partial class GreenThread
{
    // --- what the thread waits on, for the thread dump and the deadlock check (issue 12) ---------
    // Written by the thread itself under the baton just before it parks (NoteWait); WaitKind is cleared when the wait
    // ends (Hub.Block). Read under the baton by the deadlock check and Green.DumpThreads, and racily by the dump signal's
    // handler (each field is one word: a torn view only mixes two waits in one line of a snapshot said to be racy).
    internal WaitKind WaitKind;
    internal object? WaitTarget;
    internal string? WaitDetail;
    internal long WaitSince;        // Environment.TickCount64 when the wait began
    internal StackTrace? WaitStack; // where it began, with EVERGREEN_STACKS=1 only
    internal Hub.GreenHost? Host;   // the OS thread that runs it (set when it starts), for names and ids in reports

    /// <summary>
    /// Records what the calling green thread (this) is about to park on; the next <see cref="Hub.Block"/> consumes it.
    /// A lock or join wait without a timeout first runs the deadlock check (<see cref="DeadlockDetector"/>), which may
    /// throw <see cref="GreenDeadlockException"/> (EVERGREEN_DEADLOCK=throw) instead of letting it park. A site that
    /// parks in a loop passes the time its wait began as <paramref name="since"/> (Environment.TickCount64) so that
    /// every round reports the whole wait. The baton holder only. Without EVERGREEN_STACKS this is a few field stores
    /// and a coarse clock read.
    /// </summary>
    internal void NoteWait(WaitKind kind, object? target, string? detail = null, long since = 0)
    {
        if (since == 0) since = Environment.TickCount64;
        // Each round of a looping site captures again: the same site, so the same stack (stacks are opt-in and costly anyway).
        if (ThreadDump.CaptureStacks) WaitStack = new StackTrace(1, true);
        WaitKind = kind;
        WaitTarget = target;
        WaitDetail = detail;
        WaitSince = since;
        if (kind is WaitKind.Lock or WaitKind.Join && DeadlockDetector.Enabled)
        {
            try
            {
                DeadlockDetector.Check(this);
            }
            catch
            {
                WaitKind = WaitKind.None; // it will not park after all
                throw;
            }
            // A report's logging may itself have parked this thread (a sink's lock) and so noted and cleared other waits.
            WaitKind = kind;
            WaitTarget = target;
            WaitDetail = detail;
            WaitSince = since;
        }
    }
}
