namespace Evergreen;

/// <summary>One readiness event returned by <see cref="IPoller.Wait"/>.</summary>
/// <param name="Fd">The file descriptor.</param>
/// <param name="Events">What it became ready for.</param>
internal readonly record struct PollResult(int Fd, PollEvents Events);

/// <summary>
/// The contract every poller backend fulfils (after Go's netpoll.go). The hub is its only caller and
/// calls it only while holding the baton, so implementations need no locking except in <see cref="Wake"/>.
/// <list type="bullet">
/// <item><see cref="Register"/>: start watching <c>fd</c> for read and write readiness, edge-triggered:
/// an event is reported once per transition to ready, so a caller must try its operation first and wait
/// only after it would block. Registering an fd that is already registered re-arms it (fd numbers are
/// reused after close).</item>
/// <item><see cref="Unregister"/>: stop watching; tolerates an fd that is already closed.</item>
/// <item><see cref="Wait"/>: timeout &lt; 0 blocks until an event or a wake; 0 polls; &gt; 0 blocks at most that
/// many milliseconds. Returns the number of results written; a wake-up via <see cref="Wake"/> is consumed
/// here and is not reported as a result.</item>
/// <item><see cref="Wake"/>: thread-safe, callable from any thread; makes a concurrent or the next
/// <see cref="Wait"/> return promptly.</item>
/// </list>
/// </summary>
internal interface IPoller : IDisposable
{
    /// <summary>Watches <paramref name="fd"/> (edge-triggered, read and write).</summary>
    void Register(int fd);

    /// <summary>Stops watching <paramref name="fd"/>.</summary>
    void Unregister(int fd);

    /// <summary>Waits for readiness; see the interface remarks for the timeout contract.</summary>
    int Wait(Span<PollResult> results, int timeoutMs);

    /// <summary>Interrupts a blocked <see cref="Wait"/> from any thread.</summary>
    void Wake();
}
