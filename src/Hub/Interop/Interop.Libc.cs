using System.Runtime.InteropServices;

namespace Evergreen.Interop;

/// <summary>
/// Every libc entry point the hub uses, in one place (STYLE.md: all P/Invoke in one Interop folder).
/// Logic code sees <see cref="PollEvents"/> and exceptions, never raw errno.
/// </summary>
internal static unsafe partial class Libc
{
    private const string Lib = "libc";

    public const int EINTR = 4, EAGAIN = 11, EEXIST = 17, ENOENT = 2, EBADF = 9;

    // epoll -----------------------------------------------------------------------------------
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
    public const uint EPOLLIN = 0x001, EPOLLPRI = 0x002, EPOLLOUT = 0x004, EPOLLERR = 0x008, EPOLLHUP = 0x010,
        EPOLLRDHUP = 0x2000, EPOLLET = 1u << 31;

    /// <summary>struct epoll_event is packed on x86-64 (12 bytes).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, EpollEvent* ev);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int epoll_wait(int epfd, EpollEvent* events, int maxevents, int timeout);

    // eventfd ---------------------------------------------------------------------------------
    public const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint read(int fd, void* buf, nuint count);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint write(int fd, void* buf, nuint count);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int close(int fd);

    // futex -----------------------------------------------------------------------------------
    private const long SYS_futex = 202; // x86-64
    private const int FUTEX_WAIT_PRIVATE = 128, FUTEX_WAKE_PRIVATE = 129;

    // No SetLastError: both futex calls ignore errno (callers re-check the word), and saving errno around each
    // call cost two extra TLS round trips per baton handoff.
    [LibraryImport(Lib, EntryPoint = "syscall")]
    private static partial long syscall6(long number, int* addr, int op, int val, void* timeout, void* addr2, int val3);

    /// <summary>Blocks while <c>*addr == expected</c>. Spurious returns are possible; callers loop.</summary>
    public static void FutexWait(int* addr, int expected) => syscall6(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, null, null, 0);

    /// <summary>Wakes at most one thread blocked in <see cref="FutexWait"/> on <paramref name="addr"/>.</summary>
    public static void FutexWake(int* addr) => syscall6(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, null, null, 0);

    // scheduling ------------------------------------------------------------------------------
    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sched_setaffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int sched_getaffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport(Lib)]
    public static partial int gettid();

    /// <summary>The OS yield: gives the CPU to another runnable thread (a green switch it is not).</summary>
    [LibraryImport(Lib, EntryPoint = "sched_yield")]
    public static partial int SchedYield();

    // directories -----------------------------------------------------------------------------
    /// <summary>Offset of <c>d_name</c> in glibc's x86-64 <c>struct dirent</c> (d_ino 8, d_off 8, d_reclen 2, d_type 1).</summary>
    public const int DirentNameOffset = 19;

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint opendir(string name);

    /// <summary>The next entry (a <c>struct dirent*</c> valid until the next call), or 0 at the end.</summary>
    [LibraryImport(Lib)]
    public static partial byte* readdir(nint dir);

    [LibraryImport(Lib)]
    public static partial int closedir(nint dir);
}
