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

    public void Main(Hub hub)
    {
        CpuAffinity.PinCurrent();
        while (true)
        {
            Parker.Park();
            var job = Job;
            Job = null;
            if (job != null) hub.RunJob(job);
            hub.WorkerFree(this);
        }
    }
}
