using System.Text;
using Evergreen.Patching.Replacements;

namespace Evergreen.Patching.Internal;

/// <summary>Every area's patch table, in patch order; what the patcher applies, lists and documents.</summary>
internal static class PatchTables
{
    /// <summary>
    /// Patch order (fixed, as gevent's patch_all): time and thread first (the hub's own parking never uses them, so
    /// they are safe to switch on while anything else is prepared), then Monitor and Lock (every lock in the process
    /// passes through them from the moment they are written), then sockets/select, then os.
    /// </summary>
    public static IReadOnlyList<PatchTable> All { get; } =
    [
        ThreadPatch.TimeTable,
        ThreadPatch.ThreadTable,
        MonitorPatch.Table,
        LockPatch.Table,
        WaitHandlePatch.Table,
        SocketPatch.SocketTable,
        SocketPatch.SelectTable,
        OsPatch.Table,
    ];

    /// <summary>The rows of <paramref name="area"/>'s tables, in patch order.</summary>
    public static IEnumerable<PatchRow> RowsOf(string area) =>
        All.Where(t => t.Area.Equals(area, StringComparison.OrdinalIgnoreCase)).SelectMany(t => t.Rows);

    /// <summary>Markers around the generated table in README.md.</summary>
    public const string ReadmeBegin = "<!-- patch table: generated from src/Patcher/Replacements (PatchTables.Markdown); a test compares -->";
    public const string ReadmeEnd = "<!-- end of patch table -->";

    /// <summary>
    /// README's patch table: one line per table and patched type, listing every detoured member. The README test
    /// fails when README's copy differs.
    /// </summary>
    public static string Markdown()
    {
        var sb = new StringBuilder();
        sb.Append("| area | type | members detoured | what the replacement does | table |\n");
        sb.Append("|---|---|---|---|---|\n");
        foreach (var table in All)
        {
            bool first = true;
            foreach (var group in table.Rows.GroupBy(r => r.Target?.DeclaringType?.Name ?? "?"))
            {
                string members = string.Join(", ", group.Select(r => "`" + r.Signature[(r.Signature.StartsWith("new ", StringComparison.Ordinal) ? 0 : group.Key.Length + 1)..] + "`"));
                sb.Append($"| `{table.Area}` | `{group.Key}` | {members} | {(first ? table.Summary : "″")} | `{table.File}` |\n");
                first = false;
            }
        }
        return sb.ToString();
    }
}
