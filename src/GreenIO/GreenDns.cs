using System.Net;
using System.Net.Sockets;
using Evergreen.IO.Internal;

namespace Evergreen.IO;

/// <summary>
/// Green name resolution (eventlet.green.socket's getaddrinfo through tpool): the system resolver
/// (<see cref="Dns"/>, so <c>/etc/hosts</c>, <c>nsswitch.conf</c> and <c>resolv.conf</c> are honoured) runs on a
/// <see cref="Tpool"/> thread while the calling green thread waits greenly. Literal addresses and
/// <c>localhost</c> are answered at once, with no thread hop. Off green threads it calls <see cref="Dns"/> directly.
/// </summary>
public static unsafe class GreenDns
{
    /// <summary>
    /// Green <see cref="Dns.GetHostAddresses(string)"/>. A literal IP returns itself; <c>localhost</c> (and
    /// <c>*.localhost</c>, RFC 6761) returns the loopback addresses, IPv4 first.
    /// </summary>
    /// <exception cref="SocketException">The name does not resolve (as from <see cref="Dns"/>).</exception>
    public static IPAddress[] GetHostAddresses(string hostNameOrAddress) =>
        GetHostAddresses(hostNameOrAddress, AddressFamily.Unspecified);

    /// <summary>Green <see cref="Dns.GetHostAddresses(string, AddressFamily)"/>; see <see cref="GetHostAddresses(string)"/>.</summary>
    /// <exception cref="SocketException">The name does not resolve.</exception>
    public static IPAddress[] GetHostAddresses(string hostNameOrAddress, AddressFamily family)
    {
        ArgumentNullException.ThrowIfNull(hostNameOrAddress);
        if (TryAnswerLocally(hostNameOrAddress, family) is { } local) return local;
        return NativeScope.GreenCaller
            ? Tpool.Execute(() => IoPatchSeam.GetHostAddresses(hostNameOrAddress, family))
            : IoPatchSeam.GetHostAddresses(hostNameOrAddress, family);
    }

    /// <summary>
    /// Green <see cref="Dns.GetHostEntry(string)"/>: the system resolver on a tpool thread while the green caller waits
    /// greenly (<c>localhost</c> too, so the entry's host name and aliases are the resolver's).
    /// </summary>
    /// <exception cref="SocketException">The name does not resolve.</exception>
    public static IPHostEntry GetHostEntry(string hostNameOrAddress) => GetHostEntry(hostNameOrAddress, AddressFamily.Unspecified);

    /// <summary>Green <see cref="Dns.GetHostEntry(string, AddressFamily)"/>; see <see cref="GetHostEntry(string)"/>.</summary>
    /// <exception cref="SocketException">The name does not resolve.</exception>
    public static IPHostEntry GetHostEntry(string hostNameOrAddress, AddressFamily family)
    {
        ArgumentNullException.ThrowIfNull(hostNameOrAddress);
        return NativeScope.GreenCaller
            ? Tpool.Execute(() => IoPatchSeam.GetHostEntry(hostNameOrAddress, family))
            : IoPatchSeam.GetHostEntry(hostNameOrAddress, family);
    }

    /// <summary>Green <see cref="Dns.GetHostEntry(IPAddress)"/> (a reverse lookup); see <see cref="GetHostEntry(string)"/>.</summary>
    /// <exception cref="SocketException">The address does not resolve.</exception>
    public static IPHostEntry GetHostEntry(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return NativeScope.GreenCaller
            ? Tpool.Execute(() => IoPatchSeam.GetHostEntryByAddress(address))
            : IoPatchSeam.GetHostEntryByAddress(address);
    }

    private static IPAddress[]? TryAnswerLocally(string host, AddressFamily family)
    {
        if (IPAddress.TryParse(host, out var ip))
            return family == AddressFamily.Unspecified || ip.AddressFamily == family ? [ip] : [];
        bool localhost = host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ||
                         host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);
        if (!localhost) return null;
        // IPv4 first: servers in this kind of deployment bind 127.0.0.1 far more often than ::1.
        return family switch
        {
            AddressFamily.InterNetwork => [IPAddress.Loopback],
            AddressFamily.InterNetworkV6 => Socket.OSSupportsIPv6 ? [IPAddress.IPv6Loopback] : [],
            _ => Socket.OSSupportsIPv6 ? [IPAddress.Loopback, IPAddress.IPv6Loopback] : [IPAddress.Loopback],
        };
    }
}
