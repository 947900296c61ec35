using System.Buffers;
using System.Buffers.Binary;
using static Sentry.Platform.Errno;

namespace Sentry.Net.Stack;

/// <summary>A UDP socket.</summary>
internal sealed class UdpEndpoint : InetEndpoint, IEndpointAncillary
{
    /// <summary>A queued datagram, with what its control messages tell: the header's destination, the interface it came in on, its TTL.</summary>
    readonly record struct Datagram(byte[] Buf, int Length, Addr From, ushort FromPort, int Charge, Addr To, int NicIndex, byte Ttl);

    readonly Queue<Datagram> _queue = new();
    int _queued; // bytes charged against SO_RCVBUF
    bool _connected, _closed;

    public UdpEndpoint(NetworkStack stack, int family) : base(stack, family, K.RmemDefault, K.WmemDefault) { }

    public override int Type => K.SOCK_DGRAM;
    public override int Protocol => K.IPPROTO_UDP;

    public override int Readiness
    {
        get
        {
            lock (Lock) return ReadinessLocked();
        }
    }

    int ReadinessLocked()
    {
        int m = 0;
        if (SoError != 0) m |= K.POLLERR;
        if (ShutdownBits == (RcvShutdown | SendShutdown)) m |= K.POLLHUP;
        if ((ShutdownBits & RcvShutdown) != 0) m |= K.POLLIN | K.POLLRDNORM | K.POLLRDHUP;
        if (_queue.Count > 0) m |= K.POLLIN | K.POLLRDNORM;
        m |= K.POLLOUT | K.POLLWRNORM; // sends never wait for room: the datagram is gone when Send returns
        return m;
    }

    internal SocketInfo Info() { lock (Lock) return new(Sock(LocalAddr, LocalPort), Sock(RemoteAddr, RemotePort), _connected ? 1 : 7, 0, _queued, 0, 0); }

    public override long Bind(in SockAddrInet address)
    {
        int r = CheckBindAddress(address, out var addr, allowMulticast: true);
        if (r < 0) return r;
        lock (Lock)
        {
            if (Bound || _closed) return -EINVAL;
            lock (Stack.TableLock)
            {
                var old = LocalAddr;
                LocalAddr = addr;
                r = Stack.BindPort(Stack.UdpPorts, this, addr, address.Port, tcp: false, out var port);
                if (r < 0) { LocalAddr = old; return r; }
                LocalPort = port;
                Bound = true;
                BoundPortByUser = address.Port != 0;
                BoundAddrByUser = !addr.IsAny;
            }
        }
        return 0;
    }

    /// <summary>Takes an ephemeral port if not bound yet. Caller holds Lock.</summary>
    int AutoBind()
    {
        if (Bound) return 0;
        lock (Stack.TableLock)
        {
            int r = Stack.BindPort(Stack.UdpPorts, this, LocalAddr, 0, tcp: false, out var port);
            if (r < 0) return -EAGAIN;
            LocalPort = port;
            Bound = true;
        }
        return 0;
    }

    public override long Listen(int backlog) => -EOPNOTSUPP;
    public override long Accept(out IEndpoint? accepted, out SockAddrInet peer) { accepted = null; peer = default; return -EOPNOTSUPP; }

    public override long Connect(in SockAddrInet address)
    {
        int r = ResolvePeer(address, out var dst);
        if (r < 0) return r;
        dst = AnyToLoopback(dst);
        lock (Lock)
        {
            if (_closed) return -EBADF;
            if (Stack.Route(dst, out _, out var src) < 0) return -ENETUNREACH;
            if (LocalAddr.IsAny && !dst.IsV4 && LocalAddr.IsV4) return -EINVAL;
            if (!LocalAddr.IsAny && LocalAddr.IsV4 != dst.IsV4) return -EINVAL;
            r = AutoBind();
            if (r < 0) return r;
            lock (Stack.TableLock)
            {
                if (LocalAddr.IsAny) LocalAddr = src;
                RemoteAddr = dst;
                RemotePort = address.Port;
                _connected = true;
            }
            SoError = 0;
        }
        return 0;
    }

    public override long Disconnect()
    {
        lock (Lock)
        lock (Stack.TableLock)
        {
            _connected = false;
            RemoteAddr = Family == SockAddrInet.AF_INET ? Addr.V4Any : Addr.V6Any;
            RemotePort = 0;
            if (!BoundAddrByUser) LocalAddr = Family == SockAddrInet.AF_INET ? Addr.V4Any : Addr.V6Any;
            if (!BoundPortByUser && Bound)
            {
                NetworkStack.Remove(Stack.UdpPorts, LocalPort, this);
                LocalPort = 0;
                Bound = false;
            }
        }
        return 0;
    }

    public override long GetPeerAddress(out SockAddrInet address)
    {
        lock (Lock)
        {
            address = default;
            if (!_connected) return -ENOTCONN;
            address = Sock(RemoteAddr, RemotePort);
            return 0;
        }
    }

    public override long Send(ReadOnlySpan<byte> data, int flags, bool hasTo, in SockAddrInet to) => Send(data, flags, hasTo, to, -1);

    /// <summary>sendmsg with control messages: IP_TTL / IPV6_HOPLIMIT set this datagram's hop limit; IP_PKTINFO, IPV6_PKTINFO, IP_TOS and IPV6_TCLASS are taken.</summary>
    public long Send(ReadOnlySpan<byte> data, int flags, bool hasTo, in SockAddrInet to, ReadOnlySpan<byte> control)
    {
        int hops = -1;
        while (control.Length >= 16)
        {
            long len = BinaryPrimitives.ReadInt64LittleEndian(control);
            int level = BinaryPrimitives.ReadInt32LittleEndian(control[8..]), type = BinaryPrimitives.ReadInt32LittleEndian(control[12..]);
            if (len < 16 || len > control.Length) return -EINVAL;
            var value = control[16..(int)len];
            bool ttl = (level == K.IPPROTO_IP && type == K.IP_TTL) || (level == K.IPPROTO_IPV6 && type == IPV6_HOPLIMIT);
            if (ttl)
            {
                if (value.Length < 4) return -EINVAL;
                int v = BinaryPrimitives.ReadInt32LittleEndian(value);
                // As ip_cmsg_send / ip6_datagram_send_ctl: 1..255, and -1 for the default (IPv6).
                if (v is < 1 or > 255 && !(v == -1 && level == K.IPPROTO_IPV6)) return -EINVAL;
                hops = v;
            }
            // SOL_SOCKET's SCM_RIGHTS and SCM_CREDENTIALS belong to AF_UNIX: __sock_cmsg_send passes over them.
            else if (!((level == K.IPPROTO_IP && type is K.IP_PKTINFO or K.IP_TOS) || (level == K.IPPROTO_IPV6 && type is IPV6_PKTINFO or K.IPV6_TCLASS)
                       || (level == 1 /* SOL_SOCKET */ && type is 1 or 2)))
                return -EINVAL;
            int step = (int)((len + 7) & ~7L);
            if (step >= control.Length) break;
            control = control[step..];
        }
        return Send(data, flags, hasTo, to, hops);
    }

    long Send(ReadOnlySpan<byte> data, int flags, bool hasTo, in SockAddrInet to, int hopLimit)
    {
        if ((flags & K.MSG_OOB) != 0) return -EOPNOTSUPP;
        Addr dst;
        ushort dport;
        if (hasTo)
        {
            int r = ResolvePeer(to, out dst);
            if (r < 0) return r;
            if (to.Port == 0) return -EINVAL;
            dst = AnyToLoopback(dst);
            dport = to.Port;
        }
        else dst = default;
        int max = (hasTo ? dst.IsV4 : (_connected ? RemoteAddr.IsV4 : Family == SockAddrInet.AF_INET)) ? 65507 : 65527;
        if (data.Length > max) return -EMSGSIZE;
        lock (Lock)
        {
            if (_closed) return -EBADF;
            if (SoError != 0) { int e = SoError; SoError = 0; return -e; }
            if ((ShutdownBits & SendShutdown) != 0) return -EPIPE;
            if (!hasTo)
            {
                if (!_connected) return -EDESTADDRREQ;
                dst = RemoteAddr;
                dport = RemotePort;
            }
            else dport = to.Port;
            if ((dst.IsV4Broadcast) && !OptBroadcast) return -EACCES;
            int r = Stack.Route(dst, out var nic, out var src);
            if (r < 0) return r;
            if (!LocalAddr.IsAny)
            {
                if (LocalAddr.IsV4 != dst.IsV4) return LocalAddr.IsV4 ? -EAFNOSUPPORT : -ENETUNREACH;
                if (!LocalAddr.IsMulticast) src = LocalAddr;
            }
            r = AutoBind();
            if (r < 0) return r;
            int len = 8 + data.Length;
            var buf = NetworkStack.RentPacket(len, out int off);
            var u = buf.AsSpan(off, len);
            BinaryPrimitives.WriteUInt16BigEndian(u, LocalPort);
            BinaryPrimitives.WriteUInt16BigEndian(u[2..], dport);
            BinaryPrimitives.WriteUInt16BigEndian(u[4..], (ushort)len);
            u[6] = 0; u[7] = 0;
            data.CopyTo(u[8..]);
            if (!nic!.Offload)
            {
                ushort c = Checksum.Finish(Checksum.Sum(u, Checksum.Pseudo(src, dst, K.IPPROTO_UDP, len)));
                if (c == 0) c = 0xFFFF;
                BinaryPrimitives.WriteUInt16BigEndian(u[6..], c);
            }
            Interlocked.Increment(ref Stack.Stats.UdpOutDatagrams);
            Stack.SendIp(nic, src, dst, K.IPPROTO_UDP, buf, off, len, hopLimit > 0 ? hopLimit : HopLimit, Tos);
        }
        Stack.Pump();
        return data.Length;
    }

    public override long Receive(Span<byte> buffer, int flags, out SockAddrInet from, out bool truncated) =>
        Receive(buffer, flags, out from, out truncated, default, out _, out _);

    const int IPV6_PKTINFO = 50, IPV6_HOPLIMIT = 52, IPV6_RECVHOPLIMIT = 51;

    /// <summary>
    /// recvmsg with control messages, in the order Linux writes them: IP_PKTINFO then IP_TTL
    /// (IP_PKTINFO, IP_RECVTTL set), IPV6_PKTINFO then IPV6_HOPLIMIT (IPV6_RECVPKTINFO,
    /// IPV6_RECVHOPLIMIT), each cut short with MSG_CTRUNC as put_cmsg does when it does not fit.
    /// </summary>
    public long Receive(Span<byte> buffer, int flags, out SockAddrInet from, out bool truncated, Span<byte> control, out int controlLength, out bool controlTruncated)
    {
        from = default; truncated = false; controlLength = 0; controlTruncated = false;
        if ((flags & K.MSG_OOB) != 0) return -EOPNOTSUPP;
        if ((flags & K.MSG_ERRQUEUE) != 0) return -EAGAIN;
        Datagram d;
        lock (Lock)
        {
            // A pending error comes before queued datagrams (__skb_try_recv_datagram).
            if (SoError != 0) { int e = SoError; SoError = 0; return -e; }
            if (_queue.Count == 0) return (ShutdownBits & RcvShutdown) != 0 ? 0 : -EAGAIN;
            if ((flags & K.MSG_PEEK) != 0) d = _queue.Peek();
            else
            {
                d = _queue.Dequeue();
                _queued -= d.Charge;
            }
            int n = Math.Min(buffer.Length, d.Length);
            d.Buf.AsSpan(0, n).CopyTo(buffer);
            from = Sock(d.From, d.FromPort);
            truncated = d.Length > buffer.Length;
            if (!control.IsEmpty) controlLength = WriteControl(d, control, out controlTruncated);
            if ((flags & K.MSG_PEEK) != 0) return (flags & K.MSG_TRUNC) != 0 ? d.Length : n;
        }
        Interlocked.Add(ref Stack.Buffers.Bytes, -d.Buf.Length);
        ArrayPool<byte>.Shared.Return(d.Buf);
        return (flags & K.MSG_TRUNC) != 0 ? d.Length : Math.Min(buffer.Length, d.Length);
    }

    int WriteControl(in Datagram d, Span<byte> control, out bool cut)
    {
        cut = false;
        int at = 0;
        Span<byte> value = stackalloc byte[20];
        if (Family == SockAddrInet.AF_INET)
        {
            if (GetInt(K.IPPROTO_IP, K.IP_PKTINFO) != 0)
            {
                // struct in_pktinfo: the interface, the local address it reached (spec_dst), the header's destination.
                BinaryPrimitives.WriteInt32LittleEndian(value, d.NicIndex);
                BinaryPrimitives.WriteUInt32BigEndian(value[4..], d.To.V4Value);
                BinaryPrimitives.WriteUInt32BigEndian(value[8..], d.To.V4Value);
                at = PutCmsg(control, at, K.IPPROTO_IP, K.IP_PKTINFO, value[..12], ref cut);
            }
            if (GetInt(K.IPPROTO_IP, K.IP_RECVTTL) != 0)
            {
                BinaryPrimitives.WriteInt32LittleEndian(value, d.Ttl);
                at = PutCmsg(control, at, K.IPPROTO_IP, K.IP_TTL, value[..4], ref cut);
            }
        }
        if (Family == SockAddrInet.AF_INET6)
        {
            if (GetInt(K.IPPROTO_IPV6, K.IPV6_RECVPKTINFO) != 0)
            {
                // struct in6_pktinfo: the header's destination, the interface.
                d.To.Write16(value);
                BinaryPrimitives.WriteInt32LittleEndian(value[16..], d.NicIndex);
                at = PutCmsg(control, at, K.IPPROTO_IPV6, IPV6_PKTINFO, value[..20], ref cut);
            }
            if (GetInt(K.IPPROTO_IPV6, IPV6_RECVHOPLIMIT) != 0)
            {
                BinaryPrimitives.WriteInt32LittleEndian(value, d.Ttl);
                at = PutCmsg(control, at, K.IPPROTO_IPV6, IPV6_HOPLIMIT, value[..4], ref cut);
            }
        }
        return at;
    }

    /// <summary>put_cmsg: one cmsghdr and its data at <paramref name="at"/>; what does not fit is cut (MSG_CTRUNC). Returns the new end.</summary>
    static int PutCmsg(Span<byte> control, int at, int level, int type, ReadOnlySpan<byte> data, ref bool cut)
    {
        int room = control.Length - at;
        if (room < 16) { cut = true; return at; }
        int len = 16 + data.Length;
        if (room < len) { cut = true; len = room; }
        BinaryPrimitives.WriteInt64LittleEndian(control[at..], len);
        BinaryPrimitives.WriteInt32LittleEndian(control[(at + 8)..], level);
        BinaryPrimitives.WriteInt32LittleEndian(control[(at + 12)..], type);
        data[..(len - 16)].CopyTo(control[(at + 16)..]);
        return at + Math.Min(room, (len + 7) & ~7);
    }

    public override long Shutdown(int how)
    {
        if (how < 0 || how > 2) return -EINVAL;
        int ev;
        long r;
        lock (Lock)
        {
            r = _connected ? 0 : -ENOTCONN;
            ShutdownBits |= how + 1;
            ev = ReadinessLocked();
        }
        Notify(ev);
        return r;
    }

    public override int Available
    {
        get { lock (Lock) return _queue.Count > 0 ? _queue.Peek().Length : 0; }
    }

    public override int Unsent => 0;

    public override void Close()
    {
        lock (Lock)
        {
            if (_closed) return;
            _closed = true;
            if (Bound) lock (Stack.TableLock) NetworkStack.Remove(Stack.UdpPorts, LocalPort, this);
            Bound = false;
            while (_queue.Count > 0)
            {
                var b = _queue.Dequeue().Buf;
                Interlocked.Add(ref Stack.Buffers.Bytes, -b.Length);
                ArrayPool<byte>.Shared.Return(b);
            }
            _queued = 0;
        }
    }

    // ---------------------------------------------------------------- demultiplexing

    /// <summary>The socket a datagram to dst:dport from src:sport goes to (Linux's scoring: connected and bound-to-address win).</summary>
    static UdpEndpoint? Lookup(NetworkStack stack, Addr src, ushort sport, Addr dst, ushort dport)
    {
        lock (stack.TableLock)
        {
            if (!stack.UdpPorts.TryGetValue(dport, out var owners)) return null;
            UdpEndpoint? best = null;
            int bestScore = -1, ties = 0;
            foreach (var o in owners)
            {
                var u = (UdpEndpoint)o;
                int score = u.Match(src, sport, dst);
                if (score < 0) continue;
                if (score > bestScore) { best = u; bestScore = score; ties = 1; }
                else if (score == bestScore && u.OptReusePort && best!.OptReusePort)
                {
                    // SO_REUSEPORT group: spread by the source.
                    ties++;
                    if ((uint)HashCode.Combine(src, sport) % (uint)ties == 0) best = u;
                }
            }
            return best;
        }
    }

    /// <summary>-1 when this socket does not take the datagram, else a preference score. Called under TableLock (reads fields written under it).</summary>
    int Match(Addr src, ushort sport, Addr dst)
    {
        int score = 0;
        var la = LocalAddr;
        if (Family == SockAddrInet.AF_INET && !dst.IsV4) return -1;
        if (Family == SockAddrInet.AF_INET6 && dst.IsV4 && OptV6Only) return -1;
        if (!la.IsAny)
        {
            if (la != dst) return -1;
            score += 4;
        }
        else if (la.IsV4 != dst.IsV4 && !la.IsV6Any) return -1;
        if (_connected)
        {
            if (RemoteAddr != src || RemotePort != sport) return -1;
            score += 8;
        }
        if (Family == SockAddrInet.AF_INET) score += 1; // an AF_INET socket beats a dual-stack one for IPv4
        return score;
    }

    internal static void Receive(NetworkStack stack, Nic nic, Addr src, Addr dst, ReadOnlySpan<byte> ip, ReadOnlySpan<byte> p)
    {
        if (p.Length < 8) { Interlocked.Increment(ref stack.Stats.UdpInErrors); return; }
        int len = BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
        if (len < 8 || len > p.Length) { Interlocked.Increment(ref stack.Stats.UdpInErrors); return; }
        p = p[..len];
        ushort csum = BinaryPrimitives.ReadUInt16BigEndian(p[6..]);
        if (!NetworkStack.ChecksumVerified(nic))
        {
            if (csum == 0 && !src.IsV4) { Interlocked.Increment(ref stack.Stats.UdpInErrors); return; }
            if (csum != 0 && Checksum.Finish(Checksum.Sum(p, Checksum.Pseudo(src, dst, K.IPPROTO_UDP, len))) != 0)
            { Interlocked.Increment(ref stack.Stats.UdpInErrors); return; }
        }
        ushort sport = BinaryPrimitives.ReadUInt16BigEndian(p);
        ushort dport = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
        var u = dport == 0 ? null : Lookup(stack, src, sport, dst, dport);
        if (u == null)
        {
            Interlocked.Increment(ref stack.Stats.UdpNoPorts);
            if (!dst.IsMulticast && !dst.IsV4Broadcast)
            {
                if (src.IsV4) stack.SendIcmpError(src, dst, 3, 3, ip);
                else stack.SendIcmpError(src, dst, 1, 4, ip);
            }
            return;
        }
        u.Enqueue(src, sport, p[8..], dst, nic.Index, src.IsV4 ? ip[8] : ip[7]);
    }

    void Enqueue(Addr src, ushort sport, ReadOnlySpan<byte> data, Addr dst, int nicIndex, byte ttl)
    {
        int charge = Math.Max(768, data.Length + 320);
        int ev;
        lock (Lock)
        {
            if (_closed) return;
            // Linux takes a datagram while the charge so far is within SO_RCVBUF (so one may overshoot it).
            if (_queued > SoRcvbuf || Stack.UnderPressure) { Interlocked.Increment(ref Stack.Stats.UdpRcvbufErrors); return; }
            var buf = ArrayPool<byte>.Shared.Rent(Math.Max(1, data.Length));
            data.CopyTo(buf);
            _queue.Enqueue(new Datagram(buf, data.Length, src, sport, charge, dst, nicIndex, ttl));
            Interlocked.Add(ref Stack.Buffers.Bytes, buf.Length);
            _queued += charge;
            Interlocked.Increment(ref Stack.Stats.UdpInDatagrams);
            ev = K.POLLIN | K.POLLRDNORM;
        }
        Notify(ev);
    }

    internal static void IcmpError(NetworkStack stack, Addr qsrc, ushort sport, Addr qdst, ushort dport, int err, bool hard)
    {
        // The quoted datagram went from us (qsrc:sport) to qdst:dport.
        UdpEndpoint? u;
        lock (stack.TableLock)
        {
            u = null;
            if (stack.UdpPorts.TryGetValue(sport, out var owners))
                foreach (var o in owners)
                {
                    var x = (UdpEndpoint)o;
                    if (x.LocalAddr.IsAny ? (x.Family == SockAddrInet.AF_INET6 || qsrc.IsV4) : x.LocalAddr == qsrc)
                    {
                        if (x._connected && (x.RemoteAddr != qdst || x.RemotePort != dport)) continue;
                        u = x;
                        if (x._connected) break;
                    }
                }
        }
        if (u == null) return;
        int ev = 0;
        lock (u.Lock)
        {
            if (!u.OptRecvErr && (!hard || !u._connected)) return;
            u.SoError = err;
            ev = K.POLLERR;
        }
        u.Notify(ev);
    }
}
