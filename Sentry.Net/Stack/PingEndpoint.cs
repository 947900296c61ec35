using System.Buffers;
using System.Buffers.Binary;
using static Sentry.Platform.Errno;

namespace Sentry.Net.Stack;

/// <summary>
/// A ping socket (SOCK_DGRAM, IPPROTO_ICMP / IPPROTO_ICMPV6): sends echo requests with the
/// socket's identifier in place of the one given, receives the matching echo replies.
/// </summary>
internal sealed class PingEndpoint : InetEndpoint
{
    readonly record struct Datagram(byte[] Buf, int Length, Addr From);
    readonly Queue<Datagram> _queue = new();
    int _queued;
    bool _connected, _closed;

    public PingEndpoint(NetworkStack stack, int family) : base(stack, family, K.RmemDefault, K.WmemDefault) { }

    public override int Type => K.SOCK_DGRAM;
    public override int Protocol => Family == SockAddrInet.AF_INET ? K.IPPROTO_ICMP : K.IPPROTO_ICMPV6;
    bool V4 => Family == SockAddrInet.AF_INET;

    public override int Readiness
    {
        get
        {
            lock (Lock)
            {
                int m = K.POLLOUT | K.POLLWRNORM;
                if (_queue.Count > 0) m |= K.POLLIN | K.POLLRDNORM;
                if (SoError != 0) m |= K.POLLERR;
                if ((ShutdownBits & RcvShutdown) != 0) m |= K.POLLIN | K.POLLRDNORM | K.POLLRDHUP;
                if (ShutdownBits == 3) m |= K.POLLHUP;
                return m;
            }
        }
    }

    public override long Bind(in SockAddrInet address)
    {
        int r = CheckBindAddress(address, out var addr, allowMulticast: false);
        if (r < 0) return r;
        lock (Lock)
        {
            if (Bound || _closed) return -EINVAL;
            LocalAddr = addr;
            r = TakeId(address.Port);
            if (r < 0) { LocalAddr = Family == SockAddrInet.AF_INET ? Addr.V4Any : Addr.V6Any; return r; }
            BoundPortByUser = address.Port != 0;
        }
        return 0;
    }

    int TakeId(ushort want)
    {
        lock (Stack.TableLock)
        {
            if (want != 0)
            {
                if (Stack.PingIds.TryGetValue(want, out var l) && l.Any(p => NetworkStack.Overlap(p.LocalAddr, p.OptV6Only, LocalAddr, OptV6Only))) return -EADDRINUSE;
                Add(want);
                return 0;
            }
            int start = Stack.RandomInt(65535);
            for (int i = 0; i < 65535; i++)
            {
                ushort id = (ushort)(1 + (start + i) % 65535);
                if (Stack.PingIds.ContainsKey(id)) continue;
                Add(id);
                return 0;
            }
            return -EAGAIN;
        }
    }

    void Add(ushort id)
    {
        if (!Stack.PingIds.TryGetValue(id, out var l)) Stack.PingIds[id] = l = new List<PingEndpoint>(1);
        l.Add(this);
        LocalPort = id;
        Bound = true;
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
            if (Stack.Route(dst, out _, out var src) < 0) return -ENETUNREACH;
            if (!Bound && (r = TakeId(0)) < 0) return r;
            if (LocalAddr.IsAny) LocalAddr = src;
            RemoteAddr = dst;
            _connected = true;
        }
        return 0;
    }

    public override long Disconnect()
    {
        lock (Lock) { _connected = false; RemoteAddr = V4 ? Addr.V4Any : Addr.V6Any; }
        return 0;
    }

    public override long GetPeerAddress(out SockAddrInet address)
    {
        lock (Lock)
        {
            address = default;
            if (!_connected) return -ENOTCONN;
            address = Sock(RemoteAddr, 0);
            return 0;
        }
    }

    public override long Send(ReadOnlySpan<byte> data, int flags, bool hasTo, in SockAddrInet to)
    {
        Addr dst = default;
        if (hasTo)
        {
            int r = ResolvePeer(to, out dst);
            if (r < 0) return r;
            dst = AnyToLoopback(dst);
        }
        if (data.Length < 8) return -EINVAL;
        if (data[0] != (V4 ? 8 : 128) || data[1] != 0) return -EINVAL;
        if (data.Length > 65507) return -EMSGSIZE;
        lock (Lock)
        {
            if (_closed) return -EBADF;
            if (!hasTo)
            {
                if (!_connected) return -EDESTADDRREQ;
                dst = RemoteAddr;
            }
            if (dst.IsV4 != V4) return -EINVAL;
            int r = Stack.Route(dst, out var nic, out var src);
            if (r < 0) return r;
            if (!LocalAddr.IsAny) src = LocalAddr;
            if (!Bound && (r = TakeId(0)) < 0) return r;
            var buf = NetworkStack.RentPacket(data.Length, out int off);
            var m = buf.AsSpan(off, data.Length);
            data.CopyTo(m);
            BinaryPrimitives.WriteUInt16BigEndian(m[4..], LocalPort);
            m[2] = 0; m[3] = 0;
            uint sum = V4 ? Checksum.Sum(m) : Checksum.Sum(m, Checksum.Pseudo(src, dst, K.IPPROTO_ICMPV6, m.Length));
            BinaryPrimitives.WriteUInt16BigEndian(m[2..], Checksum.Finish(sum));
            Interlocked.Increment(ref Stack.Stats.IcmpOutMsgs);
            Stack.SendIp(nic!, src, dst, V4 ? K.IPPROTO_ICMP : K.IPPROTO_ICMPV6, buf, off, data.Length, HopLimit, Tos);
        }
        Stack.Pump();
        return data.Length;
    }

    public override long Receive(Span<byte> buffer, int flags, out SockAddrInet from, out bool truncated)
    {
        from = default; truncated = false;
        if ((flags & K.MSG_OOB) != 0) return -EOPNOTSUPP;
        if ((flags & K.MSG_ERRQUEUE) != 0) return -EAGAIN;
        Datagram d;
        lock (Lock)
        {
            if (SoError != 0) { int e = SoError; SoError = 0; return -e; }
            if (_queue.Count == 0) return (ShutdownBits & RcvShutdown) != 0 ? 0 : -EAGAIN;
            bool peek = (flags & K.MSG_PEEK) != 0;
            d = peek ? _queue.Peek() : _queue.Dequeue();
            if (!peek) _queued -= d.Length + 320;
            int n = Math.Min(buffer.Length, d.Length);
            d.Buf.AsSpan(0, n).CopyTo(buffer);
            from = Sock(d.From, 0);
            truncated = d.Length > buffer.Length;
            if (peek) return (flags & K.MSG_TRUNC) != 0 ? d.Length : n;
        }
        ArrayPool<byte>.Shared.Return(d.Buf);
        return (flags & K.MSG_TRUNC) != 0 ? d.Length : Math.Min(buffer.Length, d.Length);
    }

    internal static void Receive(NetworkStack stack, Addr src, Addr dst, ReadOnlySpan<byte> m)
    {
        ushort id = BinaryPrimitives.ReadUInt16BigEndian(m[4..]);
        PingEndpoint? p = null;
        lock (stack.TableLock)
        {
            if (stack.PingIds.TryGetValue(id, out var l))
                foreach (var x in l)
                {
                    if (x.V4 != src.IsV4) continue;
                    if (!x.LocalAddr.IsAny && x.LocalAddr != dst) continue;
                    p = x; break;
                }
        }
        if (p == null) return;
        lock (p.Lock)
        {
            if (p._closed || p._queued > p.SoRcvbuf) return;
            if (p._connected && p.RemoteAddr != src) return;
            var buf = ArrayPool<byte>.Shared.Rent(m.Length);
            m.CopyTo(buf);
            p._queue.Enqueue(new Datagram(buf, m.Length, src));
            p._queued += m.Length + 320;
        }
        p.Notify(K.POLLIN | K.POLLRDNORM);
    }

    public override long Shutdown(int how)
    {
        if (how < 0 || how > 2) return -EINVAL;
        lock (Lock) ShutdownBits |= how + 1;
        Notify(Readiness);
        return _connected ? 0 : -ENOTCONN;
    }

    public override int Available { get { lock (Lock) return _queue.Count > 0 ? _queue.Peek().Length : 0; } }
    public override int Unsent => 0;

    public override void Close()
    {
        lock (Lock)
        {
            if (_closed) return;
            _closed = true;
            if (Bound)
                lock (Stack.TableLock)
                    if (Stack.PingIds.TryGetValue(LocalPort, out var l)) { l.Remove(this); if (l.Count == 0) Stack.PingIds.Remove(LocalPort); }
            while (_queue.Count > 0) ArrayPool<byte>.Shared.Return(_queue.Dequeue().Buf);
        }
    }
}
