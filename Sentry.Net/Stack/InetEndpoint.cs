using static Sentry.Platform.Errno;

namespace Sentry.Net.Stack;

/// <summary>
/// What TCP, UDP and ping sockets share: family, the lock, the listener, SOL_SOCKET/IP/IPV6
/// options, the port binding and notification outside the lock.
/// </summary>
internal abstract class InetEndpoint : Timed, IEndpoint, IPortOwner
{
    protected readonly NetworkStack Stack;
    protected readonly object Lock = new();
    public int Family { get; }
    public abstract int Type { get; }
    public abstract int Protocol { get; }
    public IEndpointListener? Listener { get; set; }
    public abstract int Readiness { get; }

    // Binding (guarded by Lock; tables by Stack.TableLock).
    protected Addr LocalAddr, RemoteAddr;
    protected ushort LocalPort, RemotePort;
    protected bool Bound;
    protected bool BoundPortByUser, BoundAddrByUser;

    // Options.
    protected bool OptReuseAddr, OptReusePort, OptV6Only, OptKeepAlive, OptBroadcast, OptRecvErr, OptOobInline;
    protected bool LingerOn;
    protected int LingerSeconds;
    protected int Tos, Ttl = -1, Priority, RcvLowat = 1;
    protected int SoRcvbuf, SoSndbuf;
    protected bool RcvbufLocked, SndbufLocked;
    /// <summary>The pending error SO_ERROR reports (positive errno, 0 for none).</summary>
    protected int SoError;
    /// <summary>RCV_SHUTDOWN = 1, SEND_SHUTDOWN = 2 as in Linux's sk_shutdown.</summary>
    protected int ShutdownBits;
    protected const int RcvShutdown = 1, SendShutdown = 2;

    readonly Dictionary<(int, int), int> _otherInts = new();

    protected InetEndpoint(NetworkStack stack, int family, int rcvbuf, int sndbuf)
    {
        Stack = stack;
        Family = family;
        SoRcvbuf = rcvbuf;
        SoSndbuf = sndbuf;
        LocalAddr = family == SockAddrInet.AF_INET ? Addr.V4Any : Addr.V6Any;
        RemoteAddr = LocalAddr;
    }

    // IPortOwner
    public Addr BoundAddress => LocalAddr;
    const int IPV6_RECVHOPLIMIT = 51;

    public bool V6Only => OptV6Only;

    /// <summary>An option kept only for getsockopt and for what it switches on (IP_PKTINFO, IP_RECVTTL ...); call under <see cref="Lock"/>.</summary>
    protected int GetInt(int level, int name) => _otherInts.GetValueOrDefault((level, name));
    public bool ReuseAddr => OptReuseAddr;
    public bool ReusePort => OptReusePort;
    public virtual bool IsListening => false;
    public virtual bool IsTimeWait => false;
    public bool ExplicitBind => BoundPortByUser;
    public uint Uid => 0;

    protected int HopLimit => Ttl >= 0 ? Ttl : 64;

    protected void Notify(int events)
    {
        if (events == 0) return;
        Listener?.OnReadiness(events);
    }

    /// <summary>The peer address converted to this socket's family (IPv4 on an AF_INET6 socket is mapped).</summary>
    protected SockAddrInet Sock(Addr a, ushort port) => a.ToSock(Family, port);

    /// <summary>
    /// The IP a sockaddr names for this socket: -EAFNOSUPPORT for a family mismatch, -ENETUNREACH
    /// for IPv4 on an IPV6_V6ONLY socket. 0.0.0.0/:: stays as is.
    /// </summary>
    protected int ResolvePeer(in SockAddrInet a, out Addr addr)
    {
        addr = default;
        if (Family == SockAddrInet.AF_INET && a.Family != SockAddrInet.AF_INET) return -EAFNOSUPPORT;
        addr = Addr.From(a);
        if (Family == SockAddrInet.AF_INET6 && addr.IsV4 && OptV6Only) return -ENETUNREACH;
        return 0;
    }

    /// <summary>bind() checks common to all protocols (family, local address); -errno or 0.</summary>
    protected int CheckBindAddress(in SockAddrInet a, out Addr addr, bool allowMulticast)
    {
        addr = default;
        if (a.Family != Family) return Family == SockAddrInet.AF_INET6 ? -EINVAL : -EAFNOSUPPORT;
        addr = Addr.From(a);
        if (Family == SockAddrInet.AF_INET6 && addr.IsV4 && OptV6Only) return -EINVAL;
        if (addr.IsAny) return 0;
        if (addr.IsMulticast) return allowMulticast ? 0 : -EADDRNOTAVAIL;
        if (addr.IsV4Broadcast) return allowMulticast ? 0 : -EADDRNOTAVAIL;
        if (!Stack.IsLocal(addr)) return -EADDRNOTAVAIL;
        return 0;
    }

    /// <summary>connect() to 0.0.0.0 or :: means the local host, as on Linux.</summary>
    protected static Addr AnyToLoopback(Addr a) => !a.IsAny ? a : a.IsV4 ? Addr.V4Loopback : Addr.V6Loopback;

    public abstract long Bind(in SockAddrInet address);
    public abstract long Listen(int backlog);
    public abstract long Connect(in SockAddrInet address);
    public abstract long Disconnect();
    public abstract long Accept(out IEndpoint? accepted, out SockAddrInet peer);
    public abstract long Send(ReadOnlySpan<byte> data, int flags, bool hasTo, in SockAddrInet to);
    public abstract long Receive(Span<byte> buffer, int flags, out SockAddrInet from, out bool truncated);
    public abstract long Shutdown(int how);
    public abstract int Available { get; }
    public abstract int Unsent { get; }
    public abstract void Close();
    internal override void OnTimer(long nowMs) { }

    public long GetLocalAddress(out SockAddrInet address)
    {
        lock (Lock) address = Sock(LocalAddr, LocalPort);
        return 0;
    }

    public abstract long GetPeerAddress(out SockAddrInet address);

    // ---------------------------------------------------------------- options

    protected virtual long GetProtocolOption(int name, Span<byte> value) => -ENOPROTOOPT;
    protected virtual long SetProtocolOption(int name, ReadOnlySpan<byte> value) => -ENOPROTOOPT;
    protected virtual void BuffersChanged() { }
    protected virtual int ProtocolLevel => Protocol;

    public long GetOption(int level, int name, Span<byte> value)
    {
        if (value.Length < 0) return -EINVAL;
        if (level == K.SOL_SOCKET)
        {
            lock (Lock)
            {
                switch (name)
                {
                    case K.SO_REUSEADDR: return K.WriteInt(value, OptReuseAddr ? 1 : 0);
                    case K.SO_REUSEPORT: return K.WriteInt(value, OptReusePort ? 1 : 0);
                    case K.SO_KEEPALIVE: return K.WriteInt(value, OptKeepAlive ? 1 : 0);
                    case K.SO_BROADCAST: return K.WriteInt(value, OptBroadcast ? 1 : 0);
                    case K.SO_OOBINLINE: return K.WriteInt(value, OptOobInline ? 1 : 0);
                    case K.SO_RCVBUF: return K.WriteInt(value, SoRcvbuf);
                    case K.SO_SNDBUF: return K.WriteInt(value, SoSndbuf);
                    case K.SO_PRIORITY: return K.WriteInt(value, Priority);
                    case K.SO_RCVLOWAT: return K.WriteInt(value, RcvLowat);
                    case K.SO_SNDLOWAT: return K.WriteInt(value, 1);
                    case K.SO_ACCEPTCONN: return K.WriteInt(value, IsListening ? 1 : 0);
                    case K.SO_ERROR:
                    {
                        int e = SoError;
                        SoError = 0;
                        return K.WriteInt(value, e);
                    }
                    case K.SO_LINGER:
                    {
                        Span<byte> l = stackalloc byte[8];
                        K.WriteInt(l, LingerOn ? 1 : 0);
                        K.WriteInt(l[4..], LingerSeconds);
                        int n = Math.Min(value.Length, 8);
                        l[..n].CopyTo(value);
                        return n;
                    }
                    case K.SO_DONTROUTE: case K.SO_NO_CHECK: case K.SO_TIMESTAMP: case K.SO_BUSY_POLL:
                        return K.WriteInt(value, _otherInts.GetValueOrDefault((level, name)));
                    case K.SO_INCOMING_CPU: return K.WriteInt(value, -1);
                    case K.SO_BINDTODEVICE: return 0;
                }
            }
            return -ENOPROTOOPT;
        }
        if (level == K.IPPROTO_IP)
        {
            if (Family != SockAddrInet.AF_INET && !(Family == SockAddrInet.AF_INET6)) return -ENOPROTOOPT;
            lock (Lock)
            {
                switch (name)
                {
                    case K.IP_TOS: return K.WriteInt(value, Tos);
                    case K.IP_TTL: return K.WriteInt(value, HopLimit);
                    case K.IP_RECVERR: return K.WriteInt(value, OptRecvErr ? 1 : 0);
                    case K.IP_MTU: return -ENOTCONN;
                    case K.IP_PKTINFO: case K.IP_RECVTTL: case K.IP_RECVTOS: case K.IP_FREEBIND: case K.IP_BIND_ADDRESS_NO_PORT:
                    case K.IP_MTU_DISCOVER: case K.IP_MULTICAST_TTL: case K.IP_MULTICAST_LOOP: case K.IP_HDRINCL:
                        return K.WriteInt(value, _otherInts.GetValueOrDefault((level, name), name is K.IP_MULTICAST_TTL or K.IP_MULTICAST_LOOP ? 1 : 0));
                }
            }
            return -ENOPROTOOPT;
        }
        if (level == K.IPPROTO_IPV6)
        {
            if (Family != SockAddrInet.AF_INET6) return -ENOPROTOOPT;
            lock (Lock)
            {
                switch (name)
                {
                    case K.IPV6_V6ONLY: return K.WriteInt(value, OptV6Only ? 1 : 0);
                    case K.IPV6_TCLASS: return K.WriteInt(value, Tos);
                    case K.IPV6_UNICAST_HOPS: return K.WriteInt(value, HopLimit);
                    case K.IPV6_RECVERR: return K.WriteInt(value, OptRecvErr ? 1 : 0);
                    case K.IPV6_MULTICAST_HOPS: case K.IPV6_MULTICAST_LOOP: case K.IPV6_RECVPKTINFO: case IPV6_RECVHOPLIMIT:
                        return K.WriteInt(value, _otherInts.GetValueOrDefault((level, name), name is K.IPV6_RECVPKTINFO or IPV6_RECVHOPLIMIT ? 0 : 1));
                }
            }
            return -ENOPROTOOPT;
        }
        if (level == ProtocolLevel) return GetProtocolOption(name, value);
        return -ENOPROTOOPT;
    }

    public long SetOption(int level, int name, ReadOnlySpan<byte> value)
    {
        if (level == K.SOL_SOCKET)
        {
            if (name == K.SO_LINGER)
            {
                if (value.Length < 8) return -EINVAL;
                lock (Lock) { LingerOn = K.ReadInt(value) != 0; LingerSeconds = Math.Max(0, K.ReadInt(value[4..])); }
                return 0;
            }
            if (name == K.SO_BINDTODEVICE) return 0;
            if (value.Length < 4) return -EINVAL;
            int v = K.ReadInt(value);
            lock (Lock)
            {
                switch (name)
                {
                    case K.SO_REUSEADDR: OptReuseAddr = v != 0; return 0;
                    case K.SO_REUSEPORT: OptReusePort = v != 0; return 0;
                    case K.SO_KEEPALIVE: OptKeepAlive = v != 0; KeepAliveChanged(); return 0;
                    case K.SO_BROADCAST: OptBroadcast = v != 0; return 0;
                    case K.SO_OOBINLINE: OptOobInline = v != 0; return 0;
                    case K.SO_PRIORITY: if (v < 0 || v > 6) return -EPERM; Priority = v; return 0;
                    case K.SO_RCVLOWAT: RcvLowat = v < 0 ? int.MaxValue : Math.Max(1, v); return 0;
                    case K.SO_SNDLOWAT: return -ENOPROTOOPT;
                    case K.SO_RCVBUF: case K.SO_RCVBUFFORCE:
                    {
                        uint u = (uint)v;
                        if (name == K.SO_RCVBUF) u = Math.Min(u, (uint)K.RmemMax);
                        else u = Math.Min(u, int.MaxValue / 2);
                        SoRcvbuf = Math.Max((int)u * 2, K.SockMinRcvbuf);
                        RcvbufLocked = true;
                        break;
                    }
                    case K.SO_SNDBUF: case K.SO_SNDBUFFORCE:
                    {
                        uint u = (uint)v;
                        if (name == K.SO_SNDBUF) u = Math.Min(u, (uint)K.WmemMax);
                        else u = Math.Min(u, int.MaxValue / 2);
                        SoSndbuf = Math.Max((int)u * 2, K.SockMinSndbuf);
                        SndbufLocked = true;
                        break;
                    }
                    case K.SO_DONTROUTE: case K.SO_NO_CHECK: case K.SO_TIMESTAMP: case K.SO_BUSY_POLL:
                        _otherInts[(level, name)] = v; return 0;
                    case K.SO_ERROR: case K.SO_ACCEPTCONN: case K.SO_INCOMING_CPU:
                        return -ENOPROTOOPT;
                    default: return -ENOPROTOOPT;
                }
            }
            BuffersChanged();
            return 0;
        }
        if (level == K.IPPROTO_IP)
        {
            if (value.Length < 1) return -EINVAL;
            int v = value.Length >= 4 ? K.ReadInt(value) : value[0];
            lock (Lock)
            {
                switch (name)
                {
                    case K.IP_TOS:
                        // Linux keeps the ECN bits of a stream socket's TOS to itself.
                        Tos = Type == K.SOCK_STREAM ? (v & ~3) | (Tos & 3) : v & 0xFF;
                        return 0;
                    case K.IP_TTL:
                        if (v == -1) { Ttl = -1; return 0; }
                        if (v < 1 || v > 255) return -EINVAL;
                        Ttl = v; return 0;
                    case K.IP_RECVERR: OptRecvErr = v != 0; return 0;
                    case K.IP_PKTINFO: case K.IP_RECVTTL: case K.IP_RECVTOS: case K.IP_FREEBIND: case K.IP_BIND_ADDRESS_NO_PORT:
                    case K.IP_MTU_DISCOVER: case K.IP_MULTICAST_TTL: case K.IP_MULTICAST_LOOP:
                        _otherInts[(level, name)] = v; return 0;
                }
            }
            return -ENOPROTOOPT;
        }
        if (level == K.IPPROTO_IPV6)
        {
            if (Family != SockAddrInet.AF_INET6) return -ENOPROTOOPT;
            if (value.Length < 4) return -EINVAL;
            int v = K.ReadInt(value);
            lock (Lock)
            {
                switch (name)
                {
                    case K.IPV6_V6ONLY:
                        if (Bound) return -EINVAL;
                        OptV6Only = v != 0; return 0;
                    case K.IPV6_TCLASS:
                        if (v < -1 || v > 0xFF) return -EINVAL;
                        Tos = v == -1 ? 0 : v; return 0;
                    case K.IPV6_UNICAST_HOPS:
                        if (v < -1 || v > 255) return -EINVAL;
                        Ttl = v; return 0;
                    case K.IPV6_RECVERR: OptRecvErr = v != 0; return 0;
                    case K.IPV6_MULTICAST_HOPS: case K.IPV6_MULTICAST_LOOP: case K.IPV6_RECVPKTINFO: case IPV6_RECVHOPLIMIT:
                        _otherInts[(level, name)] = v; return 0;
                }
            }
            return -ENOPROTOOPT;
        }
        if (level == ProtocolLevel) return SetProtocolOption(name, value);
        return -ENOPROTOOPT;
    }

    protected virtual void KeepAliveChanged() { }
}
