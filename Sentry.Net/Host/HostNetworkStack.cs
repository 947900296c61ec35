using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Sentry.Platform;

namespace Sentry.Net.Host;

/// <summary>
/// --network=host: every AF_INET/AF_INET6 socket of the sandbox is a host socket Sentry holds
/// (<see cref="HostEndpoint"/>), in Sentry's own network namespace. The sandbox then sees the
/// host's interfaces, addresses, routes and ports: a server in it listens on the host, a client
/// reaches whatever the host reaches. Raw sockets are refused (EPERM): they would let the
/// application read and forge the host's traffic.
/// </summary>
public sealed class HostNetworkStack : INetworkStack
{
    const int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3;
    readonly Lazy<HostPoller> _poller = new(() => new HostPoller());
    readonly HashSet<HostEndpoint> _open = new();
    bool _disposed;

    internal HostPoller Poller => _poller.Value;

    internal void Track(HostEndpoint e) { lock (_open) _open.Add(e); }
    internal void Untrack(HostEndpoint e) { lock (_open) _open.Remove(e); }

    public long Create(int family, int type, int protocol, out IEndpoint? endpoint)
    {
        endpoint = null;
        if (family is not (SockAddrInet.AF_INET or SockAddrInet.AF_INET6)) return -Errno.EAFNOSUPPORT;
        if (_disposed) return -Errno.ENETDOWN;
        if (type == SOCK_RAW) return -Errno.EPERM;
        if (type is not (SOCK_STREAM or SOCK_DGRAM)) return -Errno.ESOCKTNOSUPPORT;
        long fd = HostSyscall.Call(41 /* socket */, family, type | 0x800 | 0x80000 /* SOCK_NONBLOCK | SOCK_CLOEXEC */, protocol);
        if (fd < 0) return fd;
        int resolved = protocol;
        unsafe
        {
            int v = 0, len = 4;
            if (HostSyscall.Call(55 /* getsockopt */, fd, 1, 38 /* SO_PROTOCOL */, (long)&v, (long)&len) == 0) resolved = v;
        }
        endpoint = new HostEndpoint(this, (int)fd, family, type, resolved);
        return 0;
    }

    public IReadOnlyList<NetInterface> Interfaces => HostInterfaces.Read();

    public IReadOnlyList<NetRoute> Routes => HostInterfaces.ReadRoutes();

    public IReadOnlyList<SocketInfo> Sockets(int family, int protocol)
    {
        HostEndpoint[] open;
        lock (_open) open = [.. _open];
        var list = new List<SocketInfo>();
        foreach (var e in open)
        {
            if (e.Family != family || e.Protocol != protocol) continue;
            if (e.GetLocalAddress(out var local) < 0) continue;
            if (e.GetPeerAddress(out var remote) < 0) remote = HostEndpoint.ParseUnspecified(family);
            int state = protocol == 6 ? e.TcpState : remote.Port != 0 ? 1 : 7;
            list.Add(new SocketInfo(local, remote, state, e.Unsent, e.Available, 0, 0));
        }
        return list;
    }

    public void Dispose()
    {
        HostEndpoint[] open;
        lock (_open) { open = [.. _open]; _disposed = true; }
        foreach (var e in open) e.Close();
        if (_poller.IsValueCreated) _poller.Value.Dispose();
    }
}

/// <summary>
/// The interfaces and routes of Sentry's own network namespace: names and counters from
/// /proc/net/dev, index, flags, MTU and hardware address from the SIOCGIF* ioctls, IPv4 addresses
/// from SIOCGIFCONF, IPv6 ones from /proc/net/if_inet6, routes from /proc/net/route and
/// /proc/net/ipv6_route (/proc/net is the reading thread's namespace; /sys/class/net may not be).
/// </summary>
public static unsafe class HostInterfaces
{
    const uint SIOCGIFCONF = 0x8912, SIOCGIFFLAGS = 0x8913, SIOCGIFNETMASK = 0x891b, SIOCGIFMTU = 0x8921,
        SIOCGIFHWADDR = 0x8927, SIOCGIFINDEX = 0x8933;
    const int IFF_RUNNING = 0x40, IFF_LOWER_UP = 0x10000;

    static long IfReq(int fd, uint cmd, string name, byte* req)
    {
        var span = new Span<byte>(req, 40);
        span.Clear();
        Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, 15)), span);
        return HostSyscall.Call(16 /* ioctl */, fd, cmd, (long)req);
    }

    public static IReadOnlyList<NetInterface> Read()
    {
        var result = new List<NetInterface>();
        int fd = (int)HostSyscall.Call(41, 2 /* AF_INET */, 2 | 0x80000 /* SOCK_DGRAM | SOCK_CLOEXEC */, 0);
        if (fd < 0) return result;
        try
        {
            var v4 = V4Addresses(fd);
            var v6 = V6Addresses();
            byte* req = stackalloc byte[40];
            foreach (var (name, counters) in Devices())
            {
                if (IfReq(fd, SIOCGIFINDEX, name, req) < 0) continue;
                int index = *(int*)(req + 16);
                int flags = IfReq(fd, SIOCGIFFLAGS, name, req) < 0 ? 0 : *(ushort*)(req + 16);
                if ((flags & IFF_RUNNING) != 0) flags |= IFF_LOWER_UP;
                int mtu = IfReq(fd, SIOCGIFMTU, name, req) < 0 ? 0 : *(int*)(req + 16);
                var hw = IfReq(fd, SIOCGIFHWADDR, name, req) < 0 ? new byte[6] : new Span<byte>(req + 18, 6).ToArray();
                var addresses = new List<(SockAddrInet, int)>();
                foreach (var a in v4) if (a.Name == name) addresses.Add((a.Address, a.Prefix));
                foreach (var a in v6) if (a.Name == name) addresses.Add((a.Address, a.Prefix));
                result.Add(new NetInterface(index, name, flags, mtu, hw, addresses, counters));
            }
        }
        finally { HostSyscall.Call(3, fd); }
        result.Sort((a, b) => a.Index.CompareTo(b.Index));
        return result;
    }

    /// <summary>The devices of /proc/net/dev with their counters.</summary>
    static List<(string Name, NetCounters Counters)> Devices()
    {
        var list = new List<(string, NetCounters)>();
        string[] lines;
        try { lines = File.ReadAllLines("/proc/net/dev"); }
        catch (IOException) { return list; }
        foreach (var line in lines.Skip(2))
        {
            int colon = line.IndexOf(':');
            if (colon < 0) continue;
            string name = line[..colon].Trim();
            var f = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => long.TryParse(s, out long v) ? v : 0).ToArray();
            if (f.Length < 12) continue;
            list.Add((name, new NetCounters
            {
                RxBytes = f[0], RxPackets = f[1], RxErrors = f[2], RxDropped = f[3],
                TxBytes = f[8], TxPackets = f[9], TxErrors = f[10], TxDropped = f[11],
            }));
        }
        return list;
    }

    /// <summary>IPv4 addresses by SIOCGIFCONF (an alias label eth0:1 counts for eth0), prefix lengths by SIOCGIFNETMASK.</summary>
    static List<(string Name, SockAddrInet Address, int Prefix)> V4Addresses(int fd)
    {
        var list = new List<(string, SockAddrInet, int)>();
        const int room = 40 * 64;
        byte* buf = stackalloc byte[room];
        long* conf = stackalloc long[2];
        conf[0] = room;
        conf[1] = (long)buf;
        if (HostSyscall.Call(16, fd, SIOCGIFCONF, (long)conf) < 0) return list;
        int len = (int)conf[0];
        byte* req = stackalloc byte[40];
        for (int off = 0; off + 40 <= len; off += 40)
        {
            var entry = new ReadOnlySpan<byte>(buf + off, 40);
            int nul = entry[..16].IndexOf((byte)0);
            string label = Encoding.ASCII.GetString(entry[..(nul < 0 ? 16 : nul)]);
            var address = new SockAddrInet(SockAddrInet.AF_INET, entry.Slice(20, 4), 0);
            int prefix = 32;
            if (IfReq(fd, SIOCGIFNETMASK, label, req) == 0)
                prefix = BitOperationsPopCount(BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(req + 20, 4)));
            int colon = label.IndexOf(':');
            list.Add((colon < 0 ? label : label[..colon], address, prefix));
        }
        return list;
    }

    static int BitOperationsPopCount(uint v) => System.Numerics.BitOperations.PopCount(v);

    /// <summary>/proc/net/if_inet6: address, index, prefix length, scope, flags, name.</summary>
    static List<(string Name, SockAddrInet Address, int Prefix)> V6Addresses()
    {
        var list = new List<(string, SockAddrInet, int)>();
        string[] lines;
        try { lines = File.ReadAllLines("/proc/net/if_inet6"); }
        catch (IOException) { return list; }
        foreach (var line in lines)
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 6 || f[0].Length != 32) continue;
            var bytes = Convert.FromHexString(f[0]);
            int prefix = int.Parse(f[2], NumberStyles.HexNumber);
            uint scope = (int.Parse(f[3], NumberStyles.HexNumber) & 0x20) != 0 ? uint.Parse(f[1], NumberStyles.HexNumber) : 0;
            list.Add((f[5], new SockAddrInet(SockAddrInet.AF_INET6, bytes, 0, 0, scope), prefix));
        }
        // The kernel lists the newest first; `ip` shows them in the order netlink gives (the oldest first for IPv6).
        list.Reverse();
        return list;
    }

    public static IReadOnlyList<NetRoute> ReadRoutes()
    {
        var routes = new List<NetRoute>();
        var index = new Dictionary<string, int>();
        foreach (var i in Read()) index[i.Name] = i.Index;
        try
        {
            foreach (var line in File.ReadAllLines("/proc/net/route").Skip(1))
            {
                var f = line.Split('\t', ' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 8 || !index.TryGetValue(f[0], out int ifIndex)) continue;
                uint dest = uint.Parse(f[1], NumberStyles.HexNumber), gw = uint.Parse(f[2], NumberStyles.HexNumber);
                uint mask = uint.Parse(f[7], NumberStyles.HexNumber);
                int metric = int.Parse(f[6]);
                // The fields are the in-memory (network order) words printed on a little-endian host.
                routes.Add(new NetRoute(V4(dest), System.Numerics.BitOperations.PopCount(mask), V4(gw), ifIndex, metric));
            }
        }
        catch (IOException) { }
        try
        {
            foreach (var line in File.ReadAllLines("/proc/net/ipv6_route"))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 10 || !index.TryGetValue(f[9], out int ifIndex)) continue;
                uint flags = uint.Parse(f[8], NumberStyles.HexNumber);
                const uint RTF_UP = 0x1, RTF_LOCAL = 0x80000000, RTF_CACHE = 0x01000000;
                if ((flags & RTF_UP) == 0 || (flags & (RTF_LOCAL | RTF_CACHE)) != 0) continue;
                var dest = Convert.FromHexString(f[0]);
                if (dest[0] == 0xff) continue; // multicast routes of the local table
                routes.Add(new NetRoute(new SockAddrInet(SockAddrInet.AF_INET6, dest, 0), int.Parse(f[1], NumberStyles.HexNumber),
                    new SockAddrInet(SockAddrInet.AF_INET6, Convert.FromHexString(f[4]), 0), ifIndex, (int)uint.Parse(f[5], NumberStyles.HexNumber)));
            }
        }
        catch (IOException) { }
        return routes;
    }

    static SockAddrInet V4(uint inMemory)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, inMemory);
        return new SockAddrInet(SockAddrInet.AF_INET, b, 0);
    }
}
