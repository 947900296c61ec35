using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using static Sentry.Platform.Errno;

namespace Sentry.Net.Stack;

/// <summary>Factories the kernel calls for the user-space TCP/IP stack.</summary>
public static class NetStack
{
    /// <summary>The stack with only <c>lo</c> (127.0.0.1/8, ::1/128, MTU 65536): --network=none.</summary>
    public static INetworkStack Loopback() => NetworkStack.CreateLoopback();

    /// <summary>
    /// --network=sandbox: lo plus the host interface <paramref name="hostInterface"/> of the
    /// container's network namespace, reached through an AF_PACKET socket, with the given
    /// addresses (prefix lengths) and default gateways. The host kernel should no longer hold
    /// those addresses itself (as runsc, the runtime moves them to the sandbox), or both answer.
    /// </summary>
    public static NetworkStack Sandbox(string hostInterface, string? name = null)
    {
        var (addrs, gws) = HostConfiguration(hostInterface);
        return Sandbox(hostInterface, name ?? hostInterface, addrs, gws);
    }

    /// <summary>The addresses (with prefix lengths, link-local ones left out) and gateways the host gives an interface now.</summary>
    public static (List<(SockAddrInet Address, int PrefixLength)> Addresses, List<SockAddrInet> Gateways) HostConfiguration(string hostInterface)
    {
        var addrs = new List<(SockAddrInet, int)>();
        var gws = new List<SockAddrInet>();
        foreach (var ni in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces())
        {
            if (ni.Name != hostInterface) continue;
            var props = ni.GetIPProperties();
            foreach (var u in props.UnicastAddresses)
            {
                var ip = u.Address;
                if (ip.IsIPv6LinkLocal) continue;
                int fam = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? SockAddrInet.AF_INET : SockAddrInet.AF_INET6;
                addrs.Add((new SockAddrInet(fam, ip.GetAddressBytes(), 0), u.PrefixLength));
            }
            foreach (var g in props.GatewayAddresses)
            {
                var ip = g.Address;
                if (ip.IsIPv6LinkLocal) continue;
                int fam = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? SockAddrInet.AF_INET : SockAddrInet.AF_INET6;
                gws.Add(new SockAddrInet(fam, ip.GetAddressBytes(), 0));
            }
        }
        return (addrs, gws);
    }

    public static NetworkStack Sandbox(string hostInterface, string name, IEnumerable<(SockAddrInet Address, int PrefixLength)> addresses,
        IEnumerable<SockAddrInet>? gateways = null)
    {
        var s = NetworkStack.CreateLoopback();
        var link = FdLink.OpenPacket(hostInterface);
        int ifi = s.AddInterface(name, link, NetworkStack.IFF_UP | NetworkStack.IFF_BROADCAST | NetworkStack.IFF_MULTICAST | NetworkStack.IFF_RUNNING | NetworkStack.IFF_LOWER_UP);
        foreach (var (a, p) in addresses) s.AddAddress(ifi, a, p);
        foreach (var g in gateways ?? [])
        {
            var any = g.Family == SockAddrInet.AF_INET ? SockAddrInet.FromV4(0, 0) : new SockAddrInet(SockAddrInet.AF_INET6, new byte[16], 0);
            s.AddRoute(any, 0, g, ifi);
        }
        s.OwnedLinks.Add(link);
        return s;
    }
}

/// <summary>Counters of what the stack dropped and why (tests and /proc/net/snmp read them).</summary>
public sealed class StackStats
{
    public long IpInReceives, IpInHdrErrors, IpInAddrErrors, IpInUnknownProtos, IpInDiscards, IpFragDropped, IpOutRequests;
    public long TcpInSegs, TcpOutSegs, TcpRetransSegs, TcpInErrs, TcpOutRsts, TcpAttemptFails, TcpListenOverflows, TcpListenDrops;
    public long UdpInDatagrams, UdpNoPorts, UdpInErrors, UdpRcvbufErrors, UdpOutDatagrams;
    public long IcmpInMsgs, IcmpInErrors, IcmpOutMsgs;
    /// <summary>Packets that made the stack's own code fail (a bug): dropped, never thrown to the link.</summary>
    public long InternalErrors;
}

/// <summary>One network interface the stack owns.</summary>
internal sealed class Nic
{
    public required int Index;
    public required string Name;
    public required ILinkEndpoint Link;
    public int Flags;
    public readonly List<(Addr Address, int Prefix128, bool V4)> Addresses = new();
    public readonly NetCounters Counters = new();
    public bool IsLoopback => (Link.Capabilities & LinkCapabilities.Loopback) != 0;
    public bool Offload => (Link.Capabilities & LinkCapabilities.ChecksumOffload) != 0;
    public bool IsEthernet => (Link.Capabilities & LinkCapabilities.Ethernet) != 0;
    // Neighbours (ARP/NDP) of an Ethernet link.
    public readonly object NeighLock = new();
    public readonly Dictionary<Addr, byte[]> Neighbours = new();
    public readonly Dictionary<Addr, (List<NetworkStack.OutPacket> Packets, long LastRequest)> Pending = new();
}

/// <summary>Something the stack's one timer thread calls back at a deadline.</summary>
internal abstract class Timed
{
    /// <summary>The earliest deadline queued for this object (long.MaxValue: none); guarded by the stack's timer lock.</summary>
    internal long TimerQueuedAt = long.MaxValue;
    internal abstract void OnTimer(long nowMs);
}

/// <summary>
/// The user-space TCP/IP stack: interfaces, IPv4/IPv6, demultiplexing to TCP/UDP/ICMP endpoints,
/// an output queue drained by whichever thread gets there first (so loopback delivery runs in the
/// sender's thread, with no locks held), and one timer thread.
/// </summary>
public sealed partial class NetworkStack : INetworkStack, ILinkDispatcher
{
    public const int IFF_UP = 0x1, IFF_BROADCAST = 0x2, IFF_LOOPBACK = 0x8, IFF_RUNNING = 0x40, IFF_MULTICAST = 0x1000, IFF_LOWER_UP = 0x10000;

    readonly List<Nic> _nics = new();
    /// <summary>The last exception the stack's own code raised on a packet (for tests and debugging).</summary>
    public Exception? LastInternalError { get; private set; }
    readonly List<(Addr Dest, int Prefix128, Addr Gateway, Nic Nic, int Metric, bool V4)> _routes = new();
    public StackStats Stats { get; } = new();
    internal readonly MemoryAccount Buffers = new();
    /// <summary>Bytes all socket buffers may hold before windows close and sends wait (Linux: tcp_mem pressure).</summary>
    public long MemoryPressureBytes { get; set; } = 512L << 20;
    /// <summary>Bytes the sockets' buffers hold now.</summary>
    public long BufferedBytes => Interlocked.Read(ref Buffers.Bytes);
    internal bool UnderPressure => Volatile.Read(ref Buffers.Bytes) > MemoryPressureBytes;
    static readonly Stopwatch Clock = Stopwatch.StartNew();
    internal static long NowMs => Clock.ElapsedMilliseconds;

    // Tables: connections by four-tuple, listeners by port, bound ports (for conflicts).
    internal readonly object TableLock = new();
    internal readonly Dictionary<FourTuple, TcpEndpoint> TcpConns = new();
    internal readonly Dictionary<ushort, List<TcpEndpoint>> TcpListeners = new();
    internal readonly Dictionary<ushort, List<IPortOwner>> TcpPorts = new();
    internal readonly Dictionary<ushort, List<IPortOwner>> UdpPorts = new();
    internal readonly Dictionary<ushort, List<PingEndpoint>> PingIds = new();
    internal int TcpCount;
    ushort _nextIpId = 1;
    readonly Random _random = new();

    internal int RandomInt(int max) { lock (_random) return _random.Next(max); }
    internal uint RandomUInt() { lock (_random) return (uint)_random.NextInt64(0, 1L << 32); }

    public static NetworkStack CreateLoopback()
    {
        var s = new NetworkStack();
        s.AddLoopback();
        return s;
    }

    public NetworkStack()
    {
        _timerThread = new Thread(TimerLoop) { IsBackground = true, Name = "netstack timers" };
        _timerThread.Start();
        _worker = new Thread(WorkerLoop) { IsBackground = true, Name = "netstack worker" };
        _worker.Start();
    }

    /// <summary>Adds lo with 127.0.0.1/8 and ::1/128.</summary>
    public void AddLoopback()
    {
        var nic = AddNic("lo", new LoopbackLink());
        nic.Flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP;
        lock (_nics)
        {
            nic.Addresses.Add((Addr.V4Loopback, 96 + 8, true));
            nic.Addresses.Add((Addr.V6Loopback, 128, false));
            _routes.Add((Addr.V4(0x7F000000), 96 + 8, default, nic, 0, true));
            _routes.Add((Addr.V6Loopback, 128, default, nic, 0, false));
        }
    }

    /// <summary>Attaches a link as a new interface (up, no addresses yet).</summary>
    public int AddInterface(string name, ILinkEndpoint link, int flags = IFF_UP | IFF_RUNNING | IFF_LOWER_UP) =>
        AddNic(name, link, flags).Index;

    Nic AddNic(string name, ILinkEndpoint link, int flags = IFF_UP | IFF_RUNNING | IFF_LOWER_UP)
    {
        Nic nic;
        lock (_nics)
        {
            nic = new Nic { Index = _nics.Count + 1, Name = name, Link = link, Flags = flags };
            _nics.Add(nic);
        }
        if (nic.IsEthernet && link.HardwareAddress.Length == 6)
        {
            var ll = LinkLocal(link.HardwareAddress);
            lock (_nics)
            {
                nic.Addresses.Add((ll, 128, false));
                _routes.Add((new Addr(0xFE80_0000_0000_0000UL, 0), 64, default, nic, 256, false));
            }
        }
        link.Attach(this);
        return nic;
    }

    /// <summary>Adds an address (with its on-link route) to an interface.</summary>
    public void AddAddress(int ifIndex, in SockAddrInet address, int prefixLength)
    {
        lock (_nics)
        {
            var nic = _nics[ifIndex - 1];
            bool v4 = address.Family == SockAddrInet.AF_INET;
            var a = Addr.From(address);
            int p = v4 ? 96 + prefixLength : prefixLength;
            nic.Addresses.Add((a, p, v4));
            _routes.Add((Mask(a, p), p, default, nic, 0, v4));
        }
    }

    /// <summary>Adds a route (a default route has prefix 0).</summary>
    public void AddRoute(in SockAddrInet dest, int prefixLength, in SockAddrInet gateway, int ifIndex, int metric = 0)
    {
        lock (_nics)
        {
            bool v4 = dest.Family == SockAddrInet.AF_INET;
            int p = v4 ? 96 + prefixLength : prefixLength;
            _routes.Add((Mask(Addr.From(dest), p), p, Addr.From(gateway), _nics[ifIndex - 1], metric, v4));
        }
    }

    static Addr Mask(Addr a, int p128)
    {
        if (p128 >= 128) return a;
        if (p128 <= 0) return default;
        if (p128 <= 64) return new Addr(a.Hi & (~0UL << (64 - p128)), 0);
        return new Addr(a.Hi, a.Lo & (~0UL << (128 - p128)));
    }

    // ---------------------------------------------------------------- INetworkStack

    public long Create(int family, int type, int protocol, out IEndpoint? endpoint)
    {
        endpoint = null;
        if (family != SockAddrInet.AF_INET && family != SockAddrInet.AF_INET6) return -EAFNOSUPPORT;
        if (type < 0 || type >= 11) return -EINVAL;
        if (protocol < 0 || protocol >= 256) return -EINVAL;
        switch (type)
        {
            case K.SOCK_STREAM:
                if (protocol != 0 && protocol != K.IPPROTO_TCP) return -EPROTONOSUPPORT;
                endpoint = new TcpEndpoint(this, family);
                return 0;
            case K.SOCK_DGRAM:
                if (protocol == 0 || protocol == K.IPPROTO_UDP) { endpoint = new UdpEndpoint(this, family); return 0; }
                if ((family == SockAddrInet.AF_INET && protocol == K.IPPROTO_ICMP) || (family == SockAddrInet.AF_INET6 && protocol == K.IPPROTO_ICMPV6))
                { endpoint = new PingEndpoint(this, family); return 0; }
                return -EPROTONOSUPPORT;
            case K.SOCK_RAW:
                return -EPERM;
            default:
                return -ESOCKTNOSUPPORT;
        }
    }

    public IReadOnlyList<NetInterface> Interfaces
    {
        get
        {
            lock (_nics)
            {
                var list = new List<NetInterface>();
                foreach (var n in _nics)
                {
                    var addrs = n.Addresses.Select(a => (a.Address.ToSock(a.V4 ? SockAddrInet.AF_INET : SockAddrInet.AF_INET6, 0), a.V4 ? a.Prefix128 - 96 : a.Prefix128)).ToList();
                    int mtu = n.Link.Mtu;
                    list.Add(new NetInterface(n.Index, n.Name, n.Flags, mtu, (byte[])n.Link.HardwareAddress.Clone(), addrs, n.Counters));
                }
                return list;
            }
        }
    }

    public IReadOnlyList<NetRoute> Routes
    {
        get
        {
            lock (_nics)
                // The routes of loopback interfaces are Linux's local table, which `ip route` and
                // /proc/net/route (the main table) do not show.
                return _routes.Where(r => (r.Nic.Flags & IFF_LOOPBACK) == 0).Select(r => new NetRoute(r.Dest.ToSock(r.V4 ? SockAddrInet.AF_INET : SockAddrInet.AF_INET6, 0), r.V4 ? r.Prefix128 - 96 : r.Prefix128,
                    r.Gateway.ToSock(r.V4 ? SockAddrInet.AF_INET : SockAddrInet.AF_INET6, 0), r.Nic.Index, r.Metric)).ToList();
        }
    }

    public IReadOnlyList<SocketInfo> Sockets(int family, int protocol)
    {
        // Collect under the table lock, read each socket after it (an endpoint's lock comes before the table's).
        var tcp = new List<TcpEndpoint>();
        var udp = new List<UdpEndpoint>();
        lock (TableLock)
        {
            if (protocol == K.IPPROTO_TCP)
            {
                var seen = new HashSet<TcpEndpoint>();
                foreach (var l in TcpListeners.Values) foreach (var t in l) if (t.Family == family && seen.Add(t)) tcp.Add(t);
                foreach (var t in TcpConns.Values) if (t.Family == family && seen.Add(t)) tcp.Add(t);
                foreach (var l in TcpPorts.Values) foreach (var o in l) if (o is TcpEndpoint t && t.Family == family && seen.Add(t)) tcp.Add(t);
            }
            else if (protocol == K.IPPROTO_UDP)
            {
                foreach (var l in UdpPorts.Values) foreach (var o in l) if (o is UdpEndpoint u && u.Family == family) udp.Add(u);
            }
        }
        var list = new List<SocketInfo>(tcp.Count + udp.Count);
        foreach (var t in tcp) list.Add(t.Info());
        foreach (var u in udp) list.Add(u.Info());
        return list;
    }

    // ---------------------------------------------------------------- routing

    /// <summary>Whether <paramref name="a"/> is one of this host's addresses (all of 127/8 counts, as on Linux).</summary>
    internal bool IsLocal(Addr a)
    {
        if (a.IsLoopback) return HasLoopback;
        lock (_nics)
            foreach (var n in _nics)
                foreach (var x in n.Addresses)
                    if (x.Address == a) return true;
        return false;
    }

    bool HasLoopback { get { lock (_nics) return _nics.Any(n => n.IsLoopback); } }

    /// <summary>The interface and source address for a destination, or -ENETUNREACH.</summary>
    internal int Route(Addr dst, out Nic? nic, out Addr src)
    {
        nic = null; src = default;
        lock (_nics)
        {
            // Local destinations go through lo (the source is the destination itself).
            if (!dst.IsLoopback)
                foreach (var n in _nics)
                    foreach (var x in n.Addresses)
                        if (x.Address == dst)
                        {
                            var lo = _nics.FirstOrDefault(k => k.IsLoopback) ?? n;
                            nic = lo; src = dst;
                            return 0;
                        }
            int best = -1;
            foreach (var r in _routes)
            {
                if (r.V4 != dst.IsV4) continue;
                if (!dst.InPrefix(r.Dest, r.Prefix128)) continue;
                if (r.Prefix128 > best) { best = r.Prefix128; nic = r.Nic; }
            }
            if (nic == null) return -ENETUNREACH;
            if (nic.IsLoopback) { src = dst.IsV4 ? Addr.V4Loopback : Addr.V6Loopback; return 0; }
            src = SourceFor(nic, dst);
            return src == default ? -EADDRNOTAVAIL : 0;
        }
    }

    // ---------------------------------------------------------------- receive

    readonly Dictionary<ILinkEndpoint, Nic> _nicByLink = new(ReferenceEqualityComparer.Instance);

    Nic? NicOf(ILinkEndpoint link)
    {
        lock (_nics)
        {
            if (_nicByLink.TryGetValue(link, out var n)) return n;
            foreach (var x in _nics) if (ReferenceEquals(x.Link, link)) { _nicByLink[link] = x; return x; }
            return null;
        }
    }

    [ThreadStatic] static bool t_checksumVerified;
    /// <summary>Whether the frame being received needs no transport checksum check (offloading link, or the host said so).</summary>
    internal static bool ChecksumVerified(Nic nic) => nic.Offload || t_checksumVerified;

    public void DeliverFrame(ILinkEndpoint link, ReadOnlySpan<byte> frame, bool checksumVerified)
    {
        bool old = t_checksumVerified;
        t_checksumVerified = checksumVerified;
        try { DeliverFrame(link, frame); }
        finally { t_checksumVerified = old; }
    }

    public void DeliverFrame(ILinkEndpoint link, ReadOnlySpan<byte> frame)
    {
        var nic = NicOf(link);
        if (nic == null) return;
        Interlocked.Increment(ref nic.Counters.RxPackets);
        Interlocked.Add(ref nic.Counters.RxBytes, frame.Length);
        Interlocked.Increment(ref Stats.IpInReceives);
        try
        {
            if (nic.IsEthernet) ReceiveEthernet(nic, frame);
            else ReceiveIp(nic, frame);
        }
        catch (Exception e) when (e is IndexOutOfRangeException or ArgumentOutOfRangeException or ArgumentException or InvalidOperationException or OverflowException)
        {
            // A malformed packet that got past the checks: count it, never let it out.
            Interlocked.Increment(ref Stats.InternalErrors);
            Debug.WriteLine($"netstack: dropped a frame: {e}");
            LastInternalError = e;
        }
        if (!nic.IsLoopback) Pump();
    }

    void ReceiveIp(Nic nic, ReadOnlySpan<byte> p)
    {
        if (p.Length < 1) { Interlocked.Increment(ref Stats.IpInHdrErrors); return; }
        int version = p[0] >> 4;
        if (version == 4)
        {
            if (p.Length < 20) { Interlocked.Increment(ref Stats.IpInHdrErrors); return; }
            int ihl = (p[0] & 0xF) * 4;
            int total = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
            if (ihl < 20 || total < ihl || total > p.Length) { Interlocked.Increment(ref Stats.IpInHdrErrors); return; }
            if (Checksum.Finish(Checksum.Sum(p[..ihl])) != 0) { Interlocked.Increment(ref Stats.IpInHdrErrors); return; }
            int frag = BinaryPrimitives.ReadUInt16BigEndian(p[6..]);
            var src = Addr.V4(BinaryPrimitives.ReadUInt32BigEndian(p[12..]));
            var dst = Addr.V4(BinaryPrimitives.ReadUInt32BigEndian(p[16..]));
            if (!AcceptsDestination(nic, dst) || src.IsMulticast || src.IsV4Broadcast) { Interlocked.Increment(ref Stats.IpInAddrErrors); return; }
            if (!nic.IsLoopback && src.IsLoopback) { Interlocked.Increment(ref Stats.IpInAddrErrors); return; }
            int proto = p[9];
            if ((frag & 0x3FFF) != 0)
            {
                ReceiveFragment(nic, src, dst, proto, BinaryPrimitives.ReadUInt16BigEndian(p[4..]), (frag & 0x1FFF) * 8, (frag & 0x2000) != 0, p[..ihl], p[ihl..total], p[1]);
                return;
            }
            Deliver(nic, proto, src, dst, p[..total], p[ihl..total], p[1]);
        }
        else if (version == 6)
        {
            if (p.Length < 40) { Interlocked.Increment(ref Stats.IpInHdrErrors); return; }
            int plen = BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
            if (40 + plen > p.Length) { Interlocked.Increment(ref Stats.IpInHdrErrors); return; }
            var src = Addr.Read16(p[8..]);
            var dst = Addr.Read16(p[24..]);
            if (!AcceptsDestination(nic, dst) || src.IsMulticast || src.IsV4) { Interlocked.Increment(ref Stats.IpInAddrErrors); return; }
            if (!nic.IsLoopback && src.IsLoopback) { Interlocked.Increment(ref Stats.IpInAddrErrors); return; }
            int next = p[6];
            int off = 40, end = 40 + plen;
            // Skip hop-by-hop, routing and destination options; fragments are not reassembled.
            for (int guard = 0; guard < 8; guard++)
            {
                if (next == 0 || next == 43 || next == 60)
                {
                    if (off + 8 > end) { Interlocked.Increment(ref Stats.IpInHdrErrors); return; }
                    int hl = (p[off + 1] + 1) * 8;
                    next = p[off];
                    off += hl;
                    if (off > end) { Interlocked.Increment(ref Stats.IpInHdrErrors); return; }
                    continue;
                }
                break;
            }
            int tclass = (BinaryPrimitives.ReadUInt16BigEndian(p) >> 4) & 0xFF;
            if (next == 44)
            {
                if (off + 8 > end) { Interlocked.Increment(ref Stats.IpInHdrErrors); return; }
                int fo = BinaryPrimitives.ReadUInt16BigEndian(p[(off + 2)..]);
                ReceiveFragment(nic, src, dst, p[off], BinaryPrimitives.ReadUInt32BigEndian(p[(off + 4)..]), fo & ~7, (fo & 1) != 0, p[..40], p[(off + 8)..end], tclass);
                return;
            }
            Deliver(nic, next, src, dst, p[..end], p[off..end], tclass);
        }
        else Interlocked.Increment(ref Stats.IpInHdrErrors);
    }

    bool AcceptsDestination(Nic nic, Addr dst)
    {
        if (nic.IsLoopback) return dst.IsLoopback || IsLocal(dst);
        if (nic.IsEthernet && !dst.IsV4 && (dst.Hi >> 48) == 0xFF02) return true; // link-scope multicast: NDP
        lock (_nics)
            foreach (var x in nic.Addresses)
                if (x.Address == dst) return true;
        return false;
    }

    void Deliver(Nic nic, int proto, Addr src, Addr dst, ReadOnlySpan<byte> ip, ReadOnlySpan<byte> payload, int tos)
    {
        bool v4 = src.IsV4;
        switch (proto)
        {
            case K.IPPROTO_TCP:
                TcpEndpoint.Receive(this, nic, src, dst, payload);
                break;
            case K.IPPROTO_UDP:
                UdpEndpoint.Receive(this, nic, src, dst, ip, payload);
                break;
            case K.IPPROTO_ICMP when v4:
            case K.IPPROTO_ICMPV6 when !v4:
                ReceiveIcmp(nic, src, dst, payload);
                break;
            default:
                Interlocked.Increment(ref Stats.IpInUnknownProtos);
                if (v4) SendIcmpError(src, dst, 3, 2, ip); // protocol unreachable
                else SendIcmpError(src, dst, 4, 1, ip); // parameter problem: unrecognized next header
                break;
        }
    }

    // ---------------------------------------------------------------- ICMP

    void ReceiveIcmp(Nic nic, Addr src, Addr dst, ReadOnlySpan<byte> m)
    {
        Interlocked.Increment(ref Stats.IcmpInMsgs);
        bool v4 = src.IsV4;
        if (m.Length < 8) { Interlocked.Increment(ref Stats.IcmpInErrors); return; }
        uint sum = v4 ? Checksum.Sum(m) : Checksum.Sum(m, Checksum.Pseudo(src, dst, K.IPPROTO_ICMPV6, m.Length));
        if (!ChecksumVerified(nic) && Checksum.Finish(sum) != 0) { Interlocked.Increment(ref Stats.IcmpInErrors); return; }
        int type = m[0], code = m[1];
        if (!v4 && (type == 135 || type == 136))
        {
            if (nic.IsEthernet) ReceiveNdp(nic, src, dst, type, m);
            return;
        }
        if ((v4 && type == 8) || (!v4 && type == 128))
        {
            // Echo request: answer it (Linux does for every local address).
            SendIcmp(dst, src, (byte)(v4 ? 0 : 129), 0, m[4..]);
            return;
        }
        if ((v4 && type == 0) || (!v4 && type == 129))
        {
            PingEndpoint.Receive(this, src, dst, m);
            return;
        }
        // Destination unreachable (v4 3, v6 1): hand the quoted transport header to its socket.
        if ((v4 && type == 3) || (!v4 && type == 1))
        {
            var q = m[8..];
            int proto, hl;
            Addr qsrc, qdst;
            if (v4)
            {
                if (q.Length < 20) return;
                hl = (q[0] & 0xF) * 4;
                if (hl < 20 || q.Length < hl + 8) return;
                proto = q[9];
                qsrc = Addr.V4(BinaryPrimitives.ReadUInt32BigEndian(q[12..]));
                qdst = Addr.V4(BinaryPrimitives.ReadUInt32BigEndian(q[16..]));
            }
            else
            {
                if (q.Length < 48) return;
                hl = 40; proto = q[6];
                qsrc = Addr.Read16(q[8..]);
                qdst = Addr.Read16(q[24..]);
            }
            ushort sport = BinaryPrimitives.ReadUInt16BigEndian(q[hl..]);
            ushort dport = BinaryPrimitives.ReadUInt16BigEndian(q[(hl + 2)..]);
            int err = v4
                ? code switch { 0 => ENETUNREACH, 1 => EHOSTUNREACH, 2 => ENOPROTOOPT, 3 => ECONNREFUSED, 4 => EMSGSIZE, _ => EHOSTUNREACH }
                : code switch { 0 => ENETUNREACH, 1 => EACCES, 3 => EHOSTUNREACH, 4 => ECONNREFUSED, _ => EHOSTUNREACH };
            bool hard = v4 ? code is 2 or 3 : code is 1 or 4;
            if (proto == K.IPPROTO_UDP) UdpEndpoint.IcmpError(this, qsrc, sport, qdst, dport, err, hard);
            else if (proto == K.IPPROTO_TCP) TcpEndpoint.IcmpError(this, qsrc, sport, qdst, dport, err, hard);
        }
    }

    /// <summary>Sends an ICMP message (echo reply ...) whose body after the 4-byte type/code/checksum is <paramref name="rest"/>.</summary>
    internal void SendIcmp(Addr src, Addr dst, byte type, byte code, ReadOnlySpan<byte> rest)
    {
        if (Route(dst, out var nic, out var rsrc) < 0) return;
        if (src.IsAny) src = rsrc;
        int len = 4 + rest.Length;
        bool v4 = dst.IsV4;
        var buf = RentPacket(len, out int off);
        var m = buf.AsSpan(off, len);
        m[0] = type; m[1] = code; m[2] = 0; m[3] = 0;
        rest.CopyTo(m[4..]);
        uint sum = v4 ? Checksum.Sum(m) : Checksum.Sum(m, Checksum.Pseudo(src, dst, K.IPPROTO_ICMPV6, len));
        BinaryPrimitives.WriteUInt16BigEndian(m[2..], Checksum.Finish(sum));
        Interlocked.Increment(ref Stats.IcmpOutMsgs);
        SendIp(nic!, src, dst, v4 ? K.IPPROTO_ICMP : K.IPPROTO_ICMPV6, buf, off, len, 64, 0);
    }

    /// <summary>An ICMP error about <paramref name="offending"/> (the whole IP packet), to its source.</summary>
    internal void SendIcmpError(Addr to, Addr from, byte type, byte code, ReadOnlySpan<byte> offending)
    {
        if (to.IsMulticast || to.IsAny || from.IsMulticast) return;
        int max = to.IsV4 ? 576 - 28 : 1280 - 48;
        var quote = offending[..Math.Min(offending.Length, max)];
        Span<byte> rest = stackalloc byte[4 + quote.Length];
        rest[..4].Clear();
        quote.CopyTo(rest[4..]);
        SendIcmp(from, to, type, code, rest);
    }

    // ---------------------------------------------------------------- send

    /// <summary>Header room left in front of the transport bytes of a rented packet.</summary>
    internal const int Headroom = 56; // Ethernet (14) + IPv6 (40), rounded

    internal static byte[] RentPacket(int transportLength, out int offset)
    {
        offset = Headroom;
        return ArrayPool<byte>.Shared.Rent(Headroom + transportLength);
    }

    /// <summary>
    /// Puts the IP header in front of the transport bytes at buf[off..off+len] and queues the packet
    /// (the stack now owns <paramref name="buf"/>). Safe under any lock: nothing is sent until <see cref="Pump"/>.
    /// </summary>
    internal void SendIp(Nic nic, Addr src, Addr dst, int proto, byte[] buf, int off, int len, int ttl, int tos)
    {
        int start;
        if (dst.IsV4)
        {
            start = off - 20;
            var h = buf.AsSpan(start, 20);
            h[0] = 0x45; h[1] = (byte)tos;
            BinaryPrimitives.WriteUInt16BigEndian(h[2..], (ushort)(20 + len));
            ushort id;
            lock (_random) id = _nextIpId++;
            BinaryPrimitives.WriteUInt16BigEndian(h[4..], id);
            BinaryPrimitives.WriteUInt16BigEndian(h[6..], 0x4000); // DF
            h[8] = (byte)ttl; h[9] = (byte)proto; h[10] = 0; h[11] = 0;
            BinaryPrimitives.WriteUInt32BigEndian(h[12..], src.V4Value);
            BinaryPrimitives.WriteUInt32BigEndian(h[16..], dst.V4Value);
            BinaryPrimitives.WriteUInt16BigEndian(h[10..], Checksum.Finish(Checksum.Sum(h)));
            len += 20;
        }
        else
        {
            start = off - 40;
            var h = buf.AsSpan(start, 40);
            BinaryPrimitives.WriteUInt32BigEndian(h, 0x60000000u | ((uint)tos << 20));
            BinaryPrimitives.WriteUInt16BigEndian(h[4..], (ushort)len);
            h[6] = (byte)proto; h[7] = (byte)ttl;
            src.Write16(h[8..]);
            dst.Write16(h[24..]);
            len += 40;
        }
        Interlocked.Increment(ref Stats.IpOutRequests);
        lock (_outLock)
        {
            if (len > nic.Link.Mtu && !nic.IsLoopback) QueueFragments(nic, buf, start, len);
            else _out.Enqueue(new OutPacket(buf, start, len, nic));
        }
    }

    internal readonly record struct OutPacket(byte[] Buf, int Offset, int Length, Nic Nic);
    readonly object _outLock = new();
    readonly Queue<OutPacket> _out = new();
    int _pumping;

    /// <summary>
    /// Sends what is queued, in this thread, unless another thread is already at it (it sends ours
    /// too). Callers hold no endpoint locks. A long run is handed to the worker so that one
    /// caller is not kept sending for everybody.
    /// </summary>
    internal void Pump()
    {
        while (true)
        {
            if (Interlocked.CompareExchange(ref _pumping, 1, 0) != 0) return;
            int done = 0;
            while (true)
            {
                OutPacket p;
                lock (_outLock)
                {
                    if (_out.Count == 0) break;
                    if (done >= 4096 && Thread.CurrentThread != _worker) { Volatile.Write(ref _pumping, 0); _workerSignal.Set(); return; }
                    p = _out.Dequeue();
                }
                done++;
                bool release = true;
                try
                {
                    if (p.Nic.IsEthernet) release = EthernetOut(p);
                    else
                    {
                        Interlocked.Increment(ref p.Nic.Counters.TxPackets);
                        Interlocked.Add(ref p.Nic.Counters.TxBytes, p.Length);
                        p.Nic.Link.WriteFrame(p.Buf.AsSpan(p.Offset, p.Length));
                    }
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException)
                {
                    Interlocked.Increment(ref p.Nic.Counters.TxErrors);
                }
                catch (Exception e)
                {
                    // A bug on the send path must not leave the pump taken for ever.
                    Interlocked.Increment(ref Stats.InternalErrors);
                    Debug.WriteLine($"netstack: send failed: {e}");
                    LastInternalError = e;
                }
                finally
                {
                    if (release) ArrayPool<byte>.Shared.Return(p.Buf);
                }
            }
            Volatile.Write(ref _pumping, 0);
            lock (_outLock)
                if (_out.Count == 0) return;
        }
    }

    readonly Thread _worker;
    readonly AutoResetEvent _workerSignal = new(false);
    volatile bool _disposed;

    void WorkerLoop()
    {
        while (!_disposed)
        {
            _workerSignal.WaitOne(1000);
            if (_disposed) return;
            Pump();
        }
    }

    // ---------------------------------------------------------------- timers

    readonly Thread _timerThread;
    readonly object _timerLock = new();
    readonly PriorityQueue<Timed, long> _timers = new();

    /// <summary>Asks for <see cref="Timed.OnTimer"/> at or after <paramref name="deadlineMs"/> (cheap when an earlier call is already queued).</summary>
    internal void Schedule(Timed t, long deadlineMs)
    {
        lock (_timerLock)
        {
            if (deadlineMs >= t.TimerQueuedAt) return;
            t.TimerQueuedAt = deadlineMs;
            bool first = !_timers.TryPeek(out _, out long head) || deadlineMs < head;
            _timers.Enqueue(t, deadlineMs);
            if (first) Monitor.Pulse(_timerLock);
        }
    }

    void TimerLoop()
    {
        var due = new List<Timed>();
        while (!_disposed)
        {
            lock (_timerLock)
            {
                while (true)
                {
                    if (_disposed) return;
                    long now = NowMs;
                    if (_timers.TryPeek(out var t, out long at))
                    {
                        if (at <= now)
                        {
                            _timers.Dequeue();
                            if (t.TimerQueuedAt == at) { t.TimerQueuedAt = long.MaxValue; due.Add(t); }
                            if (due.Count < 256) continue;
                            break;
                        }
                        if (due.Count > 0) break;
                        Monitor.Wait(_timerLock, (int)Math.Min(at - now, 1000));
                    }
                    else
                    {
                        if (due.Count > 0) break;
                        Monitor.Wait(_timerLock, 1000);
                    }
                }
            }
            long n = NowMs;
            foreach (var t in due)
            {
                try { t.OnTimer(n); }
                catch (Exception e) { Debug.Fail(e.ToString()); }
            }
            due.Clear();
            Pump();
        }
    }

    internal readonly List<IDisposable> OwnedLinks = new();

    public void Dispose()
    {
        foreach (var l in OwnedLinks) l.Dispose();
        _disposed = true;
        lock (_timerLock) Monitor.Pulse(_timerLock);
        _workerSignal.Set();
    }

    // ---------------------------------------------------------------- ports

    /// <summary>
    /// Whether <paramref name="me"/> may take <paramref name="port"/> beside the sockets already on it
    /// (Linux's inet_bind_conflict: SO_REUSEADDR on both and the other not listening, or
    /// SO_REUSEPORT on both with the same owner; addresses overlap when equal or either is a
    /// wildcard of the same family, :: without IPV6_V6ONLY covering IPv4 too).
    /// </summary>
    internal static bool Conflicts(List<IPortOwner>? owners, IPortOwner me, Addr addr, bool tcp)
    {
        if (owners == null) return false;
        foreach (var o in owners)
        {
            if (ReferenceEquals(o, me)) continue;
            if (!Overlap(addr, me.V6Only, o.BoundAddress, o.V6Only)) continue;
            if (tcp)
            {
                if (me.ReuseAddr && o.ReuseAddr && !o.IsListening) continue;
            }
            else if (me.ReuseAddr && o.ReuseAddr) continue;
            if (me.ReusePort && o.ReusePort && (o.IsTimeWait || o.Uid == me.Uid)) continue;
            return true;
        }
        return false;
    }

    internal static bool Overlap(Addr a, bool aV6Only, Addr b, bool bV6Only)
    {
        bool aV4 = a.IsV4 || (a.IsV6Any && !aV6Only), bV4 = b.IsV4 || (b.IsV6Any && !bV6Only);
        bool aV6 = !a.IsV4, bV6 = !b.IsV4;
        bool aw = a.IsAny, bw = b.IsAny;
        if (aV4 && bV4 && (aw || bw || a == b)) return true;
        if (aV6 && bV6 && (aw || bw || a == b)) return true;
        return false;
    }

    /// <summary>Binds <paramref name="me"/> to addr:port in a port table (port 0: an ephemeral one). Caller holds <see cref="TableLock"/>.</summary>
    internal int BindPort(Dictionary<ushort, List<IPortOwner>> table, IPortOwner me, Addr addr, int port, bool tcp, out ushort got)
    {
        got = 0;
        if (port != 0)
        {
            table.TryGetValue((ushort)port, out var owners);
            if (Conflicts(owners, me, addr, tcp)) return -EADDRINUSE;
            Add(table, (ushort)port, me);
            got = (ushort)port;
            return 0;
        }
        int range = K.EphemeralHigh - K.EphemeralLow + 1;
        int start = RandomInt(range);
        for (int i = 0; i < range; i++)
        {
            ushort p = (ushort)(K.EphemeralLow + (start + i) % range);
            table.TryGetValue(p, out var owners);
            if (owners != null && owners.Count > 0) continue; // bind(0) wants a port nobody uses
            Add(table, p, me);
            got = p;
            return 0;
        }
        // Crowded: any port without a conflict.
        for (int i = 0; i < range; i++)
        {
            ushort p = (ushort)(K.EphemeralLow + (start + i) % range);
            table.TryGetValue(p, out var owners);
            if (Conflicts(owners, me, addr, tcp)) continue;
            Add(table, p, me);
            got = p;
            return 0;
        }
        return -EADDRINUSE;
    }

    internal static void Add(Dictionary<ushort, List<IPortOwner>> table, ushort port, IPortOwner me)
    {
        if (!table.TryGetValue(port, out var l)) table[port] = l = new List<IPortOwner>(1);
        l.Add(me);
    }

    internal static void Remove(Dictionary<ushort, List<IPortOwner>> table, ushort port, IPortOwner me)
    {
        if (!table.TryGetValue(port, out var l)) return;
        l.Remove(me);
        if (l.Count == 0) table.Remove(port);
    }
}

/// <summary>A socket holding a local port, as bind conflicts see it.</summary>
internal interface IPortOwner
{
    Addr BoundAddress { get; }
    bool V6Only { get; }
    bool ReuseAddr { get; }
    bool ReusePort { get; }
    bool IsListening { get; }
    bool IsTimeWait { get; }
    /// <summary>Bound by bind() (not only by connect's automatic port).</summary>
    bool ExplicitBind { get; }
    uint Uid { get; }
}
