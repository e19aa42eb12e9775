using System.Globalization;

namespace Evergreen.Detours.Linux;

/// <summary>One line of <c>/proc/self/maps</c>.</summary>
/// <param name="Start">First address of the mapping.</param>
/// <param name="End">One past the last address.</param>
/// <param name="Protection">The mapping's protection as <c>PROT_*</c> bits.</param>
/// <param name="Path">The backing file or pseudo-name (may be empty).</param>
internal readonly record struct MemoryRegion(ulong Start, ulong End, int Protection, string Path)
{
    internal bool Contains(ulong address) => address >= Start && address < End;
}

/// <summary>Reads the process's memory map. The truth about a page's protection is here, not in what we last set.</summary>
internal static class ProcMaps
{
    // A snapshot of the map, used only to look for free gaps near a body (AllocateNear): a stale view there costs an
    // EEXIST and a fresh read. Protection lookups (TryFind) always read the file: the runtime reserves code-heap
    // ranges PROT_NONE and commits them executable later, so a snapshot once made a freshly JIT-compiled body look
    // "not executable" (DOTNET_ReadyToRun=0, where CoreLib's bodies are JIT-compiled) — and a stale protection
    // restored after a write could be wrong.
    private static List<MemoryRegion>? s_snapshot;
    private static readonly object s_gate = new();

    internal static List<MemoryRegion> ReadAll(bool fresh = false)
    {
        lock (s_gate)
        {
            if (fresh || s_snapshot == null) s_snapshot = ReadFile();
            return s_snapshot;
        }
    }

    /// <summary>Forgets the snapshot (after we mapped or unmapped memory ourselves).</summary>
    internal static void Invalidate()
    {
        lock (s_gate) s_snapshot = null;
    }

    private static List<MemoryRegion> ReadFile()
    {
        var regions = new List<MemoryRegion>(2048);
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            regions.Add(Parse(line));
        }

        return regions;
    }

    internal static bool TryFind(nint address, out MemoryRegion region)
    {
        ulong a = (ulong)address;
        foreach (var r in ReadAll(fresh: true))
        {
            if (r.Contains(a))
            {
                region = r;
                return true;
            }
        }

        region = default;
        return false;
    }

    internal static MemoryRegion Parse(string line)
    {
        // "start-end perms offset dev inode [path]"
        int dash = line.IndexOf('-');
        int sp1 = line.IndexOf(' ', dash);
        ulong start = ulong.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        ulong end = ulong.Parse(line.AsSpan(dash + 1, sp1 - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var perms = line.AsSpan(sp1 + 1, 4);
        int prot = (perms[0] == 'r' ? Interop.Libc.ProtRead : 0)
            | (perms[1] == 'w' ? Interop.Libc.ProtWrite : 0)
            | (perms[2] == 'x' ? Interop.Libc.ProtExec : 0);
        string path = string.Empty;
        int field = 0;
        for (int i = sp1 + 1; i < line.Length && field < 4; i++)
        {
            if (line[i] == ' ')
            {
                field++;
                if (field == 4)
                {
                    path = line[(i + 1)..].Trim();
                }
            }
        }

        return new MemoryRegion(start, end, prot, path);
    }
}
