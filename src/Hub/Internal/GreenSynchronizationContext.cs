using System.Collections.Concurrent;
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

    /// <summary>
    /// Callbacks posted (or sent from outside) when no OS thread could be had for another green thread (the ceiling,
    /// <see cref="GreenThreadLimitException"/>), and every later one while some still wait (each failed try costs a scan
    /// of /proc/self/maps under the baton): every green thread this context started runs them, one after another, once its
    /// own callback has returned. So a callback is never lost at the ceiling: 20,000 awaits resumed at once
    /// (diff-p3-many-concurrent-awaits, P3_N=20000) hung Task.WhenAll when the posts came from the timer's thread (the
    /// callbacks past ~15,000 threads were dropped) and crashed the process when they came from a green thread (the
    /// exception escaped AwaitUnsafeOnCompleted). Filled and checked under the baton, so a green thread that found it empty
    /// and ended cannot strand a callback queued after that look (concurrent all the same: a drainer whose baton was taken
    /// back during its callback dequeues natively).
    /// </summary>
    private readonly ConcurrentQueue<Action> _overflow = new();

    /// <inheritdoc/>
    public override void Post(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        var flowed = ExecutionContext.Capture();
        Start(() =>
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
        Start(() =>
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

    /// <summary>Runs <paramref name="callback"/> (which never throws) as a green thread, then whatever waits in <see cref="_overflow"/>.</summary>
    private void Start(Action callback) =>
        Hub.Instance.SpawnFromAnyThread(() =>
        {
            callback();
            while (_overflow.TryDequeue(out var next)) next();
        }, () => !_overflow.IsEmpty, () => _overflow.Enqueue(callback));

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
