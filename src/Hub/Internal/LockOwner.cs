using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Evergreen.Internal;

/// <summary>
/// Who holds a lock right now, read from the runtime's own state: lock ownership stays the runtime's (GreenMonitor
/// keeps none), so the deadlock check and the thread dump ask the runtime. Any thread may call; a read concurrent with
/// a lock or release returns the state before or after it, never a made-up owner.
/// </summary>
/// <remarks>
/// <para><b>System.Threading.Lock</b>: its private <c>_owningThreadId</c> (the owner's OS thread id, 0 when free),
/// through an <see cref="UnsafeAccessorAttribute"/> (no reflection on the hot path; a rename fails loudly).</para>
/// <para><b>Any other object</b> (<c>lock</c>, Monitor). On .NET 10.0 CoreCLR the Monitor is still native (no managed
/// <c>ObjectHeader</c> as NativeAOT and later runtimes have): the owner is in the object header word — a thin lock
/// keeps the owner's managed thread id in its low 16 bits — or, once the header was inflated (a hash code taken while
/// locked, a Monitor.Wait, contention in the runtime), in the object's sync block. GreenMonitor's own wait tables take
/// the object's hash code, so every lock a green thread has waited for is inflated. Where the header is and where the
/// sync block table lives are read from the runtime's data contract descriptor (<c>DotNetRuntimeContractDescriptor</c>,
/// exported by libcoreclr for the cDAC: the globals <c>SyncBlockValueToObjectOffset</c> and <c>SyncTableEntries</c>, the
/// type <c>SyncTableEntry</c>), not hard-coded. The sync block's lock (AwareLock, first in SyncBlock) is not in the
/// 10.0 descriptor: its layout (lock state at 0, bit 0 locked; holder's managed thread id at 8; holder's OS thread id at
/// 16; sync table index at 28) comes from src/coreclr/vm/syncblk.h and is checked once, on a lock of our own, before it
/// is trusted (<see cref="SyncBlocksReadable"/>); every read also checks that the sync table entry points back at the
/// object. tests/Hub.Tests/LockOwnerTests fails if any of it changes.</para>
/// </remarks>
internal static unsafe class LockOwner
{
    public enum State { Free, Held, Unknown }

    // From syncblk.h (CoreCLR): the header word's bits.
    private const uint IsHashOrSyncBlockIndex = 0x08000000, IsHashCode = 0x04000000, SpinLock = 0x10000000;
    private const uint ThinLockThreadIdMask = 0x0000FFFF, SyncBlockIndexMask = 0x03FFFFFF;
    // AwareLock, the first member of SyncBlock (syncblk.h, .NET 10).
    private const int AwareLockState = 0, AwareLockHolder = 8, AwareLockOsHolder = 16, AwareLockSyncIndex = 28;

    private static readonly int s_headerOffset = 4;    // the header word sits this far before the object reference
    private static readonly nint s_syncTable;          // address of g_pSyncTable (0: not found)
    private static readonly int s_entrySize, s_entrySyncBlock;

    /// <summary>True when inflated locks can be read (the descriptor was found and the self-check passed).</summary>
    public static bool SyncBlocksReadable { get; }

    /// <summary>Why <see cref="SyncBlocksReadable"/> is false, or null.</summary>
    public static string? Problem { get; }

    static LockOwner()
    {
        try
        {
            ReadDescriptor(ref s_headerOffset, ref s_syncTable, ref s_entrySize, ref s_entrySyncBlock);
            if (s_syncTable == 0) { Problem = "the runtime exports no data contract descriptor with SyncTableEntries"; return; }
            Problem = SelfCheck();
            SyncBlocksReadable = Problem == null;
        }
        catch (Exception e)
        {
            Problem = "reading the runtime's data contract descriptor failed: " + e.Message;
        }
    }

    /// <summary>
    /// Reads who holds <paramref name="obj"/>'s lock: for a <see cref="Lock"/> the OS thread id
    /// (<paramref name="managedThreadId"/> 0), for any other object the managed thread id (and the OS thread id when the
    /// lock is inflated, else 0).
    /// </summary>
    public static State Read(object obj, out int managedThreadId, out int osThreadId)
    {
        managedThreadId = osThreadId = 0;
        if (obj is Lock l)
        {
            osThreadId = (int)Volatile.Read(ref OwningThreadId(l));
            return osThreadId == 0 ? State.Free : State.Held;
        }
        fixed (byte* data = &Unsafe.As<RawData>(obj).Data)
        {
            byte* objRef = data - sizeof(nint); // the method table pointer precedes the fields
            uint header = Volatile.Read(ref *(uint*)(objRef - s_headerOffset));
            if ((header & IsHashOrSyncBlockIndex) == 0)
            {
                managedThreadId = (int)(header & ThinLockThreadIdMask);
                if ((header & SpinLock) != 0 && managedThreadId == 0) return State.Unknown; // being inflated right now
                return managedThreadId == 0 ? State.Free : State.Held;
            }
            if ((header & IsHashCode) != 0) return State.Free; // a hash code only: a header cannot hold it and a thin lock
            if (!SyncBlocksReadable) return State.Unknown;
            return ReadSyncBlock(objRef, header & SyncBlockIndexMask, out managedThreadId, out osThreadId);
        }
    }

    private static State ReadSyncBlock(byte* objRef, uint index, out int managedThreadId, out int osThreadId)
    {
        managedThreadId = osThreadId = 0;
        // The table only grows (a grown copy replaces it; the old one lives until a GC): an index from the header is
        // inside whichever table we read now.
        byte* entry = (byte*)Volatile.Read(ref *(nint*)s_syncTable) + (nint)index * s_entrySize;
        byte* syncBlock = (byte*)*(nint*)(entry + s_entrySyncBlock);
        if (*(byte**)(entry + s_entrySyncBlock + sizeof(nint)) != objRef || syncBlock == null) return State.Unknown;
        if ((Volatile.Read(ref *(uint*)(syncBlock + AwareLockState)) & 1) == 0) return State.Free;
        managedThreadId = *(int*)(syncBlock + AwareLockHolder);
        osThreadId = (int)*(nint*)(syncBlock + AwareLockOsHolder);
        return managedThreadId == 0 ? State.Unknown : State.Held;
    }

    /// <summary>
    /// Checks the AwareLock offsets on a lock of our own: held by this thread, inflated by taking its hash code. Any
    /// mismatch (another runtime version) says what differs, and inflated locks then read as unknown.
    /// </summary>
    private static string? SelfCheck()
    {
        var probe = new object();
        lock (probe)
        {
            RuntimeHelpers.GetHashCode(probe); // a hash code in a thin-locked header inflates it to a sync block
            fixed (byte* data = &Unsafe.As<RawData>(probe).Data)
            {
                byte* objRef = data - sizeof(nint);
                uint header = *(uint*)(objRef - s_headerOffset);
                if ((header & (IsHashOrSyncBlockIndex | IsHashCode)) != IsHashOrSyncBlockIndex)
                    return $"a locked object whose hash code was taken has header 0x{header:x8}, not a sync block index";
                uint index = header & SyncBlockIndexMask;
                byte* entry = (byte*)*(nint*)s_syncTable + (nint)index * s_entrySize;
                if (*(byte**)(entry + s_entrySyncBlock + sizeof(nint)) != objRef) return "the sync table entry does not point back at the object";
                byte* syncBlock = (byte*)*(nint*)(entry + s_entrySyncBlock);
                uint syncIndex = *(uint*)(syncBlock + AwareLockSyncIndex) & SyncBlockIndexMask;
                int holder = *(int*)(syncBlock + AwareLockHolder);
                int osHolder = (int)*(nint*)(syncBlock + AwareLockOsHolder);
                if ((*(uint*)(syncBlock + AwareLockState) & 1) == 0 || syncIndex != index || holder != Environment.CurrentManagedThreadId
                    || osHolder != Interop.Libc.gettid())
                    return $"the sync block's lock does not have the .NET 10 AwareLock layout (index {syncIndex} vs {index}, holder {holder} vs " +
                        $"{Environment.CurrentManagedThreadId}, OS holder {osHolder} vs {Interop.Libc.gettid()})";
            }
        }
        return null;
    }

    /// <summary>Reads the globals and the type layout this class needs from libcoreclr's data contract descriptor.</summary>
    private static void ReadDescriptor(ref int headerOffset, ref nint syncTable, ref int entrySize, ref int entrySyncBlock)
    {
        string dir = RuntimeEnvironment.GetRuntimeDirectory();
        if (!NativeLibrary.TryLoad(Path.Combine(dir, "libcoreclr.so"), out var lib)) return;
        if (!NativeLibrary.TryGetExport(lib, "DotNetRuntimeContractDescriptor", out var export)) return;
        // struct ContractDescriptor { uint64 magic; uint32 flags; uint32 descriptor_size; char* descriptor;
        //                             uint32 pointer_data_count; uint32 pad; void** pointer_data; }
        byte* d = (byte*)export;
        if (*(ulong*)d != 0x0043414443434e44) return; // "DNCCDAC\0"
        uint size = *(uint*)(d + 12);
        byte* json = *(byte**)(d + 16);
        uint pointerCount = *(uint*)(d + 24);
        nint* pointers = *(nint**)(d + 32);
        using var doc = JsonDocument.Parse(new ReadOnlyMemory<byte>(new ReadOnlySpan<byte>(json, (int)size).ToArray()));
        var root = doc.RootElement;
        var globals = root.GetProperty("globals");
        if (globals.TryGetProperty("SyncBlockValueToObjectOffset", out var off)) headerOffset = (int)Number(off[0]);
        if (!root.GetProperty("types").TryGetProperty("SyncTableEntry", out var entry)) return;
        entrySize = (int)Number(entry.GetProperty("!"));
        entrySyncBlock = (int)Number(entry.GetProperty("SyncBlock"));
        if (globals.TryGetProperty("SyncTableEntries", out var table) && table[0].ValueKind == JsonValueKind.Array)
        {
            long i = Number(table[0][0]); // an indirect global: an index into pointer_data, which holds its address
            if (i >= 0 && i < pointerCount) syncTable = pointers[i];
        }
    }

    // A descriptor value: a number, a "0x…" string, or [value, "type"].
    private static long Number(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetInt64(),
        JsonValueKind.String => Convert.ToInt64(e.GetString(), e.GetString()!.StartsWith("0x", StringComparison.Ordinal) ? 16 : 10),
        JsonValueKind.Array => Number(e[0]),
        _ => throw new FormatException("unexpected descriptor value " + e),
    };

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_owningThreadId")]
    private static extern ref uint OwningThreadId(Lock l);

    private sealed class RawData
    {
        public byte Data;
    }
}
