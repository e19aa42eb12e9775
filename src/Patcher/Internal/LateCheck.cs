using Evergreen.Patching.Interop;

namespace Evergreen.Patching.Internal;

/// <summary>
/// What "already" means for the late-patching rule (DESIGN.md §5), read from /proc at the moment of the call:
/// <list type="bullet">
/// <item>a thread of the program's own: any OS thread other than the entry thread whose name does not start
/// with ".NET " (unnamed managed threads carry the process name), or a thread-pool / timer thread of the
/// runtime (".NET TP Worker", ".NET TP Gate", ".NET Long Running", ".NET Timer"), which exist only once the
/// program queued work;</item>
/// <item>an opened socket: an IPv4/IPv6 socket (TCP or UDP, bound or not) among the process's file descriptors. Unix-domain
/// sockets do not count (the runtime's diagnostics server opens one at start-up).</item>
/// </list>
/// </summary>
internal static class LateCheck
{
    private static readonly string[] s_programRuntimeThreads = [".NET TP Worker", ".NET TP Gate", ".NET Long Running", ".NET Timer", ".NET TP Wait"];

    public static bool IsEntryThread() => Evergreen.Interop.Libc.gettid() == Environment.ProcessId;

    /// <summary>Names of threads that show the program already started threads; empty if none.</summary>
    public static List<string> ProgramThreads()
    {
        var found = new List<string>();
        foreach (var dir in Directory.GetDirectories("/proc/self/task"))
        {
            if (Path.GetFileName(dir) == Environment.ProcessId.ToString()) continue;
            string comm;
            try { comm = File.ReadAllText(Path.Combine(dir, "comm")).Trim(); }
            catch (IOException) { continue; } // the thread ended meanwhile
            if (comm.StartsWith("evergreen", StringComparison.Ordinal)) continue;
            if (!comm.StartsWith(".NET ", StringComparison.Ordinal) || s_programRuntimeThreads.Any(p => comm.StartsWith(p, StringComparison.Ordinal)))
                found.Add($"{comm} (tid {Path.GetFileName(dir)})");
        }
        return found;
    }

    /// <summary>Number of open IPv4/IPv6 sockets (bound or not) among this process's file descriptors.</summary>
    public static int NetworkSockets()
    {
        int n = 0;
        foreach (var path in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try { target = new FileInfo(path).LinkTarget; }
            catch (IOException) { continue; }
            if (target == null || !target.StartsWith("socket:[", StringComparison.Ordinal)) continue;
            if (!int.TryParse(Path.GetFileName(path), out int fd)) continue;
            int domain = Libc.SocketDomain(fd);
            if (domain is 2 or 10) n++; // AF_INET, AF_INET6; AF_UNIX (the diagnostics server) does not count
        }
        return n;
    }
}
