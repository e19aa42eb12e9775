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
    // A snapshot of the map, reused until a lookup misses or we map memory ourselves. Reading and parsing the
    // ~1,500-line file took most of a batch's time (a 20-detour monkey-patch set: 97 ms, mostly here). Code pages
    // we look up keep their protection (W^X keeps RX pages RX; the JIT writes through separate RW views), so a
    // cached protection for a mapping that is still there is current; anything not found is re-read.
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
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (var r in ReadAll(fresh: pass == 1))
            {
                if (r.Contains(a))
                {
                    region = r;
                    return true;
                }
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
