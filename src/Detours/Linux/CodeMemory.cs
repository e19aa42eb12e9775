using System.Runtime.InteropServices;
using Evergreen.Detours.Interop;

namespace Evergreen.Detours.Linux;

/// <summary>
/// Writes into executable pages and allocates code pages near a given address. A code page is made
/// writable only for the write and gets its ORIGINAL protection back (read from /proc/self/maps: forcing
/// r-x on a page the runtime keeps rwx, as with W^X off, crashed the probe). Fresh code pages are written
/// RW and flipped to RX, so no page of ours is ever left rwx.
/// </summary>
internal static unsafe class CodeMemory
{
    internal static readonly int PageSize = Environment.SystemPageSize;

    /// <summary>The pages spanning [address, address+length) with their current protection; read before writing.</summary>
    internal static (nint Page, int Protection)[] GetPages(nint address, int length) => GetPages([(address, length)]);

    /// <summary>
    /// The distinct pages spanning every span, in order of first appearance, with their current protection: one read of
    /// /proc/self/maps for the whole batch (protections must be current).
    /// </summary>
    internal static (nint Page, int Protection)[] GetPages(IEnumerable<(nint Address, int Length)> spans)
    {
        var maps = ProcMaps.ReadAll(fresh: true);
        var pages = new List<(nint Page, int Protection)>();
        foreach (var (address, length) in spans)
        {
            nint first = address & ~(nint)(PageSize - 1);
            nint last = (address + length - 1) & ~(nint)(PageSize - 1);
            for (nint page = first; page <= last; page += PageSize)
            {
                if (pages.Exists(p => p.Page == page))
                {
                    continue;
                }

                int index = maps.FindIndex(r => r.Contains((ulong)page));
                if (index < 0)
                {
                    throw new InvalidOperationException($"address 0x{page:X} is not mapped");
                }

                pages.Add((page, maps[index].Protection));
            }
        }

        return pages.ToArray();
    }

    /// <summary>
    /// Runs <paramref name="write"/> with the pages writable. The pages keep their execute bit during the write
    /// (other threads may be running other code on the same page), and each gets its own original protection back.
    /// </summary>
    internal static void WithWritable((nint Page, int Protection)[] pages, Action write)
    {
        int changed = 0;
        try
        {
            for (; changed < pages.Length; changed++)
            {
                var (page, prot) = pages[changed];
                if ((prot & Libc.ProtWrite) == 0 && Libc.MProtect(page, (nuint)PageSize, prot | Libc.ProtWrite) != 0)
                {
                    throw new InvalidOperationException($"mprotect(+W) of 0x{page:X} failed, errno {Marshal.GetLastPInvokeError()}");
                }
            }

            write();
        }
        finally
        {
            for (int i = 0; i < changed; i++)
            {
                var (page, prot) = pages[i];
                if ((prot & Libc.ProtWrite) == 0 && Libc.MProtect(page, (nuint)PageSize, prot) != 0)
                {
                    // A code page left writable+executable is worse than a dead process.
                    Environment.FailFast($"Evergreen.Detours: could not restore protection of 0x{page:X}, errno {Marshal.GetLastPInvokeError()}");
                }
            }
        }
    }

    /// <summary>
    /// Maps one RW page within ±2 GB of <paramref name="near"/> (so rel32 jumps and RIP-relative operands
    /// relocated into it still reach), choosing the free gap closest to it.
    /// </summary>
    internal static nint AllocateNear(nint near)
    {
        // The runtime maps memory on other threads meanwhile, so a gap seen in /proc/self/maps can be taken before our
        // mmap (EEXIST with MAP_FIXED_NOREPLACE): look again.
        for (int attempt = 0; ; attempt++)
        {
            nint page = TryAllocateNear(near, attemptFresh: attempt > 0, out int errno);
            if (page != 0)
            {
                return page;
            }

            if (errno != 17 || attempt == 16)
            {
                throw new InvalidOperationException($"mmap within 2 GB of 0x{near:X} failed, errno {errno}");
            }
        }
    }

    private static nint TryAllocateNear(nint near, bool attemptFresh, out int errno)
    {
        errno = 0;
        const long Reach = 0x7FF0_0000; // a little under 2 GB, leaving room for the code's own size
        ulong target = (ulong)near;
        ulong lo = target > (ulong)Reach ? target - (ulong)Reach : (ulong)PageSize * 16;
        ulong hi = target + (ulong)Reach;
        var maps = ProcMaps.ReadAll(fresh: attemptFresh);
        ulong bestAddress = 0, bestDistance = ulong.MaxValue;
        ulong previousEnd = (ulong)PageSize * 16; // never near address 0
        foreach (var r in maps)
        {
            Consider(previousEnd, r.Start);
            previousEnd = Math.Max(previousEnd, r.End);
        }

        Consider(previousEnd, 0x7FFF_FFFF_0000UL);
        if (bestAddress == 0)
        {
            throw new InvalidOperationException($"no free page within 2 GB of 0x{near:X}");
        }

        nint p = Libc.MMap((nint)bestAddress, (nuint)PageSize, Libc.ProtRead | Libc.ProtWrite,
            Libc.MapPrivate | Libc.MapAnonymous | Libc.MapFixedNoReplace, -1, 0);
        if (p == Libc.MapFailed)
        {
            errno = Marshal.GetLastPInvokeError();
            return 0;
        }

        if (p != (nint)bestAddress)
        {
            // Kernels before 4.17 ignore MAP_FIXED_NOREPLACE and treat the address as a hint.
            Libc.MUnmap(p, (nuint)PageSize);
            errno = -1;
            return 0;
        }

        ProcMaps.Invalidate(); // a new mapping: the snapshot no longer matches
        return p;

        void Consider(ulong gapStart, ulong gapEnd)
        {
            // Keep one guard page on each side of the gap so we never sit flush against a growing mapping.
            ulong first = gapStart + (ulong)PageSize;
            ulong last = gapEnd >= (ulong)(2 * PageSize) ? gapEnd - (ulong)(2 * PageSize) : 0;
            if (last < first)
            {
                return;
            }

            ulong candidate = target < first ? first : target > last ? last : target & ~(ulong)(PageSize - 1);
            if (candidate < lo || candidate > hi)
            {
                return;
            }

            ulong distance = candidate > target ? candidate - target : target - candidate;
            if (distance < bestDistance)
            {
                bestDistance = distance;
                bestAddress = candidate;
            }
        }
    }

    /// <summary>Flips a page we allocated from RW to RX; it is never written again.</summary>
    internal static void MakeExecutable(nint page)
    {
        if (Libc.MProtect(page, (nuint)PageSize, Libc.ProtRead | Libc.ProtExec) != 0)
        {
            throw new InvalidOperationException($"mprotect(RX) of 0x{page:X} failed, errno {Marshal.GetLastPInvokeError()}");
        }

        ProcMaps.Invalidate(); // its protection changed (and the kernel may have merged it with a neighbour)
    }

    internal static void Free(nint page)
    {
        Libc.MUnmap(page, (nuint)PageSize);
        ProcMaps.Invalidate();
    }
}
