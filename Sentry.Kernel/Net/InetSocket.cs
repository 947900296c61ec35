using System.Buffers.Binary;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using Sentry.Net;

namespace Sentry.Kernel.Net;

/// <summary>
/// An AF_INET/AF_INET6 socket of the sandbox: the file an application holds, over an
/// <see cref="IEndpoint"/> of the sandbox's network stack (the user-space stack, or a host socket
/// in host mode). Everything that is not networking is done here: sockaddr_in/sockaddr_in6 read
/// and written with Linux's errnos, blocking on top of the non-blocking endpoint (its readiness
/// changes wake <see cref="Queue"/>), SO_RCVTIMEO/SO_SNDTIMEO, MSG_DONTWAIT/MSG_WAITALL/
/// MSG_NOSIGNAL, SIGPIPE, the connect state machine of Linux's __inet_stream_connect
/// (EINPROGRESS, EALREADY, restart after a signal), and the ioctls.
/// </summary>
public sealed class InetSocket : SocketFile, IEndpointListener
{
    public const int AF_UNSPEC = 0, AF_INET = 2, AF_INET6 = 10;
    const int SS_UNCONNECTED = 1, SS_CONNECTING = 2, SS_CONNECTED = 3, SS_DISCONNECTING = 4;
    const int SIOCOUTQ = 0x5411, SIOCINQ = 0x541B;
    const int POLLRDHUP = 0x2000;
    static long s_nextIno = 0x6000_0000;

    readonly IEndpoint _ep;
    readonly INetworkStack _stack;
    readonly object _lock = new();
    int _state = SS_UNCONNECTED;
    bool _listening;
    /// <summary>SO_RCVTIMEO and SO_SNDTIMEO as given (seconds, microseconds): (0, 0) waits for ever, a negative one not at all.</summary>
    (long Sec, long Usec) _rcvTimeout, _sndTimeout;

    public ulong Ino { get; } = (ulong)Interlocked.Increment(ref s_nextIno);
    /// <summary>Tasks blocked in a call on this socket, and epoll items watching it.</summary>
    public WaitQueue Queue { get; } = new();
    public IEndpoint Endpoint => _ep;

    /// <summary>The sandbox's open inet sockets (for /proc/net/tcp's inode and uid columns).</summary>
    public static IReadOnlyCollection<InetSocket> Open(Sandbox sandbox)
    {
        var set = s_open.GetOrCreateValue(sandbox);
        lock (set) return [.. set];
    }
    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Sandbox, HashSet<InetSocket>> s_open = new();
    readonly HashSet<InetSocket> _openSet;
    /// <summary>The owner's uid when the socket was made.</summary>
    public uint Uid { get; }

    InetSocket(Task t, INetworkStack stack, IEndpoint ep, int flags, int state)
    {
        _openSet = s_open.GetOrCreateValue(t.Sandbox);
        lock (_openSet) _openSet.Add(this);
        Uid = t.Uid;
        _stack = stack;
        _ep = ep;
        _state = state;
        Flags = Linux.O_RDWR | (flags & Linux.O_NONBLOCK);
        Path = $"socket:[{Ino}]";
        ep.Listener = this;
    }

    /// <summary>socket(2) for AF_INET/AF_INET6: the stack makes the endpoint (and says EPROTONOSUPPORT/ESOCKTNOSUPPORT/EPERM).</summary>
    public static long Create(Task t, INetworkStack stack, int family, int kind, int protocol, int flags, out InetSocket? socket)
    {
        socket = null;
        const int SOCK_MAX = 11, IPPROTO_MAX = 263;
        if (kind >= SOCK_MAX) return -Errno.EINVAL;
        if (protocol is < 0 or >= IPPROTO_MAX) return -Errno.EINVAL;
        long r = stack.Create(family, kind, protocol, out var ep);
        if (r < 0) return r;
        socket = new InetSocket(t, stack, ep!, flags, SS_UNCONNECTED);
        return 0;
    }

    public override int Family => _ep.Family;
    public override int Type => _ep.Type;
    public override int Protocol => _ep.Protocol;
    public override bool Listening { get { lock (_lock) return _listening; } }
    bool NonBlock => (Flags & Linux.O_NONBLOCK) != 0;

    void IEndpointListener.OnReadiness(int events)
    {
        if (events == 0) { Queue.Notify(0); return; }
        Queue.Notify(Normalised(events));
    }

    /// <summary>POLLIN with POLLRDNORM and POLLOUT with POLLWRNORM, as tcp_poll and datagram_poll report them.</summary>
    static int Normalised(int events)
    {
        if ((events & PollEvents.POLLIN) != 0) events |= PollEvents.POLLRDNORM;
        if ((events & PollEvents.POLLOUT) != 0) events |= PollEvents.POLLWRNORM;
        return events;
    }

    public override int Poll(int events) => Normalised(_ep.Readiness);
    public override WaitQueue? PollQueue => Queue;

    /// <summary>Waits until one of <paramref name="events"/> (or an error or hang-up) holds: 0, -EINTR or -ETIMEDOUT.</summary>
    long Wait(Task t, int events, long? deadline) =>
        t.WaitOn(Queue, () => (_ep.Readiness & (events | PollEvents.POLLERR | PollEvents.POLLHUP)) != 0, deadline);

    /// <summary>The deadline a timeout option gives from now: null for ever, now for a negative one.</summary>
    static long? Deadline((long Sec, long Usec) timeout)
    {
        if (timeout == (0, 0)) return null;
        if (timeout.Sec < 0) return System.Diagnostics.Stopwatch.GetTimestamp();
        return Syscalls.Sys.DeadlineAfter(timeout.Sec * 1_000_000_000 + timeout.Usec * 1000);
    }

    /// <summary>What a wait cut short by a signal returns: restarted when no timeout is set, as sock_intr_errno.</summary>
    static long Interrupted((long Sec, long Usec) timeout) => timeout == (0, 0) ? -SignalDelivery.ERESTARTSYS : -Errno.EINTR;

    // --- addresses ---

    /// <summary>The sockaddr_in (16 bytes) or sockaddr_in6 (28) of <paramref name="a"/> as this socket reports it (an AF_INET6 socket maps IPv4 addresses).</summary>
    int Format(in SockAddrInet a, Span<byte> into)
    {
        var address = Family == AF_INET6 && a.Family == AF_INET ? MapV4(a) : a;
        if (address.Family == AF_INET)
        {
            into[..16].Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(into, AF_INET);
            BinaryPrimitives.WriteUInt16BigEndian(into[2..], address.Port);
            address.WriteAddress(into[4..]);
            return 16;
        }
        into[..28].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(into, AF_INET6);
        BinaryPrimitives.WriteUInt16BigEndian(into[2..], address.Port);
        BinaryPrimitives.WriteUInt32BigEndian(into[4..], address.FlowInfo);
        address.WriteAddress(into[8..]);
        BinaryPrimitives.WriteUInt32LittleEndian(into[24..], address.ScopeId);
        return 28;
    }

    static SockAddrInet V4(ReadOnlySpan<byte> raw) => new(AF_INET, raw.Slice(4, 4), BinaryPrimitives.ReadUInt16BigEndian(raw[2..]));

    static SockAddrInet V6(ReadOnlySpan<byte> raw) =>
        new(AF_INET6, raw.Slice(8, 16), BinaryPrimitives.ReadUInt16BigEndian(raw[2..]), BinaryPrimitives.ReadUInt32BigEndian(raw[4..]),
            raw.Length >= 28 ? BinaryPrimitives.ReadUInt32LittleEndian(raw[24..]) : 0);

    /// <summary>An IPv4 address as the IPv4-mapped IPv6 address ::ffff:a.b.c.d.</summary>
    static SockAddrInet MapV4(in SockAddrInet a)
    {
        Span<byte> b = stackalloc byte[16];
        b.Clear();
        b[10] = b[11] = 0xff;
        a.WriteAddress(b[12..]);
        return new SockAddrInet(AF_INET6, b, a.Port);
    }

    static int FamilyOf(ReadOnlySpan<byte> raw) => BinaryPrimitives.ReadUInt16LittleEndian(raw);

    /// <summary>bind's address: inet_bind_sk and __inet_bind (AF_UNSPEC with INADDR_ANY passes), inet6_bind.</summary>
    long ParseBind(ReadOnlySpan<byte> raw, out SockAddrInet a)
    {
        a = default;
        if (Family == AF_INET)
        {
            if (raw.Length < 16) return -Errno.EINVAL;
            int fam = FamilyOf(raw);
            if (fam != AF_INET && (fam != AF_UNSPEC || BinaryPrimitives.ReadUInt32BigEndian(raw[4..]) != 0)) return -Errno.EAFNOSUPPORT;
            a = V4(raw);
            return 0;
        }
        if (raw.Length < 24) return -Errno.EINVAL;
        if (FamilyOf(raw) != AF_INET6) return -Errno.EAFNOSUPPORT;
        a = V6(raw);
        return 0;
    }

    /// <summary>connect's address once AF_UNSPEC is handled: tcp_v4_connect, __ip4_datagram_connect, tcp_v6_connect, __ip6_datagram_connect.</summary>
    long ParseConnect(ReadOnlySpan<byte> raw, out SockAddrInet a)
    {
        a = default;
        int fam = FamilyOf(raw);
        if (Family == AF_INET6 && Type != SOCK_STREAM && fam == AF_INET)
        {
            if (raw.Length < 16) return -Errno.EINVAL;
            a = MapV4(V4(raw));
            return 0;
        }
        if (Family == AF_INET)
        {
            if (raw.Length < 16) return -Errno.EINVAL;
            if (fam != AF_INET) return -Errno.EAFNOSUPPORT;
            a = V4(raw);
            return 0;
        }
        if (raw.Length < 24) return -Errno.EINVAL;
        if (fam != AF_INET6) return -Errno.EAFNOSUPPORT;
        a = V6(raw);
        return 0;
    }

    /// <summary>A datagram's destination: udp_sendmsg (AF_UNSPEC taken as AF_INET) and udpv6_sendmsg (AF_UNSPEC means none).</summary>
    long ParseSendTo(ReadOnlySpan<byte> raw, out SockAddrInet a, out bool hasTo)
    {
        a = default;
        hasTo = false;
        int fam = raw.Length >= 2 ? FamilyOf(raw) : -1;
        if (Family == AF_INET)
        {
            if (raw.Length < 16) return -Errno.EINVAL;
            if (fam != AF_INET && fam != AF_UNSPEC) return -Errno.EAFNOSUPPORT;
            a = V4(raw);
            hasTo = true;
            return 0;
        }
        if (raw.Length < 2) return -Errno.EINVAL;
        switch (fam)
        {
            case AF_INET6:
                if (raw.Length < 24) return -Errno.EINVAL;
                a = V6(raw);
                hasTo = true;
                return 0;
            case AF_INET:
                if (raw.Length < 16) return -Errno.EINVAL;
                a = MapV4(V4(raw));
                hasTo = true;
                return 0;
            case AF_UNSPEC:
                return 0;
            default:
                return -Errno.EINVAL;
        }
    }

    // --- calls ---

    public override long Bind(Task t, ulong addr, ulong len)
    {
        Span<byte> raw = stackalloc byte[AddressMax];
        long n = CopyInAddress(t, addr, len, raw);
        if (n < 0) return n;
        long r = ParseBind(raw[..(int)n], out var a);
        return r < 0 ? r : _ep.Bind(a);
    }

    public override long Listen(Task t, int backlog)
    {
        if (Type != SOCK_STREAM) return -Errno.EOPNOTSUPP;
        lock (_lock) if (_state != SS_UNCONNECTED) return -Errno.EINVAL;
        long r = _ep.Listen(backlog);
        if (r == 0) lock (_lock) _listening = true;
        return r;
    }

    public override long Connect(Task t, ulong addr, ulong len)
    {
        Span<byte> raw = stackalloc byte[AddressMax];
        long n = CopyInAddress(t, addr, len, raw);
        if (n < 0) return n;
        if (n < 2) return -Errno.EINVAL;
        long r;
        if (FamilyOf(raw) == AF_UNSPEC)
        {
            r = _ep.Disconnect();
            lock (_lock)
            {
                _state = r < 0 && Type == SOCK_STREAM ? SS_DISCONNECTING : SS_UNCONNECTED;
                if (r == 0) _listening = false;
            }
            return r;
        }
        r = ParseConnect(raw[..(int)n], out var a);
        if (r < 0) return r;
        if (Type != SOCK_STREAM) return _ep.Connect(a);
        return StreamConnect(t, a);
    }

    /// <summary>Linux's __inet_stream_connect over the endpoint: the socket's own state, then a wait for the handshake.</summary>
    long StreamConnect(Task t, in SockAddrInet a)
    {
        long err;
        int state;
        lock (_lock) state = _state;
        switch (state)
        {
            case SS_CONNECTED: return -Errno.EISCONN;
            case SS_CONNECTING: err = -Errno.EALREADY; break;
            case SS_UNCONNECTED:
                if (Listening) return -Errno.EISCONN; // sk_state is not TCP_CLOSE
                err = _ep.Connect(a);
                if (err == 0) { lock (_lock) _state = SS_CONNECTED; return 0; }
                if (err == -Errno.EALREADY) err = -Errno.EINPROGRESS; // the stack still finishing an earlier one
                if (err != -Errno.EINPROGRESS) return err;
                lock (_lock) _state = SS_CONNECTING;
                // Linux looks at the state before the handshake's answer is processed: a
                // non-blocking connect that started says EINPROGRESS even when that answer
                // (on loopback) is already in.
                if (NonBlock || _sndTimeout.Sec < 0) return err;
                break;
            default: return -Errno.EINVAL;
        }
        if (Connecting)
        {
            if (NonBlock || _sndTimeout.Sec < 0) return err;
            long w = Wait(t, PollEvents.POLLOUT, Deadline(_sndTimeout));
            if (w == -Errno.ETIMEDOUT) return err;
            if (w == -Errno.EINTR) return Interrupted(_sndTimeout);
        }
        // Done: connected, or closed by a reset, a timeout or an ICMP error (SO_ERROR says which).
        int error = PendingError();
        int ready = _ep.Readiness;
        if (error != 0 || (ready & PollEvents.POLLHUP) != 0)
        {
            lock (_lock) _state = SS_UNCONNECTED;
            return error != 0 ? -error : -Errno.ECONNABORTED;
        }
        lock (_lock) _state = SS_CONNECTED;
        return 0;
    }

    /// <summary>A stream whose handshake is under way: neither writable nor failed yet.</summary>
    bool Connecting => (_ep.Readiness & (PollEvents.POLLOUT | PollEvents.POLLERR | PollEvents.POLLHUP)) == 0;

    /// <summary>SO_ERROR of the endpoint, taken (and so cleared) as sock_error does.</summary>
    int PendingError()
    {
        Span<byte> v = stackalloc byte[4];
        v.Clear();
        long r = _ep.GetOption(SOL_SOCKET, SO_ERROR, v);
        return r >= 4 ? BitConverter.ToInt32(v) : 0;
    }

    public override long Accept(Task t, out SocketFile? accepted, Span<byte> peer, out int peerLength)
    {
        accepted = null;
        peerLength = 0;
        if (Type != SOCK_STREAM) return -Errno.EOPNOTSUPP;
        long? deadline = null;
        bool timed = false;
        while (true)
        {
            long r = _ep.Accept(out var ep, out var from);
            if (r == 0)
            {
                accepted = new InetSocket(t, _stack, ep!, 0, SS_CONNECTED);
                peerLength = Format(from, peer);
                return 0;
            }
            if (r != -Errno.EAGAIN) return r;
            if (NonBlock || _rcvTimeout.Sec < 0) return -Errno.EAGAIN;
            if (!timed) { deadline = Deadline(_rcvTimeout); timed = true; }
            long w = Wait(t, PollEvents.POLLIN, deadline);
            if (w == -Errno.ETIMEDOUT) return -Errno.EAGAIN;
            if (w == -Errno.EINTR) return Interrupted(_rcvTimeout);
        }
    }

    public override long GetName(Task t, bool peer, Span<byte> into, out int length)
    {
        length = 0;
        long r = peer ? _ep.GetPeerAddress(out var a) : _ep.GetLocalAddress(out a);
        if (r < 0) return r;
        length = Format(a, into);
        return 0;
    }

    public override long Shutdown(Task t, int how)
    {
        long r = _ep.Shutdown(how);
        if (how != 1) lock (_lock) _listening = _listening && r < 0;
        return r;
    }

    /// <summary>
    /// Sends <paramref name="data"/>: a stream all of it (waiting for room unless non-blocking,
    /// a partial count when interrupted or timed out after some went), a datagram at once.
    /// EPIPE raises SIGPIPE unless MSG_NOSIGNAL.
    /// </summary>
    long SendData(Task t, ReadOnlySpan<byte> data, int flags, bool hasTo, in SockAddrInet to, ReadOnlySpan<byte> control = default)
    {
        var ancillary = control.IsEmpty ? null : _ep as IEndpointAncillary;
        bool nonblock = NonBlock || (flags & MSG_DONTWAIT) != 0;
        int epFlags = flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_CMSG_CLOEXEC | MSG_WAITALL);
        long? deadline = null;
        bool timed = false;
        int done = 0;
        while (true)
        {
            long r = ancillary != null && done == 0 ? ancillary.Send(data, epFlags, hasTo, to, control) : _ep.Send(data[done..], epFlags, hasTo, to);
            if (r >= 0)
            {
                if (Type != SOCK_STREAM) return r;
                done += (int)r;
                if (done == data.Length || (nonblock && r > 0)) return done;
                if (r > 0) continue;
                r = -Errno.EAGAIN;
            }
            if (r != -Errno.EAGAIN)
            {
                if (done > 0) return done;
                if (r == -Errno.EPIPE && (flags & MSG_NOSIGNAL) == 0 && Type == SOCK_STREAM)
                    t.PostSignal(SigInfo.FromKill(Linux.SIGPIPE, SigInfo.SI_USER, t.Pid, t.Uid));
                return r;
            }
            if (nonblock || _sndTimeout.Sec < 0) return done > 0 ? done : -Errno.EAGAIN;
            if (!timed) { deadline = Deadline(_sndTimeout); timed = true; }
            long w = Wait(t, PollEvents.POLLOUT, deadline);
            if (w == -Errno.ETIMEDOUT) return done > 0 ? done : -Errno.EAGAIN;
            if (w == -Errno.EINTR) return done > 0 ? done : Interrupted(_sndTimeout);
        }
    }

    /// <summary>
    /// Receives into <paramref name="buffer"/>, waiting unless non-blocking; a stream with
    /// MSG_WAITALL until the buffer is full, the end of the stream, an error or a signal.
    /// </summary>
    long ReceiveData(Task t, Span<byte> buffer, int flags, out SockAddrInet from, out bool truncated) =>
        ReceiveData(t, buffer, flags, out from, out truncated, default, out _, out _);

    /// <summary><see cref="ReceiveData(Task, Span{byte}, int, out SockAddrInet, out bool)"/> with the control messages of the (first) receive.</summary>
    long ReceiveData(Task t, Span<byte> buffer, int flags, out SockAddrInet from, out bool truncated,
        Span<byte> control, out int controlLength, out bool controlTruncated)
    {
        from = default;
        truncated = false;
        controlLength = 0;
        controlTruncated = false;
        var ancillary = control.IsEmpty ? null : _ep as IEndpointAncillary;
        bool nonblock = NonBlock || (flags & MSG_DONTWAIT) != 0;
        bool waitAll = (flags & MSG_WAITALL) != 0 && Type == SOCK_STREAM && (flags & MSG_PEEK) == 0 && !nonblock;
        int epFlags = flags & (MSG_PEEK | MSG_TRUNC | MSG_OOB);
        long? deadline = null;
        bool timed = false;
        int done = 0;
        while (true)
        {
            long r = ancillary != null && done == 0
                ? ancillary.Receive(buffer, epFlags, out from, out truncated, control, out controlLength, out controlTruncated)
                : _ep.Receive(buffer[done..], epFlags, out from, out truncated);
            if (r > 0)
            {
                if (Type != SOCK_STREAM) return r;
                done += (int)r;
                if (!waitAll || done == buffer.Length) return done;
                continue;
            }
            if (r == 0) return Type != SOCK_STREAM ? 0 : done;
            if (r != -Errno.EAGAIN || (flags & MSG_OOB) != 0) return done > 0 ? done : r;
            if (nonblock || _rcvTimeout.Sec < 0) return done > 0 ? done : -Errno.EAGAIN;
            if (!timed) { deadline = Deadline(_rcvTimeout); timed = true; }
            long w = Wait(t, PollEvents.POLLIN | POLLRDHUP, deadline);
            if (w == -Errno.ETIMEDOUT) return done > 0 ? done : -Errno.EAGAIN;
            if (w == -Errno.EINTR) return done > 0 ? done : Interrupted(_rcvTimeout);
        }
    }

    public override long SendMsg(Task t, ReadOnlySpan<(ulong Base, ulong Len)> vecs, int flags, bool hasAddress, ulong addr, ulong addrLen,
        ulong control, ulong controlLen)
    {
        SockAddrInet to = default;
        bool hasTo = false;
        long r;
        if (hasAddress)
        {
            Span<byte> raw = stackalloc byte[AddressMax];
            long n = CopyInAddress(t, addr, addrLen, raw);
            if (n < 0) return n;
            // A stream ignores the address (no TCP fast open here).
            if (Type != SOCK_STREAM)
            {
                r = ParseSendTo(raw[..(int)n], out to, out hasTo);
                if (r < 0) return r;
            }
        }
        r = Gather(t, vecs, out var data);
        if (r < 0) return r;
        byte[]? ctl = null;
        if (control != 0 && controlLen != 0)
        {
            if (controlLen > 65536) return -Errno.ENOBUFS;
            ctl = new byte[controlLen];
            if (t.Mm.CopyIn(control, ctl) < 0) return -Errno.EFAULT;
        }
        return SendData(t, data, flags, hasTo, to, ctl);
    }

    public override long RecvMsg(Task t, ReadOnlySpan<(ulong Base, ulong Len)> vecs, int flags, ulong addr, ulong addrLenPtr,
        ulong control, ulong controlLen, ulong msg)
    {
        const int MSG_ERRQUEUE = 0x2000;
        if ((flags & MSG_ERRQUEUE) != 0) return -Errno.EAGAIN; // no error queue is kept
        var buffer = Staging(t, Math.Min(TotalLength(vecs), (ulong)Syscalls.Sys.MAX_RW_COUNT));
        byte[]? ctl = msg != 0 && control != 0 && controlLen > 0 && _ep is IEndpointAncillary ? new byte[Math.Min(controlLen, 65536UL)] : null;
        long r = ReceiveData(t, buffer, flags, out var from, out bool truncated, ctl, out int ctlLength, out bool ctlTruncated);
        if (r < 0) return r;
        if (Scatter(t, vecs, buffer, (int)Math.Min(r, buffer.Length)) < 0) return -Errno.EFAULT;
        if (addr != 0)
        {
            // A stream gives no address: the length written back is 0, as tcp_recvmsg leaves msg_namelen.
            Span<byte> raw = stackalloc byte[28];
            int n = Type == SOCK_STREAM ? 0 : Format(from, raw);
            if (WriteAddressOut(t, addr, addrLenPtr, raw[..n]) < 0) return -Errno.EFAULT;
        }
        if (msg != 0)
        {
            int outFlags = (truncated && Type != SOCK_STREAM ? MSG_TRUNC : 0) | (ctlTruncated ? MSG_CTRUNC : 0) | (flags & MSG_CMSG_CLOEXEC);
            if (ctlLength > 0 && t.Mm.CopyOut(control, ctl.AsSpan(0, ctlLength)) < 0) return -Errno.EFAULT;
            if (Syscalls.Sys.Put(t, msg + 40, (ulong)ctlLength) < 0 || Syscalls.Sys.Put(t, msg + 48, outFlags) < 0) return -Errno.EFAULT;
        }
        return r;
    }

    public override long Read(Span<byte> buffer) => ReceiveData(Task.Current!, buffer, 0, out _, out _);

    public override long Write(ReadOnlySpan<byte> buffer) => SendData(Task.Current!, buffer, 0, false, default);

    public override long GetSockOpt(Task t, int level, int name, ulong value, ulong lenPtr)
    {
        long r = ReadOptLen(t, lenPtr, out int room);
        if (r < 0) return r;
        if (level == SOL_SOCKET)
        {
            switch (name)
            {
                case SO_TYPE: return WriteIntOpt(t, value, lenPtr, room, Type);
                case SO_DOMAIN: return WriteIntOpt(t, value, lenPtr, room, Family);
                case SO_PROTOCOL: return WriteIntOpt(t, value, lenPtr, room, Protocol);
                case SO_ACCEPTCONN: return WriteIntOpt(t, value, lenPtr, room, Listening ? 1 : 0);
                case SO_PEERCRED:
                {
                    // An inet peer has no credentials: pid 0, uid and gid -1, as cred_to_ucred without a cred.
                    Span<int> cred = [0, -1, -1];
                    return WriteOpt(t, value, lenPtr, room, System.Runtime.InteropServices.MemoryMarshal.AsBytes(cred));
                }
                case SO_RCVTIMEO or SO_SNDTIMEO:
                {
                    var (sec, usec) = name == SO_RCVTIMEO ? _rcvTimeout : _sndTimeout;
                    if (sec < 0) (sec, usec) = (0, 0);
                    Span<long> tv = [sec, usec];
                    return WriteOpt(t, value, lenPtr, room, System.Runtime.InteropServices.MemoryMarshal.AsBytes(tv));
                }
            }
        }
        Span<byte> buf = stackalloc byte[512];
        buf.Clear();
        r = _ep.GetOption(level, name, buf);
        if (r < 0) return r;
        return WriteOpt(t, value, lenPtr, room, buf[..(int)Math.Min(r, buf.Length)]);
    }

    public override long SetSockOpt(Task t, int level, int name, ulong value, int len)
    {
        if (len < 0) return -Errno.EINVAL;
        if (level == SOL_SOCKET && name is SO_RCVTIMEO or SO_SNDTIMEO)
        {
            // sock_set_timeout: a short value EINVAL, microseconds out of range EDOM, a negative time "do not wait".
            if (len < 16) return -Errno.EINVAL;
            if (t.Mm.Read(value, out long sec) < 0 || t.Mm.Read(value + 8, out long usec) < 0) return -Errno.EFAULT;
            if (usec is < 0 or >= 1_000_000) return -Errno.EDOM;
            var timeout = sec < 0 ? (-1L, 0L) : (sec, usec);
            if (name == SO_RCVTIMEO) _rcvTimeout = timeout; else _sndTimeout = timeout;
            return 0;
        }
        if (level == SOL_SOCKET && name is SO_TYPE or SO_DOMAIN or SO_PROTOCOL or SO_ACCEPTCONN or SO_ERROR or SO_PEERCRED)
            return -Errno.ENOPROTOOPT;
        var bytes = new byte[Math.Min(len, 4096)];
        if (t.Mm.CopyIn(value, bytes) < 0) return -Errno.EFAULT;
        return _ep.SetOption(level, name, bytes);
    }

    public override long Ioctl(Task task, uint cmd, ulong arg)
    {
        switch (cmd)
        {
            case SIOCINQ or SIOCOUTQ:
                if (Listening && Type == SOCK_STREAM) return -Errno.EINVAL;
                int v = cmd == SIOCINQ ? _ep.Available : _ep.Unsent;
                return task.Mm.Write(arg, v) < 0 ? -Errno.EFAULT : 0;
        }
        return NetDeviceIoctl.Handle(task, _stack, cmd, arg);
    }

    public override long Stat(out LinuxStat st)
    {
        st = new LinuxStat { st_dev = 8, st_ino = Ino, st_nlink = 1, st_mode = (uint)(Linux.S_IFSOCK | 0x1ff), st_blksize = 4096 };
        return 0;
    }

    protected override void OnLastClose()
    {
        lock (_openSet) _openSet.Remove(this);
        _ep.Listener = null;
        _ep.Close();
        Queue.NotifyAll();
    }
}
