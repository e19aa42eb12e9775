using System.Runtime.InteropServices;

namespace Evergreen.Patching.Interop;

/// <summary>The patcher's libc entry points (LateCheck reads each socket's address family).</summary>
internal static partial class Libc
{
    private const int SOL_SOCKET = 1, SO_DOMAIN = 39;

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static unsafe partial int getsockopt(int fd, int level, int name, int* value, uint* len);

    /// <summary>The address family of socket <paramref name="fd"/> (AF_INET 2, AF_INET6 10, AF_UNIX 1), or -1.</summary>
    public static unsafe int SocketDomain(int fd)
    {
        int v = -1;
        uint len = sizeof(int);
        return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) == 0 ? v : -1;
    }
}
