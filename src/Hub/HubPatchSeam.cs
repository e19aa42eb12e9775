namespace Evergreen.Internal;

/// <summary>
/// The hub's seam: the two things it does natively, as hooks that whoever replaces the BCL's Thread.Start and
/// Thread.Sleep (the monkey patch) points at the un-patched originals, and the SynchronizationContext green threads
/// carry once blocking waits are green. The hub knows nothing of patching; unset, they are the plain BCL calls and no
/// context. Set before any detour is written, never again.
/// </summary>
internal static class HubPatchSeam
{
    /// <summary>Starts an OS thread that must stay native (a worker, a tpool thread, the watchdog), never a green one.</summary>
    internal static Action<Thread> StartNativeThread = static t => t.Start();

    /// <summary>How a thread that is not green sleeps in <see cref="Green.Sleep(TimeSpan)"/>: the OS thread blocks.</summary>
    internal static Action<TimeSpan> Sleep = Thread.Sleep;

    /// <summary>
    /// The context every green thread carries (<see cref="GreenSynchronizationContext"/>), so an await begun on one resumes
    /// green; null (none) unless the BCL's blocking waits are green: a green thread blocked natively in Task.Wait would
    /// hold the baton that the continuation completing its task needs.
    /// </summary>
    internal static SynchronizationContext? SynchronizationContext;
}
