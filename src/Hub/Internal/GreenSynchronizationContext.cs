using System.Runtime.ExceptionServices;

namespace Evergreen.Internal;

/// <summary>
/// The <see cref="SynchronizationContext"/> every green thread carries once blocking waits are green
/// (<see cref="HubPatchSeam.SynchronizationContext"/>), so that an <c>await</c> begun on a green thread resumes green.
/// </summary>
/// <remarks>
/// <para><see cref="Post"/> runs the callback as a new green thread: on the hub, one at a time with every other green
/// thread, from whichever thread posts (a green thread spawns it; any other thread posts the spawn to the hub, where it
/// takes a parked worker). The continuation does not wait for the thread that began the <c>await</c>: a green thread
/// blocked in <c>.Result</c>/<c>Wait()</c> on the very task the continuation completes parks greenly (Task.Wait ends in
/// the patched Monitor.Wait) while the continuation runs on another green thread — no sync-over-async deadlock.</para>
/// <para>The poster's <see cref="ExecutionContext"/> flows into the callback (AsyncLocal values, as the default context's
/// thread-pool Post does); with flow suppressed the callback runs in the worker's context. An exception escaping a
/// posted callback is rethrown on a thread-pool thread, so it is unhandled exactly where plain .NET's would be (async
/// void).</para>
/// <para><see cref="Send"/> runs the callback inline on a green thread; from any other thread it runs it as a green
/// thread and blocks the caller's OS thread until it has ended, rethrowing its exception.</para>
/// <para>Wait notification stays off (<see cref="SynchronizationContext.IsWaitNotificationRequired"/> is false), so
/// WaitHandle waits never detour through <see cref="SynchronizationContext.Wait(IntPtr[], bool, int)"/>. One instance
/// serves every green thread: a task completed on a green thread runs a continuation captured on another green thread
/// inline (the captured context is the current one), as plain .NET runs it inline on the completing thread.</para>
/// </remarks>
internal sealed class GreenSynchronizationContext : SynchronizationContext
{
    /// <summary>The one instance (green threads are interchangeable: any of them may run a continuation).</summary>
    public static readonly GreenSynchronizationContext Instance = new();

    private GreenSynchronizationContext()
    {
    }

    /// <inheritdoc/>
    public override void Post(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        var flowed = ExecutionContext.Capture();
        Hub.Instance.SpawnFromAnyThread(() =>
        {
            try
            {
                Invoke(flowed, d, state);
            }
            catch (Exception ex)
            {
                var unhandled = ExceptionDispatchInfo.Capture(ex);
                ThreadPool.UnsafeQueueUserWorkItem(static e => e.Throw(), unhandled, preferLocal: false);
            }
        });
    }

    /// <inheritdoc/>
    public override void Send(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (Hub.IsGreenThread)
        {
            d(state);
            return;
        }
        var flowed = ExecutionContext.Capture();
        ExceptionDispatchInfo? error = null;
        using var done = new ManualResetEventSlim();
        Hub.Instance.SpawnFromAnyThread(() =>
        {
            try
            {
                Invoke(flowed, d, state);
            }
            catch (Exception ex)
            {
                error = ExceptionDispatchInfo.Capture(ex);
            }
            finally
            {
                done.Set();
            }
        });
        done.Wait();
        error?.Throw();
    }

    /// <inheritdoc/>
    public override SynchronizationContext CreateCopy() => this;

    private static void Invoke(ExecutionContext? flowed, SendOrPostCallback d, object? state)
    {
        if (flowed == null)
        {
            d(state);
            return;
        }
        ExecutionContext.Run(flowed, static s => { var (d, state) = ((SendOrPostCallback, object?))s!; d(state); }, (d, state));
    }
}
