using System.Reflection;
using Evergreen.Detours;

namespace Evergreen.Patching.Internal;

/// <summary>One registry of what is patched and of the saved originals, behind one lock (gevent's `saved`, Harmony's single locker).</summary>
internal static class PatchRegistry
{
    public static readonly object Gate = new();
    private static readonly List<(string Area, IDetour Detour)> s_detours = new();
    private static readonly HashSet<string> s_areas = new(StringComparer.OrdinalIgnoreCase);

    public static bool IsPatched(string area) { lock (Gate) return s_areas.Contains(area); }

    public static IReadOnlyList<string> Targets(string area)
    {
        lock (Gate) return s_detours.Where(d => d.Area.Equals(area, StringComparison.OrdinalIgnoreCase)).Select(d => Describe(d.Detour.Target)).ToList();
    }

    public static void Record(string area, IDetour detour) { lock (Gate) s_detours.Add((area, detour)); }

    public static void MarkArea(string area) { lock (Gate) s_areas.Add(area); }

    public static string Describe(MethodBase m) =>
        $"{m.DeclaringType?.FullName}.{m.Name}({string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))})";
}
