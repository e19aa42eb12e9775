using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Evergreen.Internal;

namespace Evergreen.IO;

/// <summary>
/// Runs calls that cannot be made green (native libraries, CPU-bound work, the system resolver) on a pool of real
/// OS threads while the calling green thread waits greenly (eventlet.tpool). Other green threads keep running.
/// </summary>
/// <remarks>
/// Replaces nothing (eventlet's tpool patches nothing either); other green code (the system resolver behind
/// DNS) routes through it. The workers are plain background threads, not green threads: a
/// blocking call inside a job blocks only that worker. The hand-off uses a lock-free queue and a counting
/// <see cref="Semaphore"/> whose wait is the runtime's native wait subsystem, not
/// <see cref="Monitor"/>, so a patched <c>lock</c> never makes a green caller's submit wait greenly on a worker.
/// </remarks>
public static class Tpool
{
    /// <summary>The default pool size, as eventlet's (<c>EVENTLET_THREADPOOL_SIZE</c> default 20).</summary>
    public const int DefaultSize = 20;

    private static int s_size = SizeFrom(Environment.GetEnvironmentVariable("EVERGREEN_TPOOL_SIZE"));
    private static int s_threads;
    private static int s_idle;
    private static int s_busy;
    private static long s_dropped;
    private static readonly ConcurrentQueue<Job> s_queue = new();
    private static readonly Semaphore s_jobsReady = new(0, int.MaxValue);

    /// <summary>Called on the hub after each job's result was delivered (true) or dropped (false); for tests.</summary>
    internal static Action<bool>? s_onCompleted;

    /// <summary>
    /// The most OS threads the pool starts (from <c>EVERGREEN_TPOOL_SIZE</c>, default <see cref="DefaultSize"/>).
    /// Threads start on demand; lowering the size stops new ones from starting but does not end running ones.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static int Size
    {
        get => Volatile.Read(ref s_size);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Volatile.Write(ref s_size, value);
        }
    }

    /// <summary>Worker threads started so far.</summary>
    public static int Threads => Volatile.Read(ref s_threads);

    /// <summary>Jobs running on workers right now (including ones whose caller stopped waiting).</summary>
    public static int Busy => Volatile.Read(ref s_busy);

    /// <summary>Jobs queued and not yet taken by a worker.</summary>
    public static int Queued => s_queue.Count;

    /// <summary>Results dropped because the green thread waiting for them was killed or timed out first.</summary>
    public static long DroppedResults => Interlocked.Read(ref s_dropped);

    /// <summary>
    /// Runs <paramref name="func"/> on a pool thread and returns its result, or rethrows its exception with the
    /// original stack trace. The calling green thread waits greenly; if it is killed or its
    /// <see cref="GreenTimeout"/> scope expires meanwhile, the exception propagates at once and the call
    /// finishes in the background, its result dropped. Off green threads (including inside a pool thread) it runs
    /// <paramref name="func"/> inline.
    /// </summary>
    public static T Execute<T>(Func<T> func)
    {
        ArgumentNullException.ThrowIfNull(func);
        if (!Hub.IsGreenThread) return func();
        using var entry = Hub.Enter(out var self);
        var hub = self!.Hub;
        var job = new Job(() => func(), hub, self, hub.BeginWait(self));
        // Counted until the job's completion reaches the hub (not until the caller stops waiting), so the
        // deadlock detector knows an outside thread will still post to the hub.
        hub.BeginExternalWait();
        Submit(job);
        // Not cut short by Thread.Interrupt (a kill or GreenTimeout still does): the call runs natively, where .NET's
        // blocking calls (DNS, select, pipe reads) do not see interrupts either, and stopping the wait would drop its result.
        self.NoInterrupt++;
        self.NoteWait(WaitKind.Native, func, "Tpool.Execute");
        try
        {
            hub.Block(self);
        }
        finally
        {
            self.NoInterrupt--;
        }
        if (job.Error is { } e) e.Throw();
        return (T)job.Result!;
    }

    /// <summary>Runs <paramref name="action"/> on a pool thread; see <see cref="Execute{T}(Func{T})"/>.</summary>
    public static void Execute(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Execute<object?>(() => { action(); return null; });
    }

    private static void Submit(Job job)
    {
        s_queue.Enqueue(job);
        // Start a thread while queued jobs outnumber idle threads (bounded by Size). Checking only "is any thread
        // idle" lost jobs: a thread counted idle can be about to take ANOTHER queued job, and if that job blocks
        // until this one runs (a pipe read waiting for the write queued behind it), both wait forever. Found by
        // the process-pipes-green scenario. An over-count only costs an extra thread.
        while (s_queue.Count > Volatile.Read(ref s_idle))
        {
            int n = Volatile.Read(ref s_threads);
            if (n >= Size) break;
            if (Interlocked.CompareExchange(ref s_threads, n + 1, n) != n) continue;
            // The default stack size: Execute runs the caller's code (a native driver's call), which had the caller's stack.
            Hub.StartNativeThread(new Thread(WorkerMain) { IsBackground = true, Name = $"evergreen-tpool-{n}" });
            break;
        }
        s_jobsReady.Release();
    }

    private static void WorkerMain()
    {
        while (true)
        {
            Interlocked.Increment(ref s_idle);
            s_jobsReady.WaitOne();
            Interlocked.Decrement(ref s_idle);
            // One release per enqueued job, so the dequeue always finds one.
            if (!s_queue.TryDequeue(out var job)) continue;
            Interlocked.Increment(ref s_busy);
            try
            {
                job.Result = job.Work();
            }
            catch (Exception ex)
            {
                job.Error = ExceptionDispatchInfo.Capture(ex);
            }
            // The worker is back before the hub hears of the result: a test seeing the completion sees Busy drop.
            Interlocked.Decrement(ref s_busy);
            job.Hub.Post(job.Deliver);
        }
    }

    private sealed class Job(Func<object?> work, Hub hub, GreenThread waiter, int waitId)
    {
        public readonly Func<object?> Work = work;
        public readonly Hub Hub = hub;
        public object? Result;
        public ExceptionDispatchInfo? Error;

        /// <summary>Runs on the hub: wakes the waiter if it is still in this wait, else drops the result.</summary>
        public void Deliver()
        {
            Hub.EndExternalWait();
            bool delivered = Hub.Wake(waiter, waitId, this);
            if (!delivered)
            {
                Interlocked.Increment(ref s_dropped);
                Result = null;
                Error = null;
            }
            s_onCompleted?.Invoke(delivered);
        }
    }

    /// <summary>The pool size an <c>EVERGREEN_TPOOL_SIZE</c> value asks for: a positive integer, else <see cref="DefaultSize"/>.</summary>
    internal static int SizeFrom(string? value) => int.TryParse(value, out int n) && n >= 1 ? n : DefaultSize;
}
