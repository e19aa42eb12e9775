using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Evergreen.Internal;

/// <summary>
/// Starts OS threads for green callers on one native thread, off the hub's CPU, while the caller parks greenly. The
/// runtime's Thread.Start blocks its caller until the new OS thread is running; on a green caller that held the baton
/// the whole time (issue 11.5: a loop starting 10,000 threads held the hub ~3.3 s, a 10 ms green ticker got 2 ticks).
/// Threads created here inherit the starter's affinity — the process's whole CPU set, not the hub's pin.
/// </summary>
internal sealed class ThreadStarter
{
    private sealed class Request(Action start, Action failed, GreenThread caller, int waitId)
    {
        public readonly Action Start = start;
        public readonly Action Failed = failed;
        public readonly GreenThread Caller = caller;
        public readonly int WaitId = waitId;
        public Exception? Error;
    }

    private readonly Hub _hub;
    private readonly ConcurrentQueue<Request> _queue = new();   // lock-free: nothing here may wait greenly
    private readonly Parker _wake = new();                      // one consumer; a permit left by Unpark is never lost
    private int _started;

    public ThreadStarter(Hub hub) => _hub = hub;

    /// <summary>
    /// Runs <paramref name="start"/> (a runtime thread start) on the starter thread; the calling green thread waits greenly
    /// and gets its exception. If it throws, <paramref name="failed"/> runs under the baton — also when the caller was
    /// killed meanwhile. Thread.Interrupt does not cut the wait short (the runtime's Start is not interruptible either).
    /// </summary>
    public void Run(GreenThread self, Action start, Action failed)
    {
        if (Volatile.Read(ref _started) == 0 && Interlocked.CompareExchange(ref _started, 1, 0) == 0)
        {
            Hub.StartNativeThread(new Thread(Loop, 256 * 1024) { IsBackground = true, Name = "evergreen-starter" });
        }
        var request = new Request(start, failed, self, _hub.BeginWait(self));
        _hub.BeginExternalWait(); // ended when the completion reaches the hub
        _queue.Enqueue(request);
        _wake.Unpark();
        self.NoInterrupt++;
        self.NoteWait(WaitKind.Native, null, "Thread.Start (the runtime starting the new OS thread)");
        try
        {
            _hub.Block(self);
        }
        finally
        {
            self.NoInterrupt--;
        }
        if (request.Error is { } error) ExceptionDispatchInfo.Throw(error);
    }

    private void Loop()
    {
        while (true)
        {
            _wake.Park();
            while (_queue.TryDequeue(out var request))
            {
                try
                {
                    request.Start();
                }
                catch (Exception ex)
                {
                    request.Error = ex;
                }
                _hub.Post(() => Completed(request));
            }
        }
    }

    private void Completed(Request request)
    {
        _hub.EndExternalWait();
        if (request.Error != null) request.Failed();
        _hub.Wake(request.Caller, request.WaitId, request);
    }
}
