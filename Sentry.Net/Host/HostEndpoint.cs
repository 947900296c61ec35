using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Sentry.Platform;

namespace Sentry.Net.Host;

/// <summary>
/// An endpoint that is a host socket Sentry holds (--network=host): non-blocking and close-on-exec,
/// never handed to the application (only its data crosses). Every call is one host syscall; the
/// host kernel's answers (counts, -errno) pass through. Options are passed through only when
/// they are on the list in <see cref="OptionAllowed"/>: values with pointers, privileged options
/// (SO_BINDTODEVICE, SO_MARK, IP_TRANSPARENT ...), and socket filters never reach the host.
/// </summary>
public sealed unsafe class HostEndpoint : IEndpoint, IEndpointAncillary
{
    const int SOL_SOCKET = 1, IPPROTO_IP = 0, IPPROTO_TCP = 6, IPPROTO_UDP = 17, IPPROTO_IPV6 = 41;
    const int MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000, MSG_TRUNC = 0x20;
    const int SIOCINQ = 0x541B, SIOCOUTQ = 0x5411;

    readonly HostNetworkStack _stack;
    readonly ulong _id;
    int _fd;
    volatile IEndpointListener? _listener;

    public int Fd => _fd;
    /// <summary>1 while the event the host's epoll queues for a newly added ready fd is still to come (see <see cref="HostPoller.Add"/>).</summary>
    internal int EchoPending, EchoMask, EchoAvailable;
    public int Family { get; }
    public int Type { get; }
    public int Protocol { get; }
    public IEndpointListener? Listener { get => _listener; set => _listener = value; }

    internal HostEndpoint(HostNetworkStack stack, int fd, int family, int type, int protocol)
    {
        _stack = stack;
        _fd = fd;
        Family = family;
        Type = type;
        Protocol = protocol;
        _id = stack.Poller.Add(this);
        stack.Track(this);
    }

    public int Readiness
    {
        get
        {
            const short events = 1 | 2 | 4 | 0x2000; // POLLIN | POLLPRI | POLLOUT | POLLRDHUP
            long pfd = (uint)_fd | ((long)events << 32);
            // Restarted: a signal to this thread (the runtime's GC, a platform's kick) would
            // otherwise read as "nothing ready", and an edge-triggered epoll item would miss it.
            long r = HostSyscall.CallRestarting(7 /* poll */, (long)&pfd, 1, 0);
            return r > 0 ? (int)(ushort)(pfd >> 48) : 0;
        }
    }

    /// <summary>Writes <paramref name="a"/> as this socket's sockaddr (an IPv4 address mapped for an AF_INET6 socket); its length.</summary>
    int Format(in SockAddrInet a, byte* into)
    {
        var span = new Span<byte>(into, 128);
        span.Clear();
        if (Family == SockAddrInet.AF_INET)
        {
            if (a.Family != SockAddrInet.AF_INET) return -Errno.EAFNOSUPPORT;
            BinaryPrimitives.WriteUInt16LittleEndian(span, SockAddrInet.AF_INET);
            BinaryPrimitives.WriteUInt16BigEndian(span[2..], a.Port);
            a.WriteAddress(span[4..]);
            return 16;
        }
        BinaryPrimitives.WriteUInt16LittleEndian(span, SockAddrInet.AF_INET6);
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], a.Port);
        if (a.Family == SockAddrInet.AF_INET)
        {
            span[18] = span[19] = 0xff;
            a.WriteAddress(span[20..]);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(span[4..], a.FlowInfo);
            a.WriteAddress(span[8..]);
            BinaryPrimitives.WriteUInt32LittleEndian(span[24..], a.ScopeId);
        }
        return 28;
    }

    /// <summary>A sockaddr the host wrote; the unspecified address of this family when it wrote none.</summary>
    internal static SockAddrInet Parse(byte* raw, int len, int family)
    {
        var span = new ReadOnlySpan<byte>(raw, Math.Max(0, Math.Min(len, 128)));
        int fam = span.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(span) : 0;
        if (fam == SockAddrInet.AF_INET && span.Length >= 8)
            return new SockAddrInet(SockAddrInet.AF_INET, span.Slice(4, 4), BinaryPrimitives.ReadUInt16BigEndian(span[2..]));
        if (fam == SockAddrInet.AF_INET6 && span.Length >= 24)
            return new SockAddrInet(SockAddrInet.AF_INET6, span.Slice(8, 16), BinaryPrimitives.ReadUInt16BigEndian(span[2..]),
                BinaryPrimitives.ReadUInt32BigEndian(span[4..]), span.Length >= 28 ? BinaryPrimitives.ReadUInt32LittleEndian(span[24..]) : 0);
        return ParseUnspecified(family);
    }

    /// <summary>The unspecified address (0.0.0.0 or ::) of <paramref name="family"/>, port 0.</summary>
    internal static SockAddrInet ParseUnspecified(int family)
    {
        Span<byte> zero = stackalloc byte[16];
        zero.Clear();
        return new SockAddrInet(family, zero[..(family == SockAddrInet.AF_INET ? 4 : 16)], 0);
    }

    public long Bind(in SockAddrInet address)
    {
        byte* sa = stackalloc byte[128];
        int n = Format(address, sa);
        return n < 0 ? n : HostSyscall.Call(49 /* bind */, _fd, (long)sa, n);
    }

    public long Listen(int backlog) => HostSyscall.Call(50 /* listen */, _fd, backlog);

    public long Connect(in SockAddrInet address)
    {
        byte* sa = stackalloc byte[128];
        int n = Format(address, sa);
        return n < 0 ? n : HostSyscall.Call(42 /* connect */, _fd, (long)sa, n);
    }

    public long Disconnect()
    {
        byte* sa = stackalloc byte[16];
        new Span<byte>(sa, 16).Clear(); // AF_UNSPEC
        return HostSyscall.Call(42, _fd, (long)sa, 16);
    }

    public long Accept(out IEndpoint? accepted, out SockAddrInet peer)
    {
        accepted = null;
        peer = default;
        byte* sa = stackalloc byte[128];
        int len = 128;
        long fd = HostSyscall.Call(288 /* accept4 */, _fd, (long)sa, (long)&len, 0x800 | 0x80000 /* SOCK_NONBLOCK | SOCK_CLOEXEC */);
        if (fd < 0) return fd;
        peer = Parse(sa, len, Family);
        accepted = new HostEndpoint(_stack, (int)fd, Family, Type, Protocol);
        return 0;
    }

    /// <summary>The send flags passed to the host (MSG_DONTWAIT and MSG_NOSIGNAL always: Sentry neither blocks nor takes SIGPIPE).</summary>
    const int SendFlags = 0x1 /* OOB */ | 0x4 /* DONTROUTE */ | 0x80 /* EOR */ | 0x800 /* CONFIRM */ | 0x8000 /* MORE */;
    const int ReceiveFlags = 0x1 /* OOB */ | 0x2 /* PEEK */ | MSG_TRUNC;

    public long Send(ReadOnlySpan<byte> data, int flags, bool hasTo, in SockAddrInet to)
    {
        byte* sa = stackalloc byte[128];
        int n = 0;
        if (hasTo)
        {
            n = Format(to, sa);
            if (n < 0) return n;
        }
        fixed (byte* p = data)
            return HostSyscall.Call(44 /* sendto */, _fd, (long)p, data.Length, (flags & SendFlags) | MSG_DONTWAIT | MSG_NOSIGNAL,
                hasTo ? (long)sa : 0, n);
    }

    public long Receive(Span<byte> buffer, int flags, out SockAddrInet from, out bool truncated) =>
        Receive(buffer, flags, out from, out truncated, default, out _, out _);

    public long Send(ReadOnlySpan<byte> data, int flags, bool hasTo, in SockAddrInet to, ReadOnlySpan<byte> control)
    {
        long r = FilterControl(control, out var kept);
        if (r < 0) return r;
        if (kept.Length == 0) return Send(data, flags, hasTo, to);
        control = kept;
        byte* sa = stackalloc byte[128];
        int n = 0;
        if (hasTo)
        {
            n = Format(to, sa);
            if (n < 0) return n;
        }
        long* iov = stackalloc long[2];
        long* msg = stackalloc long[7];
        fixed (byte* p = data)
        fixed (byte* c = control)
        {
            iov[0] = (long)p; iov[1] = data.Length;
            msg[0] = hasTo ? (long)sa : 0; msg[1] = n; msg[2] = (long)iov; msg[3] = 1; msg[4] = (long)c; msg[5] = control.Length; msg[6] = 0;
            return HostSyscall.Call(46 /* sendmsg */, _fd, (long)msg, (flags & SendFlags) | MSG_DONTWAIT | MSG_NOSIGNAL);
        }
    }

    /// <summary>
    /// The control messages a send may carry to the host: packet info, TTL/hop limit, TOS/traffic
    /// class, don't-fragment. SCM_RIGHTS and SCM_CREDENTIALS are dropped (an inet socket ignores
    /// them, and a number here is the application's fd, not one of Sentry's); anything else is
    /// EINVAL, as Linux answers an inet socket for a type it does not take.
    /// </summary>
    static long FilterControl(ReadOnlySpan<byte> control, out byte[] kept)
    {
        kept = [];
        var list = new List<byte>();
        while (control.Length >= 16)
        {
            long len = BinaryPrimitives.ReadInt64LittleEndian(control);
            int level = BinaryPrimitives.ReadInt32LittleEndian(control[8..]), type = BinaryPrimitives.ReadInt32LittleEndian(control[12..]);
            if (len < 16 || len > control.Length) return -Errno.EINVAL;
            int step = (int)Math.Min((len + 7) & ~7L, control.Length);
            bool pass = level switch
            {
                IPPROTO_IP => type is 1 /* IP_TOS */ or 2 /* IP_TTL */ or 8 /* IP_PKTINFO */,
                IPPROTO_IPV6 => type is 50 /* IPV6_PKTINFO */ or 52 /* IPV6_HOPLIMIT */ or 62 /* IPV6_DONTFRAG */ or 67 /* IPV6_TCLASS */,
                _ => false,
            };
            if (pass)
            {
                foreach (var b in control[..step]) list.Add(b);
                while (list.Count % 8 != 0) list.Add(0);
            }
            else if (!(level == SOL_SOCKET && type is 1 or 2)) return -Errno.EINVAL;
            control = control[step..];
        }
        kept = [.. list];
        return 0;
    }

    public long Receive(Span<byte> buffer, int flags, out SockAddrInet from, out bool truncated, Span<byte> control, out int controlLength, out bool controlTruncated)
    {
        byte* sa = stackalloc byte[128];
        new Span<byte>(sa, 128).Clear();
        long* iov = stackalloc long[2];
        long* msg = stackalloc long[7]; // struct msghdr
        fixed (byte* p = buffer)
        fixed (byte* c = control)
        {
            iov[0] = (long)p;
            iov[1] = buffer.Length;
            msg[0] = (long)sa; msg[1] = 128; msg[2] = (long)iov; msg[3] = 1; msg[4] = control.IsEmpty ? 0 : (long)c; msg[5] = control.Length; msg[6] = 0;
            long r = HostSyscall.Call(47 /* recvmsg */, _fd, (long)msg, (flags & ReceiveFlags) | MSG_DONTWAIT);
            int outFlags = (int)msg[6];
            truncated = (outFlags & MSG_TRUNC) != 0;
            controlTruncated = (outFlags & 0x8 /* MSG_CTRUNC */) != 0;
            controlLength = r < 0 || control.IsEmpty ? 0 : (int)Math.Min(msg[5], control.Length);
            from = Parse(sa, (int)msg[1], Family);
            return r;
        }
    }

    public long Shutdown(int how) => HostSyscall.Call(48 /* shutdown */, _fd, how);

    public long GetLocalAddress(out SockAddrInet address)
    {
        byte* sa = stackalloc byte[128];
        int len = 128;
        long r = HostSyscall.Call(51 /* getsockname */, _fd, (long)sa, (long)&len);
        address = r < 0 ? default : Parse(sa, len, Family);
        return r;
    }

    public long GetPeerAddress(out SockAddrInet address)
    {
        byte* sa = stackalloc byte[128];
        int len = 128;
        long r = HostSyscall.Call(52 /* getpeername */, _fd, (long)sa, (long)&len);
        address = r < 0 ? default : Parse(sa, len, Family);
        return r;
    }

    /// <summary>
    /// The options that reach the host socket: plain values about this socket's own behaviour,
    /// none that names a device, a mark, a filter program or a pointer, none that needs privilege.
    /// </summary>
    public static bool OptionAllowed(int level, int name, bool set) => level switch
    {
        // SO_REUSEADDR, SO_TYPE.., SO_ERROR, SO_DONTROUTE, SO_BROADCAST, SO_SNDBUF, SO_RCVBUF, SO_KEEPALIVE,
        // SO_OOBINLINE, SO_NO_CHECK, SO_PRIORITY (0-6 unprivileged), SO_LINGER, SO_REUSEPORT, SO_RCVLOWAT,
        // SO_SNDLOWAT, SO_TIMESTAMP, SO_TIMESTAMPNS, SO_ACCEPTCONN, SO_PROTOCOL, SO_DOMAIN, SO_INCOMING_CPU.
        SOL_SOCKET => name is 2 or 4 or 5 or 6 or 7 or 8 or 9 or 10 or 11 or 12 or 13 or 15 or 18 or 19 or 29 or 30 or 35 or 38 or 39 or 49
            && !(set && name is 4 or 30 or 38 or 39),
        // TCP_NODELAY .. TCP_QUICKACK, TCP_USER_TIMEOUT, TCP_FASTOPEN, TCP_NOTSENT_LOWAT, TCP_INFO (read),
        // TCP_CONGESTION (read: setting may load a module).
        IPPROTO_TCP => name is >= 1 and <= 12 or 18 or 23 or 25 or 13 && !(set && name is 11 or 13),
        // IP_TOS, IP_TTL, IP_HDRINCL (read), IP_OPTIONS, IP_MTU_DISCOVER, IP_RECVERR, IP_MTU (read), IP_FREEBIND,
        // IP_BIND_ADDRESS_NO_PORT, IP_MULTICAST_IF/TTL/LOOP, IP_ADD/DROP_MEMBERSHIP.
        // IP_PKTINFO, IP_RECVTTL, IP_RECVTOS: ask for control messages.
        IPPROTO_IP => name is 1 or 2 or 3 or 4 or 8 or 10 or 11 or 12 or 13 or 14 or 15 or 24 or 32 or 33 or 34 or 35 or 36 && !(set && name is 3 or 14),
        // IPV6_UNICAST_HOPS, IPV6_MULTICAST_IF/HOPS/LOOP, IPV6_JOIN/LEAVE_GROUP, IPV6_MTU_DISCOVER, IPV6_MTU (read),
        // IPV6_RECVERR, IPV6_V6ONLY, IPV6_TCLASS.
        // IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_HOPLIMIT, IPV6_DONTFRAG, IPV6_RECVTCLASS: control messages.
        IPPROTO_IPV6 => name is 16 or 17 or 18 or 19 or 20 or 21 or 23 or 24 or 25 or 26 or 49 or 51 or 52 or 62 or 66 or 67 && !(set && name is 24),
        IPPROTO_UDP => name is 1, // UDP_CORK
        _ => false,
    };

    public long GetOption(int level, int name, Span<byte> value)
    {
        if (!OptionAllowed(level, name, set: false)) return -Errno.ENOPROTOOPT;
        int len = value.Length;
        fixed (byte* p = value)
        {
            long r = HostSyscall.Call(55 /* getsockopt */, _fd, level, name, (long)p, (long)&len);
            return r < 0 ? r : len;
        }
    }

    public long SetOption(int level, int name, ReadOnlySpan<byte> value)
    {
        if (!OptionAllowed(level, name, set: true)) return -Errno.ENOPROTOOPT;
        fixed (byte* p = value)
            return HostSyscall.Call(54 /* setsockopt */, _fd, level, name, (long)p, value.Length);
    }

    int Ioctl(int cmd)
    {
        int v = 0;
        long r = HostSyscall.Call(16 /* ioctl */, _fd, cmd, (long)&v);
        return r < 0 ? 0 : v;
    }

    public int Available => Ioctl(SIOCINQ);
    public int Unsent => Ioctl(SIOCOUTQ);

    /// <summary>The TCP state (TCP_ESTABLISHED=1 ...) from TCP_INFO, or 7 (TCP_CLOSE) for what has none.</summary>
    internal int TcpState
    {
        get
        {
            byte* info = stackalloc byte[256];
            int len = 256;
            long r = HostSyscall.Call(55, _fd, IPPROTO_TCP, 11 /* TCP_INFO */, (long)info, (long)&len);
            return r < 0 || len < 1 ? 7 : info[0];
        }
    }

    public void Close()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0) return;
        _listener = null;
        _stack.Poller.Remove(_id, fd);
        _stack.Untrack(this);
        HostSyscall.Call(3 /* close */, fd);
    }
}
