using Evergreen.Internal;

namespace Evergreen;

public static partial class Green
{
    /// <summary>
    /// Writes every green thread to <paramref name="writer"/>: id, name, OS thread, state (running, runnable, waiting)
    /// and, for a waiting one, what it waits on — a lock and which thread holds it, a socket with its endpoints and the
    /// operation, a sleep and until when, a join and of which thread, an event, a WaitHandle, a native call — and for
    /// how long; with the environment variable <c>EVERGREEN_STACKS=1</c> also the managed stack at which it parked
    /// (captured at every park, so off by default). Never blocks or switches. On a green thread the picture is exact; from
    /// any other thread it is read without the baton and says "(racy snapshot)". The same dump goes to standard error on
    /// SIGQUIT (<c>kill -QUIT pid</c>; <c>EVERGREEN_DUMP_SIGNAL</c> picks another signal number, or <c>none</c>).
    /// </summary>
    public static void DumpThreads(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(ThreadDump.Format(racy: !Hub.IsGreenThread, "Green.DumpThreads"));
    }
}
