using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using Sentry.Net;

namespace Sentry.Kernel.Net;

/// <summary>
/// An AF_NETLINK socket of protocol NETLINK_ROUTE (netlink(7), rtnetlink(7)), enough for `ip
/// addr`, `ip link`, `ip route` and glibc's getifaddrs: RTM_GETLINK, RTM_GETADDR and
/// RTM_GETROUTE, dumped (NLM_F_MULTI parts, then NLMSG_DONE) or for one link, answered at once
/// from the sandbox's network stack into this socket's queue of datagrams. Requests that change
/// anything are refused with EPERM (an NLMSG_ERROR), others with EOPNOTSUPP; group memberships
/// are accepted and never hear anything.
/// </summary>
public sealed class NetlinkSocket : SocketFile
{
    public const int AF_NETLINK = 16, NETLINK_ROUTE = 0, SOL_NETLINK = 270;
    const int NLMSG_NOOP = 1, NLMSG_ERROR = 2, NLMSG_DONE = 3;
    const int NLM_F_REQUEST = 1, NLM_F_MULTI = 2, NLM_F_ACK = 4, NLM_F_DUMP = 0x300;
    const int RTM_NEWLINK = 16, RTM_GETLINK = 18, RTM_NEWADDR = 20, RTM_GETADDR = 22, RTM_NEWROUTE = 24, RTM_GETROUTE = 26;
    const int IFLA_ADDRESS = 1, IFLA_BROADCAST = 2, IFLA_IFNAME = 3, IFLA_MTU = 4, IFLA_QDISC = 6, IFLA_STATS = 7,
        IFLA_TXQLEN = 13, IFLA_OPERSTATE = 16, IFLA_LINKMODE = 17, IFLA_STATS64 = 23, IFLA_GROUP = 27,
        IFLA_PROMISCUITY = 30, IFLA_NUM_TX_QUEUES = 31, IFLA_NUM_RX_QUEUES = 32, IFLA_CARRIER = 33,
        IFLA_MIN_MTU = 50, IFLA_MAX_MTU = 51;
    const int IFA_ADDRESS = 1, IFA_LOCAL = 2, IFA_LABEL = 3, IFA_BROADCAST = 4, IFA_CACHEINFO = 6, IFA_FLAGS = 8;
    const int RTA_DST = 1, RTA_OIF = 4, RTA_GATEWAY = 5, RTA_PRIORITY = 6, RTA_PREFSRC = 7, RTA_TABLE = 15, RTA_PREF = 20;
    const int IFA_F_PERMANENT = 0x80, RT_SCOPE_UNIVERSE = 0, RT_SCOPE_LINK = 253, RT_SCOPE_HOST = 254;
    const int RT_TABLE_MAIN = 254, RTPROT_KERNEL = 2, RTPROT_BOOT = 3, RTN_UNICAST = 1;
    /// <summary>Most bytes of replies waiting to be read (Linux's default rmem for netlink is this order).</summary>
    const int QueueLimit = 1 << 20;
    static long s_nextIno = 0x7000_0000;

    /// <summary>Port ids taken, per sandbox (a process's first socket gets its pid, as Linux's autobind).</summary>
    static readonly ConditionalWeakTable<Sandbox, HashSet<int>> s_ports = new();

    readonly object _lock = new();
    readonly Queue<byte[]> _queue = new();
    readonly Sandbox _sandbox;
    int _queued;
    int _portId;
    int _rcvBuf = 212992, _sndBuf = 212992;
    bool _readShut;

    public override int Family => AF_NETLINK;
    public override int Type { get; }
    public override int Protocol => NETLINK_ROUTE;
    public override bool Listening => false;
    public ulong Ino { get; } = (ulong)Interlocked.Increment(ref s_nextIno);
    public WaitQueue Queue { get; } = new();

    NetlinkSocket(Sandbox sandbox, int type, int flags)
    {
        _sandbox = sandbox;
        Type = type;
        Flags = Linux.O_RDWR | (flags & Linux.O_NONBLOCK);
        Path = $"socket:[{Ino}]";
    }

    /// <summary>socket(AF_NETLINK, ...): SOCK_RAW or SOCK_DGRAM of NETLINK_ROUTE; other protocols EPROTONOSUPPORT as an unloaded family.</summary>
    public static long Create(Task t, int kind, int protocol, int flags, out SocketFile? socket)
    {
        socket = null;
        if (kind is not (SOCK_RAW or SOCK_DGRAM)) return -Errno.ESOCKTNOSUPPORT;
        if (protocol != NETLINK_ROUTE)
        {
            if (protocol is >= 0 and < 32) t.Sandbox.ReportUnsupported($"netlink protocol {protocol}");
            return -Errno.EPROTONOSUPPORT;
        }
        socket = new NetlinkSocket(t.Sandbox, kind, flags);
        return 0;
    }

    bool NonBlock => (Flags & Linux.O_NONBLOCK) != 0;

    /// <summary>Gives the socket its port id if it has none: the process's pid first, then unique negative ids.</summary>
    void AutoBind(Task t)
    {
        var ports = s_ports.GetOrCreateValue(_sandbox);
        lock (ports)
        {
            if (_portId != 0) return;
            int id = t.Group.Tgid;
            for (int next = -4096; ports.Contains(id); next--) id = next;
            ports.Add(id);
            _portId = id;
        }
    }

    static int WriteSockaddr(Span<byte> into, int pid)
    {
        into[..12].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(into, AF_NETLINK);
        BinaryPrimitives.WriteInt32LittleEndian(into[4..], pid);
        return 12;
    }

    public override long Bind(Task t, ulong addr, ulong len)
    {
        Span<byte> raw = stackalloc byte[AddressMax];
        long n = CopyInAddress(t, addr, len, raw);
        if (n < 0) return n;
        if (n < 12 || BinaryPrimitives.ReadUInt16LittleEndian(raw) != AF_NETLINK) return -Errno.EINVAL;
        int pid = BinaryPrimitives.ReadInt32LittleEndian(raw[4..]);
        if (pid == 0) { AutoBind(t); return 0; }
        var ports = s_ports.GetOrCreateValue(_sandbox);
        lock (ports)
        {
            if (_portId != 0) return _portId == pid ? 0 : -Errno.EINVAL;
            if (!ports.Add(pid)) return -Errno.EADDRINUSE;
            _portId = pid;
        }
        return 0;
    }

    public override long Listen(Task t, int backlog) => -Errno.EOPNOTSUPP;

    public override long Connect(Task t, ulong addr, ulong len)
    {
        Span<byte> raw = stackalloc byte[AddressMax];
        long n = CopyInAddress(t, addr, len, raw);
        if (n < 0) return n;
        if (n < 2) return -Errno.EINVAL;
        if (BinaryPrimitives.ReadUInt16LittleEndian(raw) == 0) return 0; // AF_UNSPEC: disconnect
        if (n < 12 || BinaryPrimitives.ReadUInt16LittleEndian(raw) != AF_NETLINK) return -Errno.EINVAL;
        AutoBind(t);
        return 0;
    }

    public override long Accept(Task t, out SocketFile? accepted, Span<byte> peer, out int peerLength)
    {
        accepted = null;
        peerLength = 0;
        return -Errno.EOPNOTSUPP;
    }

    public override long GetName(Task t, bool peer, Span<byte> into, out int length)
    {
        length = WriteSockaddr(into, peer ? 0 : _portId);
        return 0;
    }

    public override long Shutdown(Task t, int how)
    {
        if (how != 1) lock (_lock) _readShut = true;
        Queue.NotifyAll();
        return 0;
    }

    public override long SendMsg(Task t, ReadOnlySpan<(ulong Base, ulong Len)> vecs, int flags, bool hasAddress, ulong addr, ulong addrLen,
        ulong control, ulong controlLen)
    {
        if (hasAddress)
        {
            Span<byte> raw = stackalloc byte[AddressMax];
            long n = CopyInAddress(t, addr, addrLen, raw);
            if (n < 0) return n;
            if (n < 12 || BinaryPrimitives.ReadUInt16LittleEndian(raw) != AF_NETLINK) return -Errno.EINVAL;
            if (BinaryPrimitives.ReadInt32LittleEndian(raw[4..]) != 0) return -Errno.EPERM; // only the kernel is reachable
        }
        long r = Gather(t, vecs, out var data);
        if (r < 0) return r;
        if (data.Length > _sndBuf) return -Errno.EMSGSIZE;
        AutoBind(t);
        Process(data);
        return data.Length;
    }

    public override long Write(ReadOnlySpan<byte> buffer)
    {
        AutoBind(Task.Current!);
        Process(buffer);
        return buffer.Length;
    }

    /// <summary>Answers each request in <paramref name="data"/> (netlink_rcv_skb: messages one after another, a short one ends it).</summary>
    void Process(ReadOnlySpan<byte> data)
    {
        while (data.Length >= 16)
        {
            int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(data);
            if (len < 16 || len > data.Length) return;
            var msg = data[..len];
            int type = BinaryPrimitives.ReadUInt16LittleEndian(msg[4..]);
            int flags = BinaryPrimitives.ReadUInt16LittleEndian(msg[6..]);
            uint seq = BinaryPrimitives.ReadUInt32LittleEndian(msg[8..]);
            if ((flags & NLM_F_REQUEST) != 0 && type >= 16) Answer(msg, type, flags, seq);
            data = data[Math.Min(data.Length, (len + 3) & ~3)..];
        }
    }

    void Answer(ReadOnlySpan<byte> request, int type, int flags, uint seq)
    {
        var stack = _sandbox.Network;
        var interfaces = stack?.Interfaces ?? [];
        var payload = request[16..];
        int family = payload.Length >= 1 ? payload[0] : 0;
        bool dump = (flags & NLM_F_DUMP) == NLM_F_DUMP;
        switch (type)
        {
            case RTM_GETLINK when dump:
            {
                var w = new Writer(_portId, seq);
                foreach (var i in interfaces)
                    if (family == InetSocket.AF_INET6) Inet6Link(w, i);
                    else Link(w, i, NLM_F_MULTI);
                Enqueue(w.Done());
                return;
            }
            case RTM_GETLINK:
            {
                int index = payload.Length >= 8 ? BinaryPrimitives.ReadInt32LittleEndian(payload[4..]) : 0;
                string? name = payload.Length > 16 ? FindName(payload[16..]) : null;
                NetInterface? found = null;
                foreach (var i in interfaces)
                    if ((index > 0 && i.Index == index) || (index <= 0 && name != null && i.Name == name)) found = i;
                if (found == null) { Error(request, seq, index <= 0 && name == null ? -Errno.EINVAL : -Errno.ENODEV); return; }
                var w = new Writer(_portId, seq);
                Link(w, found, 0);
                Enqueue(w.Take());
                if ((flags & NLM_F_ACK) != 0) Error(request, seq, 0);
                return;
            }
            case RTM_GETADDR when dump:
            {
                var w = new Writer(_portId, seq);
                foreach (var i in interfaces)
                    foreach (var a in i.Addresses)
                        if (family == 0 || a.Address.Family == family) Address(w, i, a.Address, a.PrefixLength);
                Enqueue(w.Done());
                return;
            }
            case RTM_GETROUTE when dump:
            {
                var w = new Writer(_portId, seq);
                foreach (var r in stack?.Routes ?? [])
                    if (family == 0 || r.Destination.Family == family) Route(w, r, interfaces);
                Enqueue(w.Done());
                return;
            }
        }
        // RTM_NEW*/RTM_DEL*/RTM_SET* change the network: not the application's to do.
        bool changes = (type & 3) != 2;
        Error(request, seq, changes ? -Errno.EPERM : -Errno.EOPNOTSUPP);
    }

    /// <summary>The IFLA_IFNAME of a request's attributes, if any.</summary>
    static string? FindName(ReadOnlySpan<byte> attrs)
    {
        while (attrs.Length >= 4)
        {
            int len = BinaryPrimitives.ReadUInt16LittleEndian(attrs), type = BinaryPrimitives.ReadUInt16LittleEndian(attrs[2..]);
            if (len < 4 || len > attrs.Length) return null;
            if ((type & 0x3fff) == IFLA_IFNAME)
            {
                var s = attrs[4..len];
                int nul = s.IndexOf((byte)0);
                return Encoding.ASCII.GetString(nul < 0 ? s : s[..nul]);
            }
            attrs = attrs[Math.Min(attrs.Length, (len + 3) & ~3)..];
        }
        return null;
    }

    /// <summary>An NLMSG_ERROR for <paramref name="request"/>: the error (0 is an ACK) and the request's header.</summary>
    void Error(ReadOnlySpan<byte> request, uint seq, int error)
    {
        var w = new Writer(_portId, seq);
        w.Begin(NLMSG_ERROR, error == 0 ? 0x100 /* NLM_F_CAPPED */ : 0);
        w.Int(error);
        w.Bytes(request[..16]);
        w.End();
        Enqueue(w.Take());
    }

    static void Link(Writer w, NetInterface i, int flags)
    {
        bool loopback = (i.Flags & NetDeviceIoctl.IFF_LOOPBACK) != 0;
        w.Begin(RTM_NEWLINK, flags);
        w.Byte(0); w.Byte(0); w.Short((short)NetDeviceIoctl.HardwareType(i)); w.Int(i.Index); w.Int(i.Flags); w.Int(0);
        w.Attr(IFLA_IFNAME, i.Name);
        w.AttrInt(IFLA_TXQLEN, 1000);
        const int IF_OPER_UNKNOWN = 0, IF_OPER_DOWN = 2, IF_OPER_UP = 6, IFF_UP = 1;
        w.AttrByte(IFLA_OPERSTATE, (byte)(loopback ? IF_OPER_UNKNOWN : (i.Flags & IFF_UP) != 0 ? IF_OPER_UP : IF_OPER_DOWN));
        w.AttrByte(IFLA_LINKMODE, 0);
        w.AttrInt(IFLA_MTU, i.Mtu);
        w.AttrInt(IFLA_MIN_MTU, loopback ? 0 : 68);
        w.AttrInt(IFLA_MAX_MTU, loopback ? 0 : 65535);
        w.AttrInt(IFLA_GROUP, 0);
        w.AttrInt(IFLA_PROMISCUITY, 0);
        w.AttrInt(IFLA_NUM_TX_QUEUES, 1);
        w.AttrInt(IFLA_NUM_RX_QUEUES, 1);
        w.AttrByte(IFLA_CARRIER, 1);
        w.Attr(IFLA_QDISC, loopback ? "noqueue" : "fq_codel");
        var hw = i.HardwareAddress.Length >= 6 ? i.HardwareAddress.AsSpan(0, 6) : new byte[6];
        w.Attr(IFLA_ADDRESS, hw);
        Span<byte> brd = stackalloc byte[6];
        brd.Fill(loopback ? (byte)0 : (byte)0xff);
        w.Attr(IFLA_BROADCAST, brd);
        var c = i.Counters;
        // struct rtnl_link_stats (u32 each) and rtnl_link_stats64: rx/tx packets, bytes, errors, dropped first.
        Span<long> stats = stackalloc long[24];
        stats.Clear();
        (stats[0], stats[1], stats[2], stats[3], stats[4], stats[5], stats[6], stats[7]) =
            (c.RxPackets, c.TxPackets, c.RxBytes, c.TxBytes, c.RxErrors, c.TxErrors, c.RxDropped, c.TxDropped);
        Span<byte> s32 = stackalloc byte[24 * 4];
        for (int k = 0; k < 24; k++) BinaryPrimitives.WriteUInt32LittleEndian(s32[(4 * k)..], (uint)stats[k]);
        w.Attr(IFLA_STATS, s32[..(23 * 4)]);
        w.Attr(IFLA_STATS64, System.Runtime.InteropServices.MemoryMarshal.AsBytes(stats));
        w.End();
    }

    /// <summary>A link as the IPv6 family dumps it (inet6_fill_ifinfo): name, address, MTU, state only.</summary>
    static void Inet6Link(Writer w, NetInterface i)
    {
        w.Begin(RTM_NEWLINK, NLM_F_MULTI);
        w.Byte(InetSocket.AF_INET6); w.Byte(0); w.Short((short)NetDeviceIoctl.HardwareType(i)); w.Int(i.Index); w.Int(i.Flags); w.Int(0);
        w.Attr(IFLA_IFNAME, i.Name);
        w.Attr(IFLA_ADDRESS, i.HardwareAddress.Length >= 6 ? i.HardwareAddress.AsSpan(0, 6) : new byte[6]);
        w.AttrInt(IFLA_MTU, i.Mtu);
        const int IFF_UP = 1;
        bool loopback = (i.Flags & NetDeviceIoctl.IFF_LOOPBACK) != 0;
        w.AttrByte(IFLA_OPERSTATE, (byte)(loopback ? 0 : (i.Flags & IFF_UP) != 0 ? 6 : 2));
        w.AttrInt(IFLA_TXQLEN, 1000);
        w.End();
    }

    static int ScopeOf(in SockAddrInet a)
    {
        Span<byte> b = stackalloc byte[16];
        a.WriteAddress(b);
        if (a.Family == InetSocket.AF_INET) return b[0] == 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE;
        bool loopback = b[..15].IndexOfAnyExcept((byte)0) < 0 && b[15] == 1;
        if (loopback) return RT_SCOPE_HOST;
        return b[0] == 0xfe && (b[1] & 0xc0) == 0x80 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
    }

    static void Address(Writer w, NetInterface i, in SockAddrInet a, int prefix)
    {
        Span<byte> b = stackalloc byte[16];
        int n = a.WriteAddress(b);
        w.Begin(RTM_NEWADDR, NLM_F_MULTI);
        w.Byte((byte)a.Family); w.Byte((byte)prefix); w.Byte(IFA_F_PERMANENT); w.Byte((byte)ScopeOf(a)); w.Int(i.Index);
        w.Attr(IFA_ADDRESS, b[..n]);
        if (a.Family == InetSocket.AF_INET)
        {
            w.Attr(IFA_LOCAL, b[..n]);
            if ((i.Flags & NetDeviceIoctl.IFF_LOOPBACK) == 0 && prefix < 31)
            {
                Span<byte> brd = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(brd, a.V4 | ~NetDeviceIoctl.Netmask(prefix));
                w.Attr(IFA_BROADCAST, brd);
            }
            w.Attr(IFA_LABEL, i.Name);
        }
        w.AttrInt(IFA_FLAGS, IFA_F_PERMANENT);
        Span<byte> cache = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(cache, uint.MaxValue);
        BinaryPrimitives.WriteUInt32LittleEndian(cache[4..], uint.MaxValue);
        BinaryPrimitives.WriteUInt32LittleEndian(cache[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(cache[12..], 0);
        w.Attr(IFA_CACHEINFO, cache);
        w.End();
    }

    static void Route(Writer w, NetRoute r, IReadOnlyList<NetInterface> interfaces)
    {
        bool v4 = r.Destination.Family == InetSocket.AF_INET;
        bool viaGateway = !r.Gateway.IsUnspecified;
        w.Begin(RTM_NEWROUTE, NLM_F_MULTI);
        w.Byte((byte)r.Destination.Family); w.Byte((byte)r.PrefixLength); w.Byte(0); w.Byte(0);
        w.Byte(RT_TABLE_MAIN); w.Byte((byte)(viaGateway ? RTPROT_BOOT : RTPROT_KERNEL));
        w.Byte((byte)(v4 && !viaGateway ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE)); w.Byte(RTN_UNICAST); w.Int(0);
        w.AttrInt(RTA_TABLE, RT_TABLE_MAIN);
        Span<byte> b = stackalloc byte[16];
        if (r.PrefixLength > 0) w.Attr(RTA_DST, b[..r.Destination.WriteAddress(b)]);
        if (!v4 || r.Metric != 0) w.AttrInt(RTA_PRIORITY, r.Metric);
        if (v4 && !viaGateway)
        {
            // A directly attached IPv4 network: the interface's address in it is the preferred source.
            foreach (var i in interfaces)
                if (i.Index == r.InterfaceIndex)
                    foreach (var (a, _) in i.Addresses)
                        if (a.Family == InetSocket.AF_INET && ((a.V4 ^ r.Destination.V4) & NetDeviceIoctl.Netmask(r.PrefixLength)) == 0)
                        {
                            w.Attr(RTA_PREFSRC, b[..a.WriteAddress(b)]);
                            goto found;
                        }
            found:;
        }
        if (viaGateway) w.Attr(RTA_GATEWAY, b[..r.Gateway.WriteAddress(b)]);
        w.AttrInt(RTA_OIF, r.InterfaceIndex);
        if (!v4) w.AttrByte(RTA_PREF, 0);
        w.End();
    }

    void Enqueue(byte[] datagram)
    {
        lock (_lock)
        {
            if (_queued + datagram.Length > Math.Max(_rcvBuf, QueueLimit)) return; // dropped, as an overrun
            _queue.Enqueue(datagram);
            _queued += datagram.Length;
        }
        Queue.Notify(PollEvents.POLLIN);
    }

    public override long RecvMsg(Task t, ReadOnlySpan<(ulong Base, ulong Len)> vecs, int flags, ulong addr, ulong addrLenPtr,
        ulong control, ulong controlLen, ulong msg)
    {
        bool nonblock = NonBlock || (flags & MSG_DONTWAIT) != 0;
        byte[]? d;
        while (true)
        {
            lock (_lock)
            {
                if (_queue.TryPeek(out d))
                {
                    if ((flags & MSG_PEEK) == 0) { _queue.Dequeue(); _queued -= d.Length; }
                    break;
                }
                if (_readShut) return 0;
            }
            if (nonblock) return -Errno.EAGAIN;
            if (t.WaitOn(Queue, () => { lock (_lock) return _queue.Count > 0 || _readShut; }) == -Errno.EINTR)
                return -SignalDelivery.ERESTARTSYS;
        }
        ulong room = TotalLength(vecs);
        int copied = (int)Math.Min((ulong)d.Length, room);
        if (Scatter(t, vecs, d, copied) < 0) return -Errno.EFAULT;
        Span<byte> sa = stackalloc byte[12];
        WriteSockaddr(sa, 0);
        if (addr != 0 && WriteAddressOut(t, addr, addrLenPtr, sa) < 0) return -Errno.EFAULT;
        bool truncated = copied < d.Length;
        if (msg != 0)
        {
            int outFlags = (truncated ? MSG_TRUNC : 0) | (flags & MSG_CMSG_CLOEXEC);
            if (Syscalls.Sys.Put(t, msg + 40, 0UL) < 0 || Syscalls.Sys.Put(t, msg + 48, outFlags) < 0) return -Errno.EFAULT;
        }
        return (flags & MSG_TRUNC) != 0 ? d.Length : copied;
    }

    public override long Read(Span<byte> buffer)
    {
        var t = Task.Current!;
        while (true)
        {
            byte[]? d;
            lock (_lock)
            {
                if (_queue.TryDequeue(out d)) _queued -= d.Length;
                else if (_readShut) return 0;
            }
            if (d != null)
            {
                int n = Math.Min(d.Length, buffer.Length);
                d.AsSpan(0, n).CopyTo(buffer);
                return n;
            }
            if (NonBlock) return -Errno.EAGAIN;
            if (t.WaitOn(Queue, () => { lock (_lock) return _queue.Count > 0 || _readShut; }) == -Errno.EINTR)
                return -SignalDelivery.ERESTARTSYS;
        }
    }

    public override long GetSockOpt(Task t, int level, int name, ulong value, ulong lenPtr)
    {
        long r = ReadOptLen(t, lenPtr, out int room);
        if (r < 0) return r;
        if (level == SOL_SOCKET)
        {
            int? v = name switch
            {
                SO_TYPE => Type, SO_DOMAIN => AF_NETLINK, SO_PROTOCOL => NETLINK_ROUTE, SO_ERROR => 0,
                SO_RCVBUF => _rcvBuf, SO_SNDBUF => _sndBuf, SO_ACCEPTCONN => 0, _ => null,
            };
            return v == null ? -Errno.ENOPROTOOPT : WriteIntOpt(t, value, lenPtr, room, v.Value);
        }
        if (level == SOL_NETLINK) return room < 4 ? -Errno.EINVAL : WriteIntOpt(t, value, lenPtr, room, 0);
        return -Errno.ENOPROTOOPT;
    }

    public override long SetSockOpt(Task t, int level, int name, ulong value, int len)
    {
        if (level == SOL_SOCKET)
        {
            if (len < 4) return -Errno.EINVAL;
            if (t.Mm.Read(value, out int v) < 0) return -Errno.EFAULT;
            const int SO_SNDBUFFORCE = 32, SO_RCVBUFFORCE = 33;
            int size = Math.Clamp(v, 2304, 212992) * 2;
            switch (name)
            {
                case SO_RCVBUF or SO_RCVBUFFORCE: _rcvBuf = size; return 0;
                case SO_SNDBUF or SO_SNDBUFFORCE: _sndBuf = size; return 0;
                case SO_PASSCRED or SO_REUSEADDR or SO_KEEPALIVE or 35 /* SO_TIMESTAMP */: return 0;
                default: return -Errno.ENOPROTOOPT;
            }
        }
        if (level != SOL_NETLINK) return -Errno.ENOPROTOOPT;
        // Group memberships, PKTINFO, NO_ENOBUFS, LISTEN_ALL_NSID, CAP_ACK, EXT_ACK, GET_STRICT_CHK: accepted.
        if (name is < 1 or > 12) return -Errno.ENOPROTOOPT;
        return len < 4 ? -Errno.EINVAL : 0;
    }

    public override int Poll(int events)
    {
        lock (_lock) return PollEvents.POLLOUT | PollEvents.POLLWRNORM | (_queue.Count > 0 || _readShut ? PollEvents.POLLIN | PollEvents.POLLRDNORM : 0);
    }

    public override WaitQueue? PollQueue => Queue;

    public override long Ioctl(Task task, uint cmd, ulong arg)
    {
        if (cmd == Linux.FIONREAD)
        {
            int n;
            lock (_lock) n = _queue.TryPeek(out var d) ? d.Length : 0;
            return task.Mm.Write(arg, n) < 0 ? -Errno.EFAULT : 0;
        }
        return NetDeviceIoctl.Handle(task, _sandbox.Network, cmd, arg);
    }

    public override long Stat(out LinuxStat st)
    {
        st = new LinuxStat { st_dev = 8, st_ino = Ino, st_nlink = 1, st_mode = (uint)(Linux.S_IFSOCK | 0x1ff), st_blksize = 4096 };
        return 0;
    }

    protected override void OnLastClose()
    {
        if (_portId != 0 && s_ports.TryGetValue(_sandbox, out var ports)) lock (ports) ports.Remove(_portId);
        lock (_lock) { _queue.Clear(); _queued = 0; }
        Queue.NotifyAll();
    }

    /// <summary>Builds netlink messages: headers with this socket's port id and the request's sequence, attributes aligned to 4.</summary>
    sealed class Writer(int portId, uint seq)
    {
        readonly List<byte> _b = new();
        int _start;

        public void Begin(int type, int flags)
        {
            _start = _b.Count;
            Int(0); Short((short)type); Short((short)flags); Int((int)seq); Int(portId);
        }

        public void End()
        {
            int len = _b.Count - _start;
            for (int i = 0; i < 4; i++) _b[_start + i] = (byte)(len >> (8 * i));
            Align();
        }

        void Align() { while (_b.Count % 4 != 0) _b.Add(0); }

        public void Byte(byte v) => _b.Add(v);
        public void Short(short v) { _b.Add((byte)v); _b.Add((byte)(v >> 8)); }
        public void Int(int v) { for (int i = 0; i < 4; i++) _b.Add((byte)(v >> (8 * i))); }
        public void Bytes(ReadOnlySpan<byte> v) { foreach (var x in v) _b.Add(x); }

        public void Attr(int type, ReadOnlySpan<byte> data)
        {
            Short((short)(4 + data.Length)); Short((short)type); Bytes(data); Align();
        }

        public void Attr(int type, string s)
        {
            var bytes = new byte[Encoding.ASCII.GetByteCount(s) + 1];
            Encoding.ASCII.GetBytes(s, bytes);
            Attr(type, bytes);
        }

        public void AttrInt(int type, int v)
        {
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(b, v);
            Attr(type, b);
        }

        public void AttrByte(int type, byte v) => Attr(type, [v]);

        /// <summary>The messages so far followed by NLMSG_DONE, as one datagram.</summary>
        public byte[] Done()
        {
            Begin(NLMSG_DONE, NLM_F_MULTI);
            Int(0);
            End();
            return Take();
        }

        public byte[] Take() => [.. _b];
    }
}
