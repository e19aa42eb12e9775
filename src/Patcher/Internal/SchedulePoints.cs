using System.Diagnostics;
using System.Reflection;
using Evergreen.Patching.Replacements;

namespace Evergreen.Patching.Internal;

/// <summary>
/// Which lock operations are preemption points of schedule exploration: those the program makes, not those inside the
/// framework. The Monitor hook sees every lock in the process, and the framework takes locks for its own bookkeeping —
/// building an exception's first message took 34 lock operations in ResourceManager's caches where a later one, cached,
/// took 6 (the bench's if-not-while bug): as points they made a seed's schedule depend on what earlier runs had warmed,
/// so a replay in the same process diverged from the exploration. Only called while a run is on and this thread would
/// switch (exploring mode only: a short stack walk per lock operation).
/// </summary>
internal static class SchedulePoints
{
    // Read and written by the baton holder only (the callers check Hub.SchedulePointWouldAct first).
    private static readonly Dictionary<Assembly, bool> s_framework = new();

    private static readonly string[] s_ownAssemblies = ["Evergreen.Hub", "Evergreen.GreenIO", "Evergreen.Patcher", "Evergreen.Detours", "Evergreen.Testing"];

    /// <summary>
    /// True if the first frame above the caller's <paramref name="skip"/> frames that is not Monitor or Lock itself (a
    /// non-inlined <c>Monitor.Enter</c> calls the hooked fast path) belongs to the program rather than to the framework
    /// (System.*, Microsoft.*, the Evergreen libraries).
    /// </summary>
    public static bool CalledByProgram(int skip)
    {
        Hub.SuppressSchedulePoints(); // the walk may take locks of its own (metadata)
        try
        {
            for (int depth = skip + 1; depth < skip + 8; depth++)
            {
                var method = new StackFrame(depth, false).GetMethod();
                if (method == null) return false;
                var type = method.DeclaringType;
                if (type == typeof(Monitor) || type == typeof(Lock) || type == typeof(MonitorPatch) || type == typeof(LockPatch)) continue;
                return !IsFramework(method.Module.Assembly);
            }
            return false;
        }
        finally
        {
            Hub.ResumeSchedulePoints();
        }
    }

    private static bool IsFramework(Assembly assembly)
    {
        if (s_framework.TryGetValue(assembly, out bool framework)) return framework;
        string name = assembly.GetName().Name ?? "";
        framework = name is "System" or "mscorlib" or "netstandard" || name.StartsWith("System.", StringComparison.Ordinal)
            || name.StartsWith("Microsoft.", StringComparison.Ordinal) || s_ownAssemblies.Contains(name);
        s_framework[assembly] = framework;
        return framework;
    }
}
