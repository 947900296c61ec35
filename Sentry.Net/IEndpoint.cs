namespace Sentry.Net;

/// <summary>
/// One AF_INET/AF_INET6 socket as a network stack sees it: the user-space TCP/IP stack or a host
/// socket (--network=host). The kernel's socket file wraps one and does everything that is not
/// networking: copying in and out of application memory, blocking (every call here is
/// non-blocking and answers -EAGAIN, -EINPROGRESS or -EALREADY instead), signals, SO_RCVTIMEO,
/// file flags, fd passing. Results are counts or -errno with Linux's values (see
/// <see cref="Sentry.Platform.Errno"/>), never exceptions for anything the application can cause.
/// Calls may come from several task threads at once; an implementation locks as it needs.
/// </summary>
public interface IEndpoint
{
    /// <summary>AF_INET or AF_INET6.</summary>
    int Family { get; }
    /// <summary>SOCK_STREAM, SOCK_DGRAM or SOCK_RAW (without SOCK_NONBLOCK/SOCK_CLOEXEC).</summary>
    int Type { get; }
    /// <summary>IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6 ... (resolved, never 0).</summary>
    int Protocol { get; }

    /// <summary>
    /// Told whenever the readiness may have changed (data arrived, room appeared, the peer closed,
    /// a connection completed or failed), with the poll bits that became true. Called from
    /// whatever thread moved the state (a stack worker, a timer, or the caller itself), never
    /// under a lock the caller of this interface could hold.
    /// </summary>
    IEndpointListener? Listener { get; set; }

    /// <summary>The poll(2) bits that hold now: POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLRDHUP.</summary>
    int Readiness { get; }

    long Bind(in SockAddrInet address);
    long Listen(int backlog);

    /// <summary>
    /// Starts or checks a connection: 0 when connected (at once for datagram sockets), -EINPROGRESS
    /// when started (POLLOUT and SO_ERROR then tell the result), -EALREADY while one is under way,
    /// -EISCONN once connected, or the error. An AF_UNSPEC <paramref name="address"/> is not passed
    /// here: the kernel calls <see cref="Disconnect"/>.
    /// </summary>
    long Connect(in SockAddrInet address);

    /// <summary>connect(AF_UNSPEC): dissolves a datagram association (a stream gets what Linux gives).</summary>
    long Disconnect();

    /// <summary>Takes one connection off the accept queue, or -EAGAIN (-EINVAL when not listening).</summary>
    long Accept(out IEndpoint? accepted, out SockAddrInet peer);

    /// <summary>
    /// Queues what it can of <paramref name="data"/>: the count taken, -EAGAIN when none fits,
    /// -EPIPE after a write shutdown or reset (the kernel raises SIGPIPE), -EMSGSIZE for a datagram
    /// too large. <paramref name="flags"/> are MSG_* bits (MSG_MORE, MSG_OOB ...; MSG_DONTWAIT and
    /// MSG_NOSIGNAL are the kernel's). <paramref name="to"/> is used when <paramref name="hasTo"/>.
    /// </summary>
    long Send(ReadOnlySpan<byte> data, int flags, bool hasTo, in SockAddrInet to);

    /// <summary>
    /// Receives into <paramref name="buffer"/>: the count (a datagram's full length with MSG_TRUNC),
    /// 0 at end of stream, -EAGAIN when nothing is there yet, or a pending error (-ECONNRESET ...).
    /// <paramref name="from"/> is the sender (datagrams) or peer. <paramref name="truncated"/> says
    /// a datagram was cut short (the kernel sets MSG_TRUNC in msg_flags).
    /// </summary>
    long Receive(Span<byte> buffer, int flags, out SockAddrInet from, out bool truncated);

    /// <summary>shutdown(2) with SHUT_RD, SHUT_WR or SHUT_RDWR.</summary>
    long Shutdown(int how);

    long GetLocalAddress(out SockAddrInet address);
    /// <summary>The peer, or -ENOTCONN.</summary>
    long GetPeerAddress(out SockAddrInet address);

    /// <summary>
    /// getsockopt for the levels a stack knows (SOL_SOCKET options about buffers, errors and
    /// keepalive; IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP): writes the value and
    /// returns its length, or -ENOPROTOOPT. The kernel answers SO_TYPE, SO_DOMAIN, SO_PROTOCOL,
    /// SO_RCVTIMEO and SO_SNDTIMEO itself.
    /// </summary>
    long GetOption(int level, int name, Span<byte> value);
    /// <summary>setsockopt; -EINVAL for a short value, -ENOPROTOOPT for an unknown option.</summary>
    long SetOption(int level, int name, ReadOnlySpan<byte> value);

    /// <summary>Bytes ready to read (FIONREAD/SIOCINQ): a datagram socket gives the next datagram's size.</summary>
    int Available { get; }
    /// <summary>Bytes sent but not yet acknowledged or not yet sent (TIOCOUTQ/SIOCOUTQ).</summary>
    int Unsent { get; }

    /// <summary>
    /// The last close of the socket. Never blocks: a stream finishes sending and closing in the
    /// background as Linux does (SO_LINGER with a zero time resets instead).
    /// </summary>
    void Close();
}

/// <summary>Hears readiness changes of an <see cref="IEndpoint"/> (the kernel's socket file wakes its waiters).</summary>
public interface IEndpointListener
{
    void OnReadiness(int events);
}

/// <summary>
/// Optional for an <see cref="IEndpoint"/>: sends and receives with control messages (struct
/// cmsghdr sequences as sendmsg/recvmsg carry them: IP_PKTINFO, IP_TOS, IP_TTL, IPV6_PKTINFO,
/// IPV6_HOPLIMIT, IPV6_TCLASS, SO_TIMESTAMP ...). An endpoint without it ignores control data on
/// send and gives none on receive. Never file descriptors: SCM_RIGHTS is the kernel's, and an
/// inet socket refuses it.
/// </summary>
public interface IEndpointAncillary
{
    /// <summary><see cref="IEndpoint.Send"/> with the control messages in <paramref name="control"/> (-EINVAL for one the stack does not take).</summary>
    long Send(ReadOnlySpan<byte> data, int flags, bool hasTo, in SockAddrInet to, ReadOnlySpan<byte> control);

    /// <summary>
    /// <see cref="IEndpoint.Receive"/> that also writes the control messages of what it received
    /// into <paramref name="control"/>: their length in <paramref name="controlLength"/>,
    /// <paramref name="controlTruncated"/> when some did not fit (MSG_CTRUNC).
    /// </summary>
    long Receive(Span<byte> buffer, int flags, out SockAddrInet from, out bool truncated, Span<byte> control, out int controlLength, out bool controlTruncated);
}
