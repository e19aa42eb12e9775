using Evergreen.Patching.Internal;
using Xunit;

namespace Evergreen.Patcher.Tests;

/// <summary>README's patch table is the one the patcher applies: generated from the tables, compared here (no patching).</summary>
public class ReadmePatchTableTests
{
    private static string Readme()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "README.md");
            if (File.Exists(path) && File.Exists(Path.Combine(dir.FullName, "Patcher.sln"))) return File.ReadAllText(path);
        }
        throw new FileNotFoundException("README.md beside Patcher.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Readme_lists_exactly_the_patched_methods()
    {
        string readme = Readme().Replace("\r\n", "\n");
        int begin = readme.IndexOf(PatchTables.ReadmeBegin, StringComparison.Ordinal);
        int end = readme.IndexOf(PatchTables.ReadmeEnd, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, $"README.md has no generated patch table between\n{PatchTables.ReadmeBegin}\nand\n{PatchTables.ReadmeEnd}");
        string inReadme = readme[(begin + PatchTables.ReadmeBegin.Length)..end].Trim('\n') + "\n";
        string fromTables = PatchTables.Markdown();
        Assert.True(inReadme == fromTables, "README.md's patch table differs from the patch tables; replace the block between the markers with:\n" + fromTables);
    }

    [Fact]
    public void Every_row_resolves_its_target_and_replacement()
    {
        var rows = PatchTables.All.SelectMany(t => t.Rows).ToList();
        Assert.All(rows, r => Assert.True(r.Target != null && r.Replacement != null, $"{r.TargetText} → {r.ReplacementText} does not resolve"));
        Assert.Equal(rows.Count, rows.Select(r => r.Target).Distinct().Count());
    }

    [Fact]
    public void Every_area_has_a_table_and_every_table_a_known_area()
    {
        Assert.Equal(Patching.Patcher.Areas.OrderBy(a => a), PatchTables.All.Select(t => t.Area).Distinct().OrderBy(a => a));
    }
}
