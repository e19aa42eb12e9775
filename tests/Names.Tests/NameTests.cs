using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using UserCode;

namespace Evergreen.NamesTests;

/// <summary>No public type of ours shares a simple name with a public type of the BCL namespaces a user imports.</summary>
public class NameTests
{
    private static readonly string[] s_bclNamespaces =
        ["System", "System.Threading", "System.Threading.Tasks", "System.Collections.Generic", "System.IO", "System.Net.Sockets"];

    private static readonly string[] s_ourAssemblies = ["Evergreen.Hub", "Evergreen.GreenIO", "Evergreen.Patcher", "Evergreen.Detours", "Evergreen.Testing"];

    /// <summary>Top-level public types of our assemblies; nested ones are reached through their parent only.</summary>
    private static List<Type> OurPublicTypes() =>
        [.. s_ourAssemblies.SelectMany(n => Assembly.Load(n).GetExportedTypes()).Where(t => !t.IsNested)];

    private static string SimpleName(string name) => name.Split('`')[0];

    /// <summary>
    /// Simple names of the public top-level types in <see cref="s_bclNamespaces"/>, read from the metadata of every
    /// assembly of the shared framework this test runs on (without loading them).
    /// </summary>
    private static Dictionary<string, string> BclNames()
    {
        var names = new Dictionary<string, string>();
        foreach (var path in Directory.EnumerateFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll"))
        {
            using var pe = new PEReader(File.OpenRead(path));
            if (!pe.HasMetadata) continue;
            var md = pe.GetMetadataReader();
            foreach (var h in md.TypeDefinitions)
            {
                var td = md.GetTypeDefinition(h);
                if ((td.Attributes & TypeAttributes.VisibilityMask) != TypeAttributes.Public) continue;
                string ns = md.GetString(td.Namespace);
                if (!s_bclNamespaces.Contains(ns)) continue;
                names.TryAdd(SimpleName(md.GetString(td.Name)), ns);
            }
        }
        return names;
    }

    [Fact]
    public void The_BCL_scan_sees_the_names_it_must_avoid()
    {
        var bcl = BclNames();
        Assert.Equal("System.Threading", bcl["Semaphore"]);
        Assert.Equal("System.Threading", bcl["Timeout"]);
        Assert.Equal("System.Collections.Generic", bcl["Queue"]);
        Assert.Equal("System.Collections.Generic", bcl["PriorityQueue"]);
        Assert.Equal("System.Net.Sockets", bcl["Socket"]);
        Assert.Equal("System.IO", bcl["Stream"]);
    }

    [Fact]
    public void No_public_type_shares_a_simple_name_with_the_BCL()
    {
        var bcl = BclNames();
        var clashes = OurPublicTypes()
            .Where(t => bcl.ContainsKey(SimpleName(t.Name)))
            .Select(t => $"{t.FullName} clashes with {bcl[SimpleName(t.Name)]}.{SimpleName(t.Name)}")
            .ToList();
        Assert.Empty(clashes);
    }

    [Fact]
    public void Every_public_type_is_listed_in_the_compile_check()
    {
        var ours = OurPublicTypes().Select(t => t.FullName).Order().ToList();
        var listed = PublicTypes.All.Select(t => t.FullName).Order().ToList();
        Assert.Equal(ours, listed);
    }
}
