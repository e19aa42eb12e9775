using System.Runtime.InteropServices;

namespace Evergreen.Detours.Interop;

/// <summary>The few libc entry points the engine needs (linux-x64 only).</summary>
internal static partial class Libc
{
    internal const int ProtRead = 1;
    internal const int ProtWrite = 2;
    internal const int ProtExec = 4;

    internal const int MapPrivate = 0x02;
    internal const int MapAnonymous = 0x20;
    // Linux >= 4.17: fail instead of silently unmapping what is already there.
    internal const int MapFixedNoReplace = 0x100000;

    internal static readonly nint MapFailed = -1;

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    internal static partial int MProtect(nint address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint MMap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    internal static partial int MUnmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "sched_yield")]
    internal static partial int SchedYield();
}
