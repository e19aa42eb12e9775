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

    internal const int SaSigInfo = 0x4;
    internal const int SaRestart = 0x10000000;

    /// <summary>glibc's <c>struct sigaction</c> on x86-64 (152 bytes; glibc fills in the restorer).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 152)]
    internal unsafe struct SigAction
    {
        internal nint Handler;
        internal fixed byte Mask[128];
        internal int Flags;
        private int _padding;
        private nint _restorer;
    }

    [LibraryImport("libc", EntryPoint = "sigaction", SetLastError = true)]
    internal static unsafe partial int SigActionQuery(int signal, SigAction* action, SigAction* old);

    [LibraryImport("libc", EntryPoint = "__libc_current_sigrtmin")]
    internal static partial int SigRtMin();

    [LibraryImport("libc", EntryPoint = "__libc_current_sigrtmax")]
    internal static partial int SigRtMax();
}
