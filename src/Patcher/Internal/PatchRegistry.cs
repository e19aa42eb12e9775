namespace Evergreen.Patching.Internal;

/// <summary>One registry of what is patched: the areas and the rows applied, behind one lock (gevent's `saved`, Harmony's single locker).</summary>
internal static class PatchRegistry
{
    public static readonly object Gate = new();
    private static readonly List<(string Area, PatchRow Row)> s_applied = new();
    private static readonly HashSet<string> s_areas = new(StringComparer.OrdinalIgnoreCase);

    public static bool IsPatched(string area) { lock (Gate) return s_areas.Contains(area); }

    /// <summary>The applied rows of <paramref name="area"/>, as <see cref="PatchRow.Signature"/>.</summary>
    public static IReadOnlyList<string> Targets(string area)
    {
        lock (Gate) return s_applied.Where(d => d.Area.Equals(area, StringComparison.OrdinalIgnoreCase)).Select(d => d.Row.Signature).ToList();
    }

    public static void Record(string area, PatchRow row) { lock (Gate) s_applied.Add((area, row)); }

    public static void MarkArea(string area) { lock (Gate) s_areas.Add(area); }
}
