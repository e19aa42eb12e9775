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
public static class GreenDns
{
    /// <summary>What this class replaces (eventlet's <c>__patched__</c>): each <see cref="Dns"/> member → the green function.</summary>
    internal static readonly (string Original, string Replacement)[] Patched =
    [
        ("Dns.GetHostAddresses(string)", "GreenDns.GetHostAddresses(string)"),
        ("Dns.GetHostAddresses(string, AddressFamily)", "GreenDns.GetHostAddresses(string, AddressFamily)"),
        ("Dns.GetHostEntry(string)", "GreenDns.GetHostEntry(string)"),
    ];

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
        if (!NativeScope.GreenCaller)
            return family == AddressFamily.Unspecified
                ? NativeSocket.GetHostAddresses(hostNameOrAddress)
                : NativeSocket.GetHostAddressesFamily(hostNameOrAddress, family);
        return family == AddressFamily.Unspecified
            ? Tpool.Execute(() => NativeSocket.GetHostAddresses(hostNameOrAddress))
            : Tpool.Execute(() => NativeSocket.GetHostAddressesFamily(hostNameOrAddress, family));
    }

    /// <summary>Green <see cref="Dns.GetHostEntry(string)"/>: the system resolver on a tpool thread (on a green thread).</summary>
    /// <exception cref="SocketException">The name does not resolve.</exception>
    public static IPHostEntry GetHostEntry(string hostNameOrAddress)
    {
        ArgumentNullException.ThrowIfNull(hostNameOrAddress);
        return NativeScope.GreenCaller
            ? Tpool.Execute(() => NativeSocket.GetHostEntry(hostNameOrAddress))
            : NativeSocket.GetHostEntry(hostNameOrAddress);
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
