namespace Evergreen.Internal;

/// <summary>
/// A parked OS thread that runs green threads one after another. Reusing workers is the other big lever
/// (DESIGN.md §2): `new Thread().Start()` costs ~112 us here, a warm spawn only a handoff.
/// </summary>
internal sealed class Worker
{
    public readonly Parker Parker = new();
    public GreenThread? Job;     // set before Unpark; read by the worker after Park returns
    public Thread? OsThread;
    public GreenThread? Running; // the job being run, for the thread dump and the deadlock check (read from any thread)

    // The last job's wait node and timer, handed to the next green thread this worker runs (Hub.Start), so a
    // warm spawn allocates neither (spawn + 5 sleeps + join: 600 → 152 B a thread with the other spawn-path
    // fixes; each GC with 10k threads alive costs 0.1-0.6 s here; `bench/run sleep` warm round: 13 GCs → 1).
    public WaitList.Node? SpareWaitNode;
    public WakeTimer? SpareWakeTimer;

    public void Main(Hub hub)
    {
        CpuAffinity.PinCurrent();
        var host = Hub.RegisterHost(null, this);
        var clean = ExecutionContext.Capture()!; // the default context: Hub.CreateWorker started this thread without flow
        while (true)
        {
            Parker.Park();
            Hub.TookBaton();
            var job = Job;
            Job = null;
            if (job != null)
            {
                Running = job;
                job.Host = host;
                hub.RunJob(job);
                Running = null;
                // A job that set an AsyncLocal outside an async method leaves it on the thread; the next job must not see it
                // (the thread pool resets its threads the same way).
                ExecutionContext.Restore(clean);
            }
            hub.WorkerFree(this);
        }
    }
}
