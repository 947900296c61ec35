namespace Sentry.Net;

/// <summary>
/// What answers a sandbox's AF_INET/AF_INET6 sockets: the user-space TCP/IP stack (loopback only
/// for --network=none, or attached to a link for --network=sandbox) or the host's own sockets
/// (--network=host). One per sandbox; it owns its worker threads and stops them in Dispose.
/// </summary>
public interface INetworkStack : IDisposable
{
    /// <summary>
    /// socket(2) for AF_INET/AF_INET6: <paramref name="type"/> without flag bits, protocol 0 for
    /// the default. -EPROTONOSUPPORT, -ESOCKTNOSUPPORT or -EPERM (raw sockets need CAP_NET_RAW in
    /// the sandbox, which the kernel checks) as Linux answers.
    /// </summary>
    long Create(int family, int type, int protocol, out IEndpoint? endpoint);

    /// <summary>The network interfaces as the sandbox sees them (netlink, SIOCGIF*, /proc/net/dev, getifaddrs).</summary>
    IReadOnlyList<NetInterface> Interfaces { get; }

    /// <summary>The routing table (netlink RTM_GETROUTE, /proc/net/route, ip route).</summary>
    IReadOnlyList<NetRoute> Routes { get; }

    /// <summary>
    /// The sockets of one protocol as /proc/net/tcp, tcp6, udp and udp6 list them (slot order is
    /// the stack's own). Empty where the stack cannot know (host networking shows only the
    /// sandbox's own sockets or none).
    /// </summary>
    IReadOnlyList<SocketInfo> Sockets(int family, int protocol);
}

/// <summary>One interface: index, name, IFF_* flags, MTU, hardware address, addresses with prefix lengths, counters.</summary>
public sealed record NetInterface(
    int Index,
    string Name,
    int Flags,
    int Mtu,
    byte[] HardwareAddress,
    IReadOnlyList<(SockAddrInet Address, int PrefixLength)> Addresses,
    NetCounters Counters);

/// <summary>The counters /proc/net/dev shows for an interface.</summary>
public sealed class NetCounters
{
    public long RxBytes, RxPackets, RxErrors, RxDropped, TxBytes, TxPackets, TxErrors, TxDropped;
}

/// <summary>A route: destination/prefix via gateway (unspecified for a directly attached network) on interface.</summary>
public sealed record NetRoute(SockAddrInet Destination, int PrefixLength, SockAddrInet Gateway, int InterfaceIndex, int Metric);

/// <summary>A socket as /proc/net/tcp lists it: addresses, TCP state (TCP_ESTABLISHED=1 ... as in include/net/tcp_states.h), queues, owner.</summary>
public readonly record struct SocketInfo(SockAddrInet Local, SockAddrInet Remote, int State, int SendQueue, int ReceiveQueue, uint Uid, ulong Inode);
