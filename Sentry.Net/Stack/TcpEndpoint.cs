using System.Buffers;
using System.Buffers.Binary;
using static Sentry.Platform.Errno;

namespace Sentry.Net.Stack;

/// <summary>TCP states with Linux's numbers (include/net/tcp_states.h).</summary>
internal enum TcpState
{
    Established = 1, SynSent = 2, SynRecv = 3, FinWait1 = 4, FinWait2 = 5, TimeWait = 6, Closed = 7,
    CloseWait = 8, LastAck = 9, Listen = 10, Closing = 11,
}

/// <summary>A TCP header as received.</summary>
internal ref struct TcpSeg
{
    public uint Seq, Ack;
    public int Flags;
    public int Window;
    public ReadOnlySpan<byte> Options, Payload;
    /// <summary>The timestamps option (RFC 7323), when present.</summary>
    public bool HasTs;
    public uint TsVal, TsEcr;
    public const int FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16, URG = 32;
    public readonly bool Has(int f) => (Flags & f) != 0;
    public readonly int Length => Payload.Length + (Has(SYN) ? 1 : 0) + (Has(FIN) ? 1 : 0);
}

/// <summary>
/// A TCP socket: a listener or one connection. RFC 793/9293 state machine, RFC 6298 RTO, NewReno
/// (RFC 6582) congestion control, RFC 7323 window scaling and timestamps (no SACK), RFC 5961 challenge ACKs,
/// Nagle, corking, delayed ACKs, keepalive, persist probes, TIME_WAIT.
/// </summary>
internal sealed class TcpEndpoint : InetEndpoint
{
    /// <summary>How long TIME_WAIT lasts (Linux: 60 s). Tests shorten it.</summary>
    internal static int TimeWaitMs = 60_000;
    internal static int FinWait2Ms = 60_000;
    const int RtoMin = 200, RtoMax = 120_000, RtoInitial = 1000, DelAckMs = 40, CorkMs = 200;
    const int MaxRetries = 15, SynRetriesDefault = 6, SynAckRetries = 5;
    /// <summary>Data a socket may buffer when the application did not set SO_RCVBUF/SO_SNDBUF (Linux autotunes to MBs).</summary>
    const int AutoRcv = 1 << 20, AutoSnd = 1 << 20;
    const int MaxOoo = 64;

    TcpState _state = TcpState.Closed;
    enum SockState { Unconnected, Connecting, Connected }
    SockState _sock;

    // Listener.
    int _backlog;
    Queue<TcpEndpoint>? _acceptQueue;
    HashSet<TcpEndpoint>? _synChildren;
    TcpEndpoint? _parent;
    volatile int _acceptCount;

    // Route.
    Nic? _nic;

    // Send side: _snd holds bytes from _sndUna (data only; SYN/FIN take sequence numbers but no bytes).
    readonly ByteRing _snd;
    uint _iss, _sndUna, _sndNxt, _sndMax, _sndWl1, _sndWl2;
    long _sndWnd;
    int _sndWscale = -1, _rcvWscale;
    int _sndMss = 536, _peerMss = 536, _userMss;
    /// <summary>
    /// The MSS getsockopt reports: Linux bounds its mss_cache by half the largest window seen at the
    /// handshake (tcp_bound_to_half_wnd), so a fresh connection on lo says 32741. Segments are still
    /// cut at _sndMss, as Linux's GSO on lo sends 64 KiB ones.
    /// </summary>
    int _reportMss;
    bool _finQueued, _synAcked;
    uint _finSeq;
    bool _wantWrite;
    /// <summary>The end of the last segment shorter than the MSS that was sent (Minshall's Nagle).</summary>
    uint _sndSml;

    // Receive side.
    readonly ByteRing _rcv;
    uint _irs, _rcvNxt, _rcvAdv, _lastAckSent;
    bool _finReceived;
    List<(uint Seq, byte[] Buf, int Len, bool Fin)>? _ooo;
    int _oooBytes;
    int _ackPending, _quickAcks = 16;
    long _lastDataAt;

    // Congestion and RTT.
    long _cwnd, _ssthresh = int.MaxValue;
    int _dupAcks;
    bool _inRecovery;
    uint _recover;
    double _srtt = -1, _rttvar;
    int _rto = RtoInitial;
    bool _timing;
    uint _rttSeq;
    long _rttStart;
    int _retries, _backoff;
    long _retransTotal;

    // Deadlines (ms; long.MaxValue: off).
    long _rtoAt = long.MaxValue, _delackAt = long.MaxValue, _keepAt = long.MaxValue, _twAt = long.MaxValue,
        _persistAt = long.MaxValue, _corkAt = long.MaxValue, _fin2At = long.MaxValue;
    long _lastRecv, _lastSend;
    int _keepProbes;

    // Options.
    bool _noDelay, _cork, _msgMore, _userClosed;
    int _keepIdle = 7200, _keepIntvl = 75, _keepCnt = 9, _synRetries = SynRetriesDefault, _linger2, _userTimeout, _notSentLowat = -1;
    bool _quickAckOpt = true;
    int _deferAccept, _windowClamp;

    public TcpEndpoint(NetworkStack stack, int family) : base(stack, family, K.TcpRmemDefault, K.TcpWmemDefault)
    {
        _snd = new ByteRing(stack.Buffers);
        _rcv = new ByteRing(stack.Buffers);
    }

    public override int Type => K.SOCK_STREAM;
    public override int Protocol => K.IPPROTO_TCP;
    public override bool IsListening => _state == TcpState.Listen;
    public override bool IsTimeWait => _state == TcpState.TimeWait;
    internal TcpState State => _state;

    /// <summary>
    /// Data the receive ring may hold: half of a set SO_RCVBUF (Linux keeps half for overhead), or
    /// the autotuning ceiling; under memory pressure (all sockets' buffers past the stack's limit)
    /// no more than it holds now or 4 KiB, so windows close instead of memory growing.
    /// </summary>
    int RcvCapacity
    {
        get
        {
            int c = RcvbufLocked ? Math.Max(SoRcvbuf / 2, 1024) : Math.Max(AutoRcv, SoRcvbuf);
            return Stack.UnderPressure ? Math.Min(c, Math.Max(_rcv.Count, 4096)) : c;
        }
    }

    int SndCapacity
    {
        get
        {
            int c = SndbufLocked ? SoSndbuf : Math.Max(AutoSnd, SoSndbuf);
            return Stack.UnderPressure ? Math.Min(c, Math.Max(_snd.Count, 4096)) : c;
        }
    }

    internal SocketInfo Info()
    {
        lock (Lock)
        {
            // A listener shows its accept queue and backlog, as /proc/net/tcp does.
            int txq = _state == TcpState.Listen ? _backlog : _snd.Count;
            int rxq = _state == TcpState.Listen ? _acceptCount : _rcv.Count;
            return new SocketInfo(Sock(LocalAddr, LocalPort), Sock(RemoteAddr, RemotePort), (int)_state, txq, rxq, 0, 0);
        }
    }

    // ================================================================ readiness

    public override int Readiness { get { lock (Lock) return ReadinessLocked(); } }

    int ReadinessLocked()
    {
        if (_state == TcpState.Listen) return _acceptCount > 0 ? K.POLLIN | K.POLLRDNORM : 0;
        int m = 0;
        if (ShutdownBits == (RcvShutdown | SendShutdown) || _state == TcpState.Closed) m |= K.POLLHUP;
        if ((ShutdownBits & RcvShutdown) != 0) m |= K.POLLIN | K.POLLRDNORM | K.POLLRDHUP;
        if (_state != TcpState.SynSent && _state != TcpState.SynRecv)
        {
            if (_rcv.Count > 0 && _rcv.Count >= Math.Min(RcvLowat, Math.Max(1, RcvCapacity / 2))) m |= K.POLLIN | K.POLLRDNORM;
            if ((ShutdownBits & SendShutdown) == 0)
            {
                if (Writable) m |= K.POLLOUT | K.POLLWRNORM;
                else _wantWrite = true;
            }
            else m |= K.POLLOUT | K.POLLWRNORM;
        }
        if (SoError != 0) m |= K.POLLERR;
        return m;
    }

    /// <summary>Linux's sk_stream_is_writeable: free space at least half of what is queued.</summary>
    bool Writable
    {
        get
        {
            int used = _snd.Count;
            int free = SndCapacity - used;
            if (free < used / 2 || free <= 0) return false;
            if (_notSentLowat >= 0 && (int)(_sndUna + (uint)used - _sndNxt) >= _notSentLowat) return false;
            return true;
        }
    }

    // ================================================================ bind / listen / connect

    public override long Bind(in SockAddrInet address)
    {
        int r = CheckBindAddress(address, out var addr, allowMulticast: false);
        if (r < 0) return r;
        lock (Lock)
        {
            if (Bound || _state != TcpState.Closed) return -EINVAL;
            lock (Stack.TableLock)
            {
                var old = LocalAddr;
                LocalAddr = addr;
                r = Stack.BindPort(Stack.TcpPorts, this, addr, address.Port, tcp: true, out var port);
                if (r < 0) { LocalAddr = old; return r; }
                LocalPort = port;
                Bound = true;
                BoundPortByUser = true;
                BoundAddrByUser = !addr.IsAny;
            }
        }
        return 0;
    }

    public override long Listen(int backlog)
    {
        if ((uint)backlog > K.SoMaxConn) backlog = K.SoMaxConn;
        lock (Lock)
        {
            if (_state == TcpState.Listen) { _backlog = backlog; return 0; }
            if (_state != TcpState.Closed || _sock != SockState.Unconnected) return -EINVAL;
            lock (Stack.TableLock)
            {
                if (!Bound)
                {
                    int r = Stack.BindPort(Stack.TcpPorts, this, LocalAddr, 0, tcp: true, out var port);
                    if (r < 0) return -EADDRINUSE;
                    LocalPort = port;
                    Bound = true;
                }
                else
                {
                    Stack.TcpPorts.TryGetValue(LocalPort, out var owners);
                    _state = TcpState.Listen; // as a listener: others with SO_REUSEADDR no longer excuse it
                    bool conflict = ConflictsAsListener(owners);
                    _state = TcpState.Closed;
                    if (conflict) return -EADDRINUSE;
                }
                _state = TcpState.Listen;
                _backlog = backlog;
                _acceptQueue ??= new Queue<TcpEndpoint>();
                _synChildren ??= new HashSet<TcpEndpoint>();
                if (!Stack.TcpListeners.TryGetValue(LocalPort, out var l)) Stack.TcpListeners[LocalPort] = l = new List<TcpEndpoint>(1);
                l.Add(this);
            }
        }
        return 0;
    }

    bool ConflictsAsListener(List<IPortOwner>? owners)
    {
        if (owners == null) return false;
        foreach (var o in owners)
        {
            if (ReferenceEquals(o, this)) continue;
            if (!NetworkStack.Overlap(LocalAddr, OptV6Only, o.BoundAddress, o.V6Only)) continue;
            if (OptReuseAddr && o.ReuseAddr && !o.IsListening) continue;
            if (OptReusePort && o.ReusePort) continue;
            // Connections accepted from an earlier listener on this port do not stop a new listener
            // whose socket and theirs have SO_REUSEADDR.
            return true;
        }
        return false;
    }

    public override long Connect(in SockAddrInet address)
    {
        int r = ResolvePeer(address, out var dst);
        if (r < 0) return r;
        dst = AnyToLoopback(dst);
        int ev = 0;
        long result;
        lock (Lock)
        {
            switch (_sock)
            {
                case SockState.Connected:
                    return -EISCONN;
                case SockState.Connecting:
                    if (_state is TcpState.SynSent or TcpState.SynRecv) return -EALREADY;
                    if (_state == TcpState.Closed)
                    {
                        int e = SoError != 0 ? SoError : ECONNABORTED;
                        SoError = 0;
                        _sock = SockState.Unconnected;
                        ResetForReuse();
                        return -e;
                    }
                    _sock = SockState.Connected;
                    return 0;
            }
            if (_state != TcpState.Closed) return -EISCONN;
            if (dst.IsMulticast || dst.IsV4Broadcast) return -ENETUNREACH;
            if (!LocalAddr.IsAny && LocalAddr.IsV4 != dst.IsV4) return Family == SockAddrInet.AF_INET6 && LocalAddr.IsV4 ? -EAFNOSUPPORT : -ENETUNREACH;
            r = Stack.Route(dst, out var nic, out var src);
            if (r < 0) return r;
            if (!LocalAddr.IsAny) src = LocalAddr;
            lock (Stack.TableLock)
            {
                if (!Bound)
                {
                    r = PickConnectPort(src, dst, address.Port, out var port);
                    if (r < 0) return r;
                    LocalPort = port;
                    Bound = true;
                }
                var key = new FourTuple(src, LocalPort, dst, address.Port);
                if (Stack.TcpConns.TryGetValue(key, out var existing))
                {
                    if (existing._state != TcpState.TimeWait) return -EADDRNOTAVAIL;
                    existing.KillTimeWaitLocked();
                }
                LocalAddr = src;
                RemoteAddr = dst;
                RemotePort = address.Port;
                Stack.TcpConns[key] = this;
                Stack.TcpCount++;
            }
            _nic = nic;
            InitSend();
            _state = TcpState.SynSent;
            _sock = SockState.Connecting;
            SoError = 0;
            ShutdownBits = 0;
            SendSyn(ack: false);
            ArmRto();
            ArmTimers();
            result = -EINPROGRESS;
            ev = 0;
        }
        Stack.Pump();
        Notify(ev);
        return result;
    }

    /// <summary>
    /// A local port for connect() on an unbound socket (Linux's __inet_hash_connect): one not bound
    /// by bind() and with no connection of the same four-tuple. Caller holds TableLock.
    /// </summary>
    int PickConnectPort(Addr src, Addr dst, ushort dport, out ushort port)
    {
        int range = K.EphemeralHigh - K.EphemeralLow + 1;
        int start = Stack.RandomInt(range);
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < range; i++)
            {
                ushort p = (ushort)(K.EphemeralLow + (start + i) % range);
                Stack.TcpPorts.TryGetValue(p, out var owners);
                if (pass == 0 && owners != null && owners.Count > 0) continue;
                if (owners != null)
                {
                    bool ok = true;
                    foreach (var o in owners)
                        if (o.ExplicitBind || o.IsListening) { ok = false; break; }
                    if (!ok) continue;
                    if (Stack.TcpConns.TryGetValue(new FourTuple(src, p, dst, dport), out var c) && c._state != TcpState.TimeWait) continue;
                }
                NetworkStack.Add(Stack.TcpPorts, p, this);
                port = p;
                return 0;
            }
        port = 0;
        return -EADDRNOTAVAIL;
    }

    void InitSend()
    {
        _iss = Stack.RandomUInt();
        _tsOffset = Stack.RandomUInt();
        _sndUna = _iss; _sndNxt = _iss; _sndMax = _iss; _sndSml = _iss;
        _synAcked = false;
        _finQueued = false;
        _ourMss = OurMss();
        _sndMss = Math.Min(536, _ourMss);
        _cwnd = 10L * _sndMss;
        _rcvWscale = ChooseRcvWscale();
    }

    int _ourMss;

    int OurMss()
    {
        int mtu = _nic?.Link.Mtu ?? 1500;
        int m = RemoteAddr.IsV4 ? Math.Min(mtu, 65535) - 40 : mtu - 60;
        if (_userMss > 0) m = Math.Min(m, _userMss);
        return Math.Max(m, 88);
    }

    int ChooseRcvWscale()
    {
        long cap = RcvbufLocked ? RcvCapacity : Math.Max(RcvCapacity, 6 << 20);
        int s = 0;
        while (s < 14 && (65535L << s) < cap) s++;
        return s;
    }

    public override long Disconnect()
    {
        List<TcpEndpoint>? kids = null;
        int ev;
        lock (Lock)
        {
            var old = _state;
            if (old == TcpState.Listen) kids = StopListening();
            else if (old is TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.FinWait2 or TcpState.SynRecv or TcpState.Closing or TcpState.LastAck)
            {
                SendRst(_sndNxt);
                Unhash();
                SoError = ECONNRESET;
            }
            else if (old == TcpState.SynSent) { Unhash(); SoError = ECONNRESET; }
            else if (old == TcpState.Closed && _sock == SockState.Unconnected) { }
            else Unhash();
            _state = TcpState.Closed;
            ResetForReuse();
            _sock = SockState.Unconnected;
            ev = ReadinessLocked();
        }
        if (kids != null) foreach (var k in kids) k.Abort(ECONNRESET, sendRst: true);
        Stack.Pump();
        Notify(ev);
        return 0;
    }

    /// <summary>Back to a fresh closed socket that keeps its options (and its port when bind() chose it).</summary>
    void ResetForReuse()
    {
        ShutdownBits = 0;
        _snd.Clear(); _rcv.Clear();
        ClearOoo();
        _finReceived = false; _finQueued = false;
        _rtoAt = _delackAt = _keepAt = _twAt = _persistAt = _corkAt = _fin2At = long.MaxValue;
        _retries = 0; _backoff = 0; _dupAcks = 0; _inRecovery = false;
        _srtt = -1; _rto = RtoInitial; _ssthresh = int.MaxValue; _quickAcks = 16;
        _sndWscale = -1;
        _tsOk = false; _tsOffer = true;
        if (!BoundAddrByUser) LocalAddr = Family == SockAddrInet.AF_INET ? Addr.V4Any : Addr.V6Any;
        RemoteAddr = Family == SockAddrInet.AF_INET ? Addr.V4Any : Addr.V6Any;
        RemotePort = 0;
        if (Bound && !BoundPortByUser)
        {
            lock (Stack.TableLock) NetworkStack.Remove(Stack.TcpPorts, LocalPort, this);
            Bound = false;
            LocalPort = 0;
        }
    }

    // ================================================================ accept

    public override long Accept(out IEndpoint? accepted, out SockAddrInet peer)
    {
        accepted = null; peer = default;
        TcpEndpoint c;
        lock (Lock)
        {
            if (_state != TcpState.Listen) return -EINVAL;
            if (_acceptQueue!.Count == 0) return -EAGAIN;
            c = _acceptQueue.Dequeue();
            _acceptCount = _acceptQueue.Count;
        }
        lock (c.Lock)
        {
            c._parent = null;
            c._sock = SockState.Connected;
            peer = c.Sock(c.RemoteAddr, c.RemotePort);
        }
        accepted = c;
        return 0;
    }

    // ================================================================ send / receive

    public override long Send(ReadOnlySpan<byte> data, int flags, bool hasTo, in SockAddrInet to)
    {
        if ((flags & K.MSG_OOB) != 0) return -EOPNOTSUPP;
        long n;
        int ev = 0;
        lock (Lock)
        {
            if (SoError != 0) { int e = SoError; SoError = 0; return -e; }
            if ((ShutdownBits & SendShutdown) != 0) return -EPIPE;
            if (_state is TcpState.SynSent or TcpState.SynRecv) { _wantWrite = true; return -EAGAIN; }
            if (_state is not (TcpState.Established or TcpState.CloseWait)) return -EPIPE;
            if (data.Length == 0) return 0;
            int room = SndCapacity - _snd.Count;
            if (room <= 0) { _wantWrite = true; return -EAGAIN; }
            n = _snd.Write(data, SndCapacity);
            _msgMore = (flags & K.MSG_MORE) != 0;
            Output();
            ArmTimers();
        }
        Stack.Pump();
        Notify(ev);
        return n;
    }

    public override long Receive(Span<byte> buffer, int flags, out SockAddrInet from, out bool truncated)
    {
        from = default; truncated = false;
        if ((flags & K.MSG_ERRQUEUE) != 0) return -EAGAIN;
        long n;
        bool sent = false;
        lock (Lock)
        {
            if (_state == TcpState.Listen) return -ENOTCONN;
            if ((flags & K.MSG_OOB) != 0) return -EINVAL;
            from = Sock(RemoteAddr, RemotePort);
            int have = _rcv.Count;
            if (have == 0)
            {
                if (_finReceived) return 0;
                if (SoError != 0) { int e = SoError; SoError = 0; return -e; }
                if ((ShutdownBits & RcvShutdown) != 0) return 0;
                if (_state == TcpState.Closed) return -ENOTCONN;
                return -EAGAIN;
            }
            n = Math.Min(have, buffer.Length);
            if ((flags & K.MSG_TRUNC) == 0) _rcv.Peek(0, buffer[..(int)n]);
            if ((flags & K.MSG_PEEK) == 0)
            {
                _rcv.Consume((int)n);
                sent = MaybeWindowUpdate();
            }
        }
        if (sent) Stack.Pump();
        return n;
    }

    /// <summary>After the application read: an ACK when the window grew by enough to matter (Linux's tcp_cleanup_rbuf).</summary>
    bool MaybeWindowUpdate()
    {
        if (_state is not (TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2)) return false;
        long free = Math.Min(FreeRcv(), _rcvWndCap);
        long announced = (int)(_rcvAdv - _rcvNxt);
        if (announced < 0) announced = 0;
        long threshold = Math.Min(2L * _ourMss, RcvCapacity / 2);
        if (free - announced >= threshold || (_ackPending > 0 && (int)(_rcvNxt - _lastAckSent) >= _ourMss))
        {
            SendAck();
            return true;
        }
        return false;
    }

    long FreeRcv() => Math.Max(0, RcvCapacity - _rcv.Count - _oooBytes);

    public override long Shutdown(int how)
    {
        if (how < 0 || how > 2) return -EINVAL;
        int bits = how + 1;
        List<TcpEndpoint>? kids = null;
        long r = 0;
        int ev;
        lock (Lock)
        {
            switch (_state)
            {
                case TcpState.Listen:
                    if ((bits & RcvShutdown) == 0) return 0;
                    kids = StopListening();
                    _state = TcpState.Closed;
                    break;
                case TcpState.SynSent:
                    Unhash();
                    _state = TcpState.Closed;
                    ResetForReuse();
                    _sock = SockState.Unconnected;
                    break;
                default:
                    if (_state == TcpState.Closed) r = -ENOTCONN;
                    ShutdownBits |= bits;
                    if ((bits & SendShutdown) != 0 && _state is TcpState.Established or TcpState.CloseWait or TcpState.SynRecv)
                        QueueFin();
                    break;
            }
            ev = ReadinessLocked();
        }
        if (kids != null) foreach (var k in kids) k.Abort(ECONNRESET, sendRst: true);
        Stack.Pump();
        Notify(ev);
        return r;
    }

    void QueueFin()
    {
        if (_finQueued) return;
        _finQueued = true;
        _finSeq = _sndUna + (uint)_snd.Count;
        _state = _state == TcpState.CloseWait ? TcpState.LastAck : TcpState.FinWait1;
        Output();
        ArmTimers();
    }

    public override int Available { get { lock (Lock) return _state == TcpState.Listen ? 0 : _rcv.Count; } }
    public override int Unsent { get { lock (Lock) return _state == TcpState.Listen ? 0 : _snd.Count; } }

    public override long GetPeerAddress(out SockAddrInet address)
    {
        lock (Lock)
        {
            address = default;
            if (_state is TcpState.Closed or TcpState.Listen or TcpState.SynSent || (_state == TcpState.SynRecv && _sock == SockState.Unconnected && _parent == null))
                return -ENOTCONN;
            address = Sock(RemoteAddr, RemotePort);
            return 0;
        }
    }

    public override void Close()
    {
        List<TcpEndpoint>? kids = null;
        int ev = 0;
        lock (Lock)
        {
            if (_userClosed) return;
            _userClosed = true;
            switch (_state)
            {
                case TcpState.Listen:
                    kids = StopListening();
                    _state = TcpState.Closed;
                    Unhash();
                    break;
                case TcpState.Closed:
                    Unhash();
                    break;
                case TcpState.SynSent:
                    _state = TcpState.Closed;
                    Unhash();
                    break;
                case TcpState.TimeWait:
                    break;
                default:
                    if ((LingerOn && LingerSeconds == 0) || _rcv.Count > 0 || _oooBytes > 0)
                    {
                        // Unread data or SO_LINGER 0: reset (RFC 2525; Linux does the same).
                        if (_state is not (TcpState.Closed or TcpState.TimeWait)) SendRst(_sndNxt);
                        _state = TcpState.Closed;
                        _rcv.Clear(); _snd.Clear(); ClearOoo();
                        Unhash();
                        break;
                    }
                    ShutdownBits = RcvShutdown | SendShutdown;
                    if (_state is TcpState.Established or TcpState.CloseWait or TcpState.SynRecv) QueueFin();
                    if (_state == TcpState.FinWait2) ArmFin2();
                    break;
            }
            ArmTimers();
        }
        if (kids != null) foreach (var k in kids) k.Abort(ECONNRESET, sendRst: true);
        Stack.Pump();
        Notify(ev);
    }

    List<TcpEndpoint> StopListening()
    {
        var kids = new List<TcpEndpoint>();
        lock (Stack.TableLock)
        {
            if (Stack.TcpListeners.TryGetValue(LocalPort, out var l)) { l.Remove(this); if (l.Count == 0) Stack.TcpListeners.Remove(LocalPort); }
        }
        if (_acceptQueue != null) { kids.AddRange(_acceptQueue); _acceptQueue.Clear(); }
        if (_synChildren != null) { kids.AddRange(_synChildren); _synChildren.Clear(); }
        _acceptCount = 0;
        return kids;
    }

    /// <summary>Removes the socket from every table (connection, port). Caller holds Lock.</summary>
    void Unhash()
    {
        lock (Stack.TableLock)
        {
            var key = new FourTuple(LocalAddr, LocalPort, RemoteAddr, RemotePort);
            if (Stack.TcpConns.TryGetValue(key, out var c) && ReferenceEquals(c, this)) { Stack.TcpConns.Remove(key); Stack.TcpCount--; }
            if (Bound && (_userClosed || !BoundPortByUser))
            {
                NetworkStack.Remove(Stack.TcpPorts, LocalPort, this);
                if (_userClosed) Bound = false;
            }
        }
    }

    void KillTimeWaitLocked()
    {
        // Caller holds TableLock (not our Lock): a TIME_WAIT socket is no longer touched by its user.
        var key = new FourTuple(LocalAddr, LocalPort, RemoteAddr, RemotePort);
        Stack.TcpConns.Remove(key);
        Stack.TcpCount--;
        NetworkStack.Remove(Stack.TcpPorts, LocalPort, this);
        _twAt = long.MaxValue;
        _state = TcpState.Closed;
    }

    /// <summary>Ends the connection at once: error for the user, RST to the peer if asked, out of the tables.</summary>
    internal void Abort(int err, bool sendRst)
    {
        TcpEndpoint? parent;
        int ev;
        lock (Lock)
        {
            if (_state == TcpState.Closed) return;
            if (sendRst && _state is not (TcpState.SynSent or TcpState.TimeWait or TcpState.Listen)) SendRst(_sndNxt);
            EnterClosed(err);
            parent = _parent;
            _parent = null;
            ev = ReadinessLocked();
        }
        if (parent != null) lock (parent.Lock) parent._synChildren?.Remove(this);
        Stack.Pump();
        Notify(ev);
    }

    /// <summary>tcp_done: state CLOSE, both directions shut, buffers dropped, error set. Caller holds Lock.</summary>
    void EnterClosed(int err)
    {
        if (err != 0) SoError = err;
        _state = TcpState.Closed;
        ShutdownBits = RcvShutdown | SendShutdown;
        _snd.Clear();
        ClearOoo();
        _rtoAt = _delackAt = _keepAt = _persistAt = _corkAt = _fin2At = _twAt = long.MaxValue;
        Unhash();
        if (_userClosed) _rcv.Clear();
    }

    void ClearOoo()
    {
        if (_ooo == null) return;
        foreach (var o in _ooo) { Interlocked.Add(ref Stack.Buffers.Bytes, -o.Buf.Length); ArrayPool<byte>.Shared.Return(o.Buf); }
        _ooo.Clear();
        _oooBytes = 0;
    }

    // ================================================================ output

    /// <summary>Sends what the windows, Nagle and corking allow. Caller holds Lock.</summary>
    void Output()
    {
        if (_state is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.LastAck or TcpState.Closing)) return;
        if (!_synAcked) return;
        long now = NetworkStack.NowMs;
        bool sentAny = false;
        while (true)
        {
            int inFlight = (int)(_sndNxt - _sndUna);
            int dataEnd = _snd.Count; // offset from _sndUna
            int offset = inFlight;
            bool finSent = _finQueued && Seq.Gt(_sndNxt, _finSeq);
            if (finSent) break;
            int unsent = dataEnd - offset;
            if (unsent < 0) unsent = 0;
            long wnd = Math.Min(_sndWnd, _cwnd);
            long usable = wnd - inFlight;
            if (unsent == 0)
            {
                // Only the FIN left (it takes no window).
                if (_finQueued && _sndNxt == _finSeq)
                {
                    SendSegment(_sndNxt, TcpSeg.FIN | TcpSeg.ACK, 0, 0);
                    _sndNxt++;
                    if (Seq.Gt(_sndNxt, _sndMax)) _sndMax = _sndNxt;
                    sentAny = true;
                }
                break;
            }
            if (usable <= 0)
            {
                if (_sndWnd == 0 && inFlight == 0 && _persistAt == long.MaxValue)
                    _persistAt = now + Math.Clamp((long)_rto << Math.Min(_backoff, 10), RtoMin, RtoMax);
                break;
            }
            int len = (int)Math.Min(Math.Min(unsent, _sndMss), usable);
            bool last = len == unsent;
            if (len < _sndMss && last)
            {
                // A small last segment: Nagle waits for outstanding data to be acked; corking waits for more.
                if ((_cork || _msgMore) && !_finQueued)
                {
                    if (_corkAt == long.MaxValue) _corkAt = now + CorkMs;
                    break;
                }
                // Nagle with Minshall's change (as Linux): hold it only while an earlier small segment is unacknowledged.
                if (!_noDelay && inFlight > 0 && !_finQueued && Seq.Gt(_sndSml, _sndUna)) break;
            }
            else if (len < _sndMss && !last)
            {
                // Window-limited: send only if it is at least half the peer's biggest window (SWS avoidance).
                if (usable < _sndMss && inFlight > 0) break;
            }
            bool withFin = last && _finQueued && _sndNxt + (uint)len == _finSeq;
            int flags = TcpSeg.ACK | (last ? TcpSeg.PSH : 0) | (withFin ? TcpSeg.FIN : 0);
            bool retrans = Seq.Lt(_sndNxt, _sndMax);
            if (retrans) { _retransTotal++; Interlocked.Increment(ref Stack.Stats.TcpRetransSegs); }
            if (!_timing && !retrans) { _timing = true; _rttSeq = _sndNxt + (uint)len; _rttStart = now; }
            SendSegment(_sndNxt, flags, offset, len);
            if (len < _sndMss) _sndSml = _sndNxt + (uint)len;
            _sndNxt += (uint)len + (withFin ? 1u : 0u);
            if (Seq.Gt(_sndNxt, _sndMax)) _sndMax = _sndNxt;
            sentAny = true;
            _corkAt = long.MaxValue;
        }
        if (sentAny)
        {
            _persistAt = long.MaxValue;
            if (_rtoAt == long.MaxValue) _rtoAt = now + _rto;
        }
    }

    /// <summary>Builds one segment carrying _snd bytes [offset, offset+len) and queues it. Caller holds Lock.</summary>
    void SendSegment(uint seq, int flags, int offset, int len, bool synOptions = false)
    {
        var nic = _nic;
        if (nic == null) return;
        int optLen = synOptions ? 4 + (_tsOffer ? 12 : 0) + (_sndWscaleOffer ? 4 : 0) : (_tsOk ? 12 : 0);
        int hl = 20 + optLen;
        int total = hl + len;
        var buf = NetworkStack.RentPacket(total, out int off);
        var h = buf.AsSpan(off, total);
        BinaryPrimitives.WriteUInt16BigEndian(h, LocalPort);
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], RemotePort);
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], seq);
        bool ack = (flags & TcpSeg.ACK) != 0;
        BinaryPrimitives.WriteUInt32BigEndian(h[8..], ack ? _rcvNxt : 0);
        h[12] = (byte)((hl / 4) << 4);
        h[13] = (byte)flags;
        int wnd = (flags & TcpSeg.SYN) != 0 ? InitialWindow() : AdvertiseWindow();
        BinaryPrimitives.WriteUInt16BigEndian(h[14..], (ushort)wnd);
        h[16] = 0; h[17] = 0; h[18] = 0; h[19] = 0;
        if (synOptions)
        {
            h[20] = 2; h[21] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(h[22..], (ushort)Math.Min(_ourMss, 65535));
            int o = 24;
            if (_tsOffer)
            {
                h[o] = 1; h[o + 1] = 1; h[o + 2] = 8; h[o + 3] = 10;
                BinaryPrimitives.WriteUInt32BigEndian(h[(o + 4)..], TsNow);
                BinaryPrimitives.WriteUInt32BigEndian(h[(o + 8)..], ack ? _tsRecent : 0);
                o += 12;
            }
            if (_sndWscaleOffer) { h[o] = 1; h[o + 1] = 3; h[o + 2] = 3; h[o + 3] = (byte)_rcvWscale; }
        }
        else if (_tsOk)
        {
            h[20] = 1; h[21] = 1; h[22] = 8; h[23] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(h[24..], TsNow);
            BinaryPrimitives.WriteUInt32BigEndian(h[28..], _tsRecent);
        }
        if (len > 0) _snd.Peek(offset, h.Slice(hl, len));
        if (!nic.Offload)
            BinaryPrimitives.WriteUInt16BigEndian(h[16..], Checksum.Finish(Checksum.Sum(h, Checksum.Pseudo(LocalAddr, RemoteAddr, K.IPPROTO_TCP, total))));
        if (ack)
        {
            _lastAckSent = _rcvNxt;
            _ackPending = 0;
            _delackAt = long.MaxValue;
        }
        _lastSend = NetworkStack.NowMs;
        Interlocked.Increment(ref Stack.Stats.TcpOutSegs);
        Stack.SendIp(nic, LocalAddr, RemoteAddr, K.IPPROTO_TCP, buf, off, total, HopLimit, Tos);
    }

    bool _sndWscaleOffer = true;
    /// <summary>The most the window may offer now: the initial window, growing by two segments per segment received.</summary>
    long _rcvWndCap = 65535;

    /// <summary>The window a SYN offers: what fits, in whole segments (Linux's tcp_select_initial_window).</summary>
    int InitialWindow()
    {
        int w = (int)Math.Min(FreeRcv(), 65535);
        int mss = _ourMss - (_tsOffer ? 12 : 0);
        if (mss > 0 && w > mss) w = w / mss * mss;
        return w;
    }
    // Timestamps (RFC 7323): offered in our SYN, used when both SYNs carry them (Linux does on lo).
    bool _tsOffer = true, _tsOk;
    uint _tsRecent, _tsOffset;
    uint TsNow => (uint)NetworkStack.NowMs + _tsOffset;

    /// <summary>The window field to send (scaled), never moving the right edge left. Caller holds Lock.</summary>
    int AdvertiseWindow()
    {
        long real = FreeRcv(), free = real;
        // The window opens as data comes (Linux's rcv_ssthresh): whole scale units, rounded up.
        bool capped = false;
        if (free > _rcvWndCap) { free = _rcvWndCap; capped = true; }
        long cur = (int)(_rcvAdv - _rcvNxt);
        if (cur < 0) cur = 0;
        long sws = Math.Min(RcvCapacity / 2, _ourMss);
        if (free < cur) free = cur;
        else if (cur > 0 && free - cur < sws && real < RcvCapacity) free = cur; // small openings are not worth a word
        else if (cur == 0 && real < sws) free = 0;                             // nor a small window (SWS avoidance)
        int scale = _sndWscale >= 0 ? _rcvWscale : 0;
        long max = 65535L << scale;
        if (_windowClamp > 0) max = Math.Min(max, _windowClamp);
        if (free > max) free = max;
        long field = capped ? Math.Min((free + (1L << scale) - 1) >> scale, 65535) : free >> scale;
        uint right = _rcvNxt + (uint)(field << scale);
        if (Seq.Gt(right, _rcvAdv)) _rcvAdv = right;
        return (int)field;
    }

    void SendSyn(bool ack)
    {
        SendSegment(_iss, TcpSeg.SYN | (ack ? TcpSeg.ACK : 0), 0, 0, synOptions: true);
        _sndNxt = _iss + 1;
        if (Seq.Gt(_sndNxt, _sndMax)) _sndMax = _sndNxt;
    }

    void SendAck() => SendSegment(_sndNxt, TcpSeg.ACK, 0, 0);

    void SendRst(uint seq)
    {
        Interlocked.Increment(ref Stack.Stats.TcpOutRsts);
        SendSegment(seq, TcpSeg.RST | TcpSeg.ACK, 0, 0);
    }

    /// <summary>A RST answering a segment no socket takes (RFC 9293 3.10.7.1).</summary>
    static void SendRstFor(NetworkStack stack, Addr local, ushort lport, Addr remote, ushort rport, in TcpSeg seg)
    {
        if (stack.Route(remote, out var nic, out _) < 0) return;
        var buf = NetworkStack.RentPacket(20, out int off);
        var h = buf.AsSpan(off, 20);
        h.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(h, lport);
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], rport);
        if (seg.Has(TcpSeg.ACK))
        {
            BinaryPrimitives.WriteUInt32BigEndian(h[4..], seg.Ack);
            h[13] = TcpSeg.RST;
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(h[8..], seg.Seq + (uint)seg.Length);
            h[13] = TcpSeg.RST | TcpSeg.ACK;
        }
        h[12] = 5 << 4;
        if (!nic!.Offload)
            BinaryPrimitives.WriteUInt16BigEndian(h[16..], Checksum.Finish(Checksum.Sum(h, Checksum.Pseudo(local, remote, K.IPPROTO_TCP, 20))));
        Interlocked.Increment(ref stack.Stats.TcpOutRsts);
        Interlocked.Increment(ref stack.Stats.TcpOutSegs);
        stack.SendIp(nic, local, remote, K.IPPROTO_TCP, buf, off, 20, 64, 0);
    }

    // ================================================================ timers

    void ArmRto() => _rtoAt = NetworkStack.NowMs + Math.Clamp((long)_rto << Math.Min(_backoff, 10), RtoMin, RtoMax);

    void ArmFin2()
    {
        if (_userClosed && _fin2At == long.MaxValue) _fin2At = NetworkStack.NowMs + (_linger2 > 0 ? _linger2 * 1000L : FinWait2Ms);
    }

    void ArmKeepalive()
    {
        if (OptKeepAlive && _state is TcpState.Established or TcpState.CloseWait)
            _keepAt = Math.Max(_lastRecv, _lastSend) + (_keepProbes == 0 ? _keepIdle * 1000L : _keepIntvl * 1000L);
        else _keepAt = long.MaxValue;
    }

    protected override void KeepAliveChanged()
    {
        _keepProbes = 0;
        ArmKeepalive();
        ArmTimers();
    }

    /// <summary>Queues a timer call for the earliest deadline. Caller holds Lock.</summary>
    void ArmTimers()
    {
        long t = Math.Min(Math.Min(Math.Min(_rtoAt, _delackAt), Math.Min(_keepAt, _twAt)), Math.Min(Math.Min(_persistAt, _corkAt), _fin2At));
        if (t == long.MaxValue) return;
        if (t >= Volatile.Read(ref TimerQueuedAt)) return;
        Stack.Schedule(this, t);
    }

    internal override void OnTimer(long now)
    {
        TcpEndpoint? parent = null;
        int ev = 0;
        bool dropChild = false;
        lock (Lock)
        {
            if (_twAt <= now)
            {
                _twAt = long.MaxValue;
                if (_state == TcpState.TimeWait) { _state = TcpState.Closed; Unhash(); lock (Stack.TableLock) { NetworkStack.Remove(Stack.TcpPorts, LocalPort, this); Bound = false; } }
                return;
            }
            if (_fin2At <= now)
            {
                _fin2At = long.MaxValue;
                if (_state == TcpState.FinWait2) { EnterClosed(0); return; }
            }
            if (_delackAt <= now)
            {
                _delackAt = long.MaxValue;
                if (_ackPending > 0 && _state is not (TcpState.Closed or TcpState.Listen or TcpState.SynSent)) SendAck();
            }
            if (_corkAt <= now)
            {
                _corkAt = long.MaxValue;
                bool cork = _cork, more = _msgMore;
                _cork = false; _msgMore = false;
                Output();
                _cork = cork;
            }
            if (_rtoAt <= now)
            {
                _rtoAt = long.MaxValue;
                ev = RetransmitTimeout(now, out dropChild);
                if (dropChild) parent = _parent;
            }
            if (_persistAt <= now)
            {
                _persistAt = long.MaxValue;
                ProbeWindow(now);
            }
            if (_keepAt <= now)
            {
                _keepAt = long.MaxValue;
                ev |= Keepalive(now);
            }
            ArmTimers();
        }
        if (parent != null) lock (parent.Lock) parent._synChildren?.Remove(this);
        Notify(ev);
    }

    int RetransmitTimeout(long now, out bool dropChild)
    {
        dropChild = false;
        switch (_state)
        {
            case TcpState.SynSent:
                if (++_retries > _synRetries) { EnterClosed(ETIMEDOUT); return ReadinessLocked(); }
                _backoff++;
                _sndNxt = _iss;
                SendSyn(ack: false);
                ArmRto();
                return 0;
            case TcpState.SynRecv:
                if (++_retries > SynAckRetries) { EnterClosed(0); dropChild = true; return 0; }
                _backoff++;
                _sndNxt = _iss;
                SendSyn(ack: true);
                ArmRto();
                return 0;
            case TcpState.Established: case TcpState.CloseWait: case TcpState.FinWait1: case TcpState.Closing: case TcpState.LastAck:
                if (_sndUna == _sndMax) return 0;
                if (++_retries > MaxRetries || (_userTimeout > 0 && now - _lastRecv > _userTimeout))
                {
                    EnterClosed(ETIMEDOUT);
                    return ReadinessLocked();
                }
                long flight = (int)(_sndMax - _sndUna);
                _ssthresh = Math.Max(flight / 2, 2L * _sndMss);
                _cwnd = _sndMss;
                _inRecovery = false;
                _dupAcks = 0;
                _timing = false;
                _backoff++;
                _sndNxt = _sndUna;
                Output();
                if (_sndNxt == _sndUna && _sndUna != _sndMax)
                {
                    // Nothing fit (a zero window): resend one byte or the FIN anyway.
                    ForceOneSegment();
                }
                ArmRto();
                return 0;
        }
        return 0;
    }

    /// <summary>Sends the first unacknowledged byte (or the FIN) regardless of the window.</summary>
    void ForceOneSegment()
    {
        if (_snd.Count > (int)(_sndNxt - _sndUna))
        {
            SendSegment(_sndNxt, TcpSeg.ACK, (int)(_sndNxt - _sndUna), 1);
            _sndNxt++;
        }
        else if (_finQueued && _sndNxt == _finSeq)
        {
            SendSegment(_sndNxt, TcpSeg.FIN | TcpSeg.ACK, 0, 0);
            _sndNxt++;
        }
        if (Seq.Gt(_sndNxt, _sndMax)) _sndMax = _sndNxt;
        _retransTotal++;
    }

    void ProbeWindow(long now)
    {
        if (_state is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.LastAck)) return;
        if (_sndWnd > 0 || _sndNxt != _sndUna) { Output(); return; }
        ForceOneSegment();
        _backoff++;
        ArmRto();
    }

    int Keepalive(long now)
    {
        if (!OptKeepAlive || _state is not (TcpState.Established or TcpState.CloseWait)) return 0;
        long idle = now - Math.Max(_lastRecv, _lastSend);
        if (_sndNxt != _sndUna || _snd.Count > 0) { ArmKeepalive(); return 0; }
        if (_keepProbes == 0 && idle < _keepIdle * 1000L) { ArmKeepalive(); return 0; }
        if (_keepProbes >= _keepCnt)
        {
            SendRst(_sndNxt);
            EnterClosed(ETIMEDOUT);
            return ReadinessLocked();
        }
        _keepProbes++;
        SendSegment(_sndUna - 1, TcpSeg.ACK, 0, 0);
        _keepAt = now + _keepIntvl * 1000L;
        return 0;
    }

    // ================================================================ input

    internal static void Receive(NetworkStack stack, Nic nic, Addr src, Addr dst, ReadOnlySpan<byte> p)
    {
        Interlocked.Increment(ref stack.Stats.TcpInSegs);
        if (p.Length < 20) { Interlocked.Increment(ref stack.Stats.TcpInErrs); return; }
        int doff = (p[12] >> 4) * 4;
        if (doff < 20 || doff > p.Length) { Interlocked.Increment(ref stack.Stats.TcpInErrs); return; }
        if (!NetworkStack.ChecksumVerified(nic) && Checksum.Finish(Checksum.Sum(p, Checksum.Pseudo(src, dst, K.IPPROTO_TCP, p.Length))) != 0)
        { Interlocked.Increment(ref stack.Stats.TcpInErrs); return; }
        if (dst.IsMulticast || dst.IsV4Broadcast || src.IsAny) return;
        var seg = new TcpSeg
        {
            Seq = BinaryPrimitives.ReadUInt32BigEndian(p[4..]),
            Ack = BinaryPrimitives.ReadUInt32BigEndian(p[8..]),
            Flags = p[13] & 0x3F,
            Window = BinaryPrimitives.ReadUInt16BigEndian(p[14..]),
            Options = p[20..doff],
            Payload = p[doff..],
        };
        ParseTimestamps(ref seg);
        ushort sport = BinaryPrimitives.ReadUInt16BigEndian(p);
        ushort dport = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
        if (sport == 0 || dport == 0) { Interlocked.Increment(ref stack.Stats.TcpInErrs); return; }
        TcpEndpoint? conn, listener = null;
        lock (stack.TableLock)
        {
            stack.TcpConns.TryGetValue(new FourTuple(dst, dport, src, sport), out conn);
            if (conn == null) listener = FindListener(stack, src, sport, dst, dport);
        }
        if (conn != null)
        {
            if (conn.Segment(nic, src, dst, ref seg, out var again) && again != null)
            {
                // A SYN that ended a TIME_WAIT: to the listener.
                again.ListenSegment(nic, src, sport, dst, dport, ref seg);
            }
            return;
        }
        if (listener != null) { listener.ListenSegment(nic, src, sport, dst, dport, ref seg); return; }
        if (!seg.Has(TcpSeg.RST)) SendRstFor(stack, dst, dport, src, sport, seg);
    }

    static TcpEndpoint? FindListener(NetworkStack stack, Addr src, ushort sport, Addr dst, ushort dport)
    {
        if (!stack.TcpListeners.TryGetValue(dport, out var l)) return null;
        TcpEndpoint? best = null;
        int bestScore = -1, ties = 0;
        foreach (var t in l)
        {
            if (t.Family == SockAddrInet.AF_INET && !dst.IsV4) continue;
            if (t.Family == SockAddrInet.AF_INET6 && dst.IsV4 && t.OptV6Only) continue;
            int score;
            if (!t.LocalAddr.IsAny) { if (t.LocalAddr != dst) continue; score = 4; }
            else { if (t.LocalAddr.IsV4 && !dst.IsV4) continue; score = 1; }
            if (t.Family == SockAddrInet.AF_INET) score++;
            if (score > bestScore) { best = t; bestScore = score; ties = 1; }
            else if (score == bestScore && t.OptReusePort)
            {
                ties++;
                if ((uint)HashCode.Combine(src, sport) % (uint)ties == 0) best = t;
            }
        }
        return best;
    }

    /// <summary>Finds the timestamps option: at once in the usual NOP NOP TS layout, else by walking the options.</summary>
    static void ParseTimestamps(ref TcpSeg seg)
    {
        var o = seg.Options;
        if (o.Length == 0) return;
        if (o.Length >= 12 && o[0] == 1 && o[1] == 1 && o[2] == 8 && o[3] == 10)
        {
            seg.HasTs = true;
            seg.TsVal = BinaryPrimitives.ReadUInt32BigEndian(o[4..]);
            seg.TsEcr = BinaryPrimitives.ReadUInt32BigEndian(o[8..]);
            return;
        }
        int i = 0;
        while (i < o.Length)
        {
            byte kind = o[i];
            if (kind == 0) break;
            if (kind == 1) { i++; continue; }
            if (i + 1 >= o.Length) break;
            int len = o[i + 1];
            if (len < 2 || i + len > o.Length) break;
            if (kind == 8 && len == 10)
            {
                seg.HasTs = true;
                seg.TsVal = BinaryPrimitives.ReadUInt32BigEndian(o[(i + 2)..]);
                seg.TsEcr = BinaryPrimitives.ReadUInt32BigEndian(o[(i + 6)..]);
                return;
            }
            i += len;
        }
    }

    static void ParseOptions(ReadOnlySpan<byte> o, out int mss, out int wscale)
    {
        mss = -1; wscale = -1;
        int i = 0;
        while (i < o.Length)
        {
            byte kind = o[i];
            if (kind == 0) break;
            if (kind == 1) { i++; continue; }
            if (i + 1 >= o.Length) break;
            int len = o[i + 1];
            if (len < 2 || i + len > o.Length) break;
            if (kind == 2 && len == 4) mss = BinaryPrimitives.ReadUInt16BigEndian(o[(i + 2)..]);
            else if (kind == 3 && len == 3) wscale = Math.Min((int)o[i + 2], 14);
            i += len;
        }
    }

    /// <summary>A segment for a listening socket: a SYN makes a child in SYN_RECV.</summary>
    void ListenSegment(Nic nic, Addr src, ushort sport, Addr dst, ushort dport, ref TcpSeg seg)
    {
        if (seg.Has(TcpSeg.RST)) return;
        if (seg.Has(TcpSeg.ACK)) { SendRstFor(Stack, dst, dport, src, sport, seg); return; }
        if (!seg.Has(TcpSeg.SYN)) return;
        TcpEndpoint child;
        lock (Lock)
        {
            if (_state != TcpState.Listen) { SendRstFor(Stack, dst, dport, src, sport, seg); return; }
            // A full accept queue drops SYNs (Linux: sk_acceptq_is_full, ack_backlog > backlog).
            if (_acceptQueue!.Count > _backlog) { Interlocked.Increment(ref Stack.Stats.TcpListenOverflows); Interlocked.Increment(ref Stack.Stats.TcpListenDrops); return; }
            if (_synChildren!.Count >= Math.Max(_backlog, 64)) { Interlocked.Increment(ref Stack.Stats.TcpListenDrops); return; }
            if (Stack.Route(src, out var rnic, out _) < 0) return;
            child = new TcpEndpoint(Stack, Family)
            {
                _parent = this,
                LocalAddr = dst, LocalPort = dport, RemoteAddr = src, RemotePort = sport,
                Bound = true,
                OptReuseAddr = OptReuseAddr, OptReusePort = OptReusePort, OptV6Only = OptV6Only, OptKeepAlive = OptKeepAlive,
                LingerOn = LingerOn, LingerSeconds = LingerSeconds, Tos = Tos, Ttl = Ttl, Priority = Priority,
                SoRcvbuf = SoRcvbuf, SoSndbuf = SoSndbuf, RcvbufLocked = RcvbufLocked, SndbufLocked = SndbufLocked,
                _noDelay = _noDelay, _keepIdle = _keepIdle, _keepIntvl = _keepIntvl, _keepCnt = _keepCnt, _userMss = _userMss,
                _linger2 = _linger2, _userTimeout = _userTimeout, _notSentLowat = _notSentLowat, _windowClamp = _windowClamp,
                _nic = rnic,
                _state = TcpState.SynRecv,
            };
            lock (child.Lock)
            {
                child.InitSend();
                ParseOptions(seg.Options, out int mss, out int ws);
                child._irs = seg.Seq;
                child._rcvNxt = seg.Seq + 1;
                child._rcvAdv = child._rcvNxt;
                child._peerMss = mss > 0 ? mss : (src.IsV4 ? 536 : 1220);
                child._tsOffer = child._tsOk = seg.HasTs;
                child._tsRecent = seg.TsVal;
                child._sndMss = Math.Max(Math.Min(child._peerMss, child._ourMss) - (seg.HasTs ? 12 : 0), 64);
                child._cwnd = 10L * child._sndMss;
                child._reportMss = HalfWindowMss(child._sndMss, seg.Window);
                child._rcvWndCap = child.InitialWindow();
                child._sndWscaleOffer = ws >= 0;
                child._sndWscale = ws;
                if (ws < 0) child._rcvWscale = 0;
                child._sndWnd = seg.Window;
                child._sndWl1 = seg.Seq;
                child._sndWl2 = child._iss;
                child._lastRecv = NetworkStack.NowMs;
                lock (Stack.TableLock)
                {
                    var key = new FourTuple(dst, dport, src, sport);
                    if (Stack.TcpConns.ContainsKey(key)) return;
                    Stack.TcpConns[key] = child;
                    Stack.TcpCount++;
                    NetworkStack.Add(Stack.TcpPorts, dport, child);
                }
                _synChildren.Add(child);
                child.SendSyn(ack: true);
                child.ArmRto();
                child.ArmTimers();
            }
        }
    }

    /// <summary>
    /// A segment for a connection (RFC 9293 3.10.7.4). Returns true with <paramref name="listener"/>
    /// when a SYN closed a TIME_WAIT and should go to that listener.
    /// </summary>
    bool Segment(Nic nic, Addr src, Addr dst, ref TcpSeg seg, out TcpEndpoint? listener)
    {
        listener = null;
        int ev = 0;
        TcpEndpoint? promoteTo = null, dropFrom = null;
        lock (Lock)
        {
            long now = NetworkStack.NowMs;
            switch (_state)
            {
                case TcpState.Closed:
                case TcpState.Listen:
                    return false;
                case TcpState.SynSent:
                    ev = SynSentSegment(ref seg, now);
                    break;
                case TcpState.TimeWait:
                    if (seg.Has(TcpSeg.SYN) && !seg.Has(TcpSeg.ACK) && !seg.Has(TcpSeg.RST) && Seq.Gt(seg.Seq, _rcvNxt))
                    {
                        lock (Stack.TableLock)
                        {
                            KillTimeWaitLocked();
                            listener = FindListener(Stack, src, RemotePort, dst, LocalPort);
                        }
                        return listener != null;
                    }
                    if (seg.Has(TcpSeg.RST)) { _state = TcpState.Closed; _twAt = long.MaxValue; Unhash(); lock (Stack.TableLock) NetworkStack.Remove(Stack.TcpPorts, LocalPort, this); return false; }
                    if (seg.Has(TcpSeg.FIN)) { SendAck(); _twAt = now + TimeWaitMs; ArmTimers(); }
                    break;
                default:
                    ev = SynchronizedSegment(ref seg, now, out promoteTo, out dropFrom);
                    break;
            }
            ArmTimers();
        }
        if (promoteTo != null) promoteTo.Promote(this);
        if (dropFrom != null) lock (dropFrom.Lock) dropFrom._synChildren?.Remove(this);
        Notify(ev);
        return false;
    }

    /// <summary>A child reached ESTABLISHED: onto the accept queue (or reset when the listener is gone).</summary>
    void Promote(TcpEndpoint child)
    {
        bool ok;
        lock (Lock)
        {
            _synChildren?.Remove(child);
            ok = _state == TcpState.Listen;
            if (ok) { _acceptQueue!.Enqueue(child); _acceptCount = _acceptQueue.Count; }
        }
        if (!ok) { child.Abort(ECONNRESET, sendRst: true); return; }
        Notify(K.POLLIN | K.POLLRDNORM);
    }

    int SynSentSegment(ref TcpSeg seg, long now)
    {
        if (seg.Has(TcpSeg.ACK) && (Seq.Le(seg.Ack, _iss) || Seq.Gt(seg.Ack, _sndMax)))
        {
            if (!seg.Has(TcpSeg.RST)) SendSegment(seg.Ack, TcpSeg.RST, 0, 0);
            return 0;
        }
        if (seg.Has(TcpSeg.RST))
        {
            if (!seg.Has(TcpSeg.ACK)) return 0;
            Interlocked.Increment(ref Stack.Stats.TcpAttemptFails);
            EnterClosed(ECONNREFUSED);
            return ReadinessLocked();
        }
        if (!seg.Has(TcpSeg.SYN)) return 0;
        ParseOptions(seg.Options, out int mss, out int ws);
        _irs = seg.Seq;
        _rcvNxt = seg.Seq + 1;
        _rcvAdv = _rcvNxt;
        _peerMss = mss > 0 ? mss : (RemoteAddr.IsV4 ? 536 : 1220);
        _tsOk = _tsOffer && seg.HasTs;
        if (_tsOk) _tsRecent = seg.TsVal;
        _sndMss = Math.Max(Math.Min(_peerMss, _ourMss) - (_tsOk ? 12 : 0), 64);
        _reportMss = HalfWindowMss(_sndMss, seg.Window);
        _rcvWndCap = InitialWindow();
        if (ws >= 0) _sndWscale = ws; else { _sndWscale = -1; _rcvWscale = 0; }
        _lastRecv = now;
        if (!seg.Has(TcpSeg.ACK))
        {
            // Simultaneous open.
            _state = TcpState.SynRecv;
            _sndNxt = _iss;
            SendSyn(ack: true);
            ArmRto();
            return 0;
        }
        _sndUna = seg.Ack;
        _synAcked = true;
        _sndWnd = (long)seg.Window << Math.Max(_sndWscale, 0);
        _sndWl1 = seg.Seq; _sndWl2 = seg.Ack;
        _cwnd = 10L * _sndMss;
        if (_retries == 0) SampleRtt(now - _lastSend);
        _retries = 0; _backoff = 0;
        _rtoAt = long.MaxValue;
        _state = TcpState.Established;
        ArmKeepalive();
        SendAck();
        Output();
        return K.POLLOUT | K.POLLWRNORM;
    }

    static int HalfWindowMss(int mss, int window) => window > 536 && window / 2 < mss ? Math.Max(window / 2, 68) : mss;

    void SampleRtt(long ms)
    {
        double r = Math.Max(ms, 0);
        if (_srtt < 0) { _srtt = r; _rttvar = r / 2; }
        else
        {
            _rttvar = 0.75 * _rttvar + 0.25 * Math.Abs(_srtt - r);
            _srtt = 0.875 * _srtt + 0.125 * r;
        }
        _rto = (int)Math.Clamp(_srtt + Math.Max(4 * _rttvar, 1), RtoMin, RtoMax);
    }

    int SynchronizedSegment(ref TcpSeg seg, long now, out TcpEndpoint? promoteTo, out TcpEndpoint? dropFrom)
    {
        promoteTo = null; dropFrom = null;
        int ev = 0;
        if (_state == TcpState.SynRecv && seg.Has(TcpSeg.SYN) && !seg.Has(TcpSeg.ACK) && !seg.Has(TcpSeg.RST) && seg.Seq == _irs)
        {
            // The peer did not hear our SYN-ACK: say it again.
            uint nxt = _sndNxt;
            _sndNxt = _iss;
            SendSyn(ack: true);
            _sndNxt = nxt;
            return 0;
        }
        // 1. Is it in the window?
        long wnd = Math.Max((int)(_rcvAdv - _rcvNxt), FreeRcv());
        if (wnd < 0) wnd = 0;
        int segLen = seg.Length;
        bool acceptable;
        if (segLen == 0)
            acceptable = wnd == 0 ? seg.Seq == _rcvNxt : Seq.Ge(seg.Seq, _rcvNxt) && Seq.Lt(seg.Seq, _rcvNxt + (uint)wnd) || seg.Seq == _rcvNxt;
        else
            acceptable = wnd != 0 && ((Seq.Ge(seg.Seq, _rcvNxt) && Seq.Lt(seg.Seq, _rcvNxt + (uint)wnd)) ||
                                      (Seq.Ge(seg.Seq + (uint)segLen - 1, _rcvNxt) && Seq.Lt(seg.Seq + (uint)segLen - 1, _rcvNxt + (uint)wnd)));
        if (!acceptable)
        {
            if (!seg.Has(TcpSeg.RST))
            {
                // Zero-window probes and old duplicates: an ACK says where we are. Their ACK field still counts.
                if (seg.Has(TcpSeg.ACK) && _state != TcpState.SynRecv) ev |= ProcessAck(ref seg, now, out _);
                SendAck();
            }
            return ev;
        }
        // 2. RST: exact match resets; elsewhere in the window earns a challenge ACK (RFC 5961).
        if (seg.Has(TcpSeg.RST))
        {
            if (seg.Seq != _rcvNxt) { SendAck(); return 0; }
            if (_state == TcpState.SynRecv && _parent != null && _sock == SockState.Unconnected)
            {
                dropFrom = _parent; _parent = null;
                EnterClosed(0);
                return 0;
            }
            int err = _state switch { TcpState.CloseWait => EPIPE, TcpState.SynRecv => ECONNREFUSED, _ => ECONNRESET };
            if (_userClosed) err = 0;
            EnterClosed(err);
            return ReadinessLocked();
        }
        // 3. A SYN in a synchronized state: challenge ACK.
        if (seg.Has(TcpSeg.SYN)) { SendAck(); return 0; }
        if (!seg.Has(TcpSeg.ACK)) return 0;
        _lastRecv = now;
        _keepProbes = 0;
        if (_tsOk && seg.HasTs && Seq.Le(seg.Seq, _lastAckSent) && Seq.Ge(seg.TsVal, _tsRecent)) _tsRecent = seg.TsVal;
        // 4. ACK.
        if (_state == TcpState.SynRecv)
        {
            if (Seq.Le(seg.Ack, _sndUna) || Seq.Gt(seg.Ack, _sndMax)) { SendSegment(seg.Ack, TcpSeg.RST, 0, 0); return 0; }
            var parent = _parent;
            if (parent != null && parent._acceptCount > parent._backlog)
            {
                // The accept queue is full: drop the ACK, the SYN-ACK will be resent (tcp_abort_on_overflow=0).
                Interlocked.Increment(ref Stack.Stats.TcpListenOverflows);
                return 0;
            }
            _synAcked = true;
            _state = TcpState.Established;
            _sndUna = _iss + 1;
            _sndWnd = (long)seg.Window << Math.Max(_sndWscale, 0);
            _reportMss = HalfWindowMss(_sndMss, (int)Math.Min(Math.Max(_sndWnd, seg.Window), int.MaxValue));
            _sndWl1 = seg.Seq; _sndWl2 = seg.Ack;
            if (_retries == 0) SampleRtt(now - _lastSend);
            _retries = 0; _backoff = 0;
            _rtoAt = long.MaxValue;
            ArmKeepalive();
            if (parent != null) promoteTo = parent;
            else if (_sock == SockState.Connecting) ev |= K.POLLOUT | K.POLLWRNORM;
        }
        ev |= ProcessAck(ref seg, now, out bool finAcked);
        if (_state == TcpState.Closed) return ev | ReadinessLocked();
        if (finAcked)
        {
            switch (_state)
            {
                case TcpState.FinWait1: _state = TcpState.FinWait2; ArmFin2(); break;
                case TcpState.Closing: EnterTimeWait(now); break;
                case TcpState.LastAck: EnterClosed(0); return ev | ReadinessLocked();
            }
        }
        // 5. Data and FIN.
        int old = _rcv.Count;
        bool finNow = false;
        if (seg.Payload.Length > 0 || seg.Has(TcpSeg.FIN))
        {
            if (_userClosed && seg.Payload.Length > 0 && (ShutdownBits & RcvShutdown) != 0 && _state is TcpState.FinWait1 or TcpState.FinWait2 or TcpState.Closing or TcpState.LastAck)
            {
                // Data for a socket nobody can read any more: reset (Linux's TCP_ABORT_ON_DATA).
                SendRst(_sndNxt);
                EnterClosed(0);
                return ev;
            }
            finNow = ReceiveData(ref seg, now);
        }
        if (_rcv.Count > old) ev |= K.POLLIN | K.POLLRDNORM;
        if (finNow)
        {
            ev |= K.POLLIN | K.POLLRDNORM | K.POLLRDHUP;
            switch (_state)
            {
                case TcpState.SynRecv: case TcpState.Established: _state = TcpState.CloseWait; break;
                case TcpState.FinWait1:
                    if (Seq.Gt(_sndUna, _finSeq)) EnterTimeWait(now);
                    else _state = TcpState.Closing;
                    break;
                case TcpState.FinWait2: EnterTimeWait(now); break;
            }
            if (ShutdownBits == (RcvShutdown | SendShutdown)) ev |= K.POLLHUP;
        }
        return ev;
    }

    void EnterTimeWait(long now)
    {
        _state = TcpState.TimeWait;
        _rtoAt = _persistAt = _keepAt = _fin2At = _corkAt = long.MaxValue;
        _twAt = now + TimeWaitMs;
        _snd.Clear();
        ClearOoo();
        if (_userClosed) _rcv.Clear();
    }

    /// <summary>The ACK field: frees acknowledged bytes, adapts RTT and cwnd, takes window updates. Caller holds Lock.</summary>
    int ProcessAck(ref TcpSeg seg, long now, out bool finAcked)
    {
        finAcked = false;
        int ev = 0;
        uint ack = seg.Ack;
        if (Seq.Gt(ack, _sndMax)) { SendAck(); return 0; }
        long newWnd = (long)seg.Window << Math.Max(_sndWscale, 0);
        bool windowUpdate = false;
        if (Seq.Lt(_sndWl1, seg.Seq) || (_sndWl1 == seg.Seq && Seq.Le(_sndWl2, ack)))
        {
            windowUpdate = newWnd != _sndWnd;
            _sndWnd = newWnd;
            _sndWl1 = seg.Seq; _sndWl2 = ack;
        }
        if (Seq.Gt(ack, _sndUna))
        {
            uint acked = ack - _sndUna;
            bool wasFin = _finQueued && Seq.Gt(ack, _finSeq);
            int dataAcked = (int)Math.Min(acked - (wasFin ? 1u : 0u), (uint)_snd.Count);
            bool wasWritable = Writable;
            _snd.Consume(dataAcked);
            _sndUna = ack;
            if (Seq.Lt(_sndNxt, _sndUna)) _sndNxt = _sndUna;
            if (wasFin) finAcked = true;
            if (_tsOk && seg.HasTs && seg.TsEcr != 0) { _timing = false; SampleRtt((int)(TsNow - seg.TsEcr)); }
            else if (_timing && Seq.Ge(ack, _rttSeq)) { _timing = false; if (_backoff == 0 || _retries == 0) SampleRtt(now - _rttStart); }
            _retries = 0; _backoff = 0;
            // NewReno.
            if (_inRecovery)
            {
                if (Seq.Ge(ack, _recover)) { _inRecovery = false; _cwnd = Math.Min(_ssthresh, Math.Max((int)(_sndMax - _sndUna), _sndMss) + _sndMss); }
                else
                {
                    // Partial ACK: the next hole is lost too.
                    RetransmitFirst();
                    _cwnd = Math.Max(_cwnd - acked + _sndMss, _sndMss);
                }
            }
            else if (_cwnd < _ssthresh) _cwnd += Math.Min(acked, (uint)_sndMss);
            else _cwnd += Math.Max(1, (long)_sndMss * _sndMss / Math.Max(_cwnd, 1));
            _cwnd = Math.Min(_cwnd, 1L << 30);
            _dupAcks = 0;
            _rtoAt = _sndUna == _sndMax ? long.MaxValue : now + Math.Clamp(_rto, RtoMin, RtoMax);
            if (_wantWrite && Writable && (!wasWritable || dataAcked > 0)) { _wantWrite = false; ev |= K.POLLOUT | K.POLLWRNORM; }
            if (_sndWnd > 0) _persistAt = long.MaxValue;
            Output();
        }
        else if (ack == _sndUna && newWnd == 0 && _sndUna != _sndMax)
        {
            // The answer to a zero-window probe: the peer is alive, only not reading. Probe on
            // without counting it towards giving up (Linux probes such a peer indefinitely).
            _retries = 0;
        }
        else if (ack == _sndUna && seg.Payload.Length == 0 && !seg.Has(TcpSeg.FIN) && !windowUpdate && _sndUna != _sndMax)
        {
            if (++_dupAcks == 3 && !_inRecovery)
            {
                long flight = (int)(_sndMax - _sndUna);
                _ssthresh = Math.Max(flight / 2, 2L * _sndMss);
                _cwnd = _ssthresh + 3L * _sndMss;
                _inRecovery = true;
                _recover = _sndMax;
                RetransmitFirst();
            }
            else if (_dupAcks > 3 && _inRecovery)
            {
                _cwnd += _sndMss;
                Output();
            }
        }
        else if (windowUpdate)
        {
            if (_sndWnd > 0) _persistAt = long.MaxValue;
            Output();
        }
        return ev;
    }

    void RetransmitFirst()
    {
        int len = Math.Min(_sndMss, _snd.Count);
        if (len > 0)
        {
            bool fin = _finQueued && _sndUna + (uint)len == _finSeq && Seq.Gt(_sndMax, _finSeq);
            SendSegment(_sndUna, TcpSeg.ACK | (fin ? TcpSeg.FIN : 0), 0, len);
        }
        else if (_finQueued && _sndUna == _finSeq) SendSegment(_sndUna, TcpSeg.FIN | TcpSeg.ACK, 0, 0);
        else return;
        _timing = false;
        _retransTotal++;
        Interlocked.Increment(ref Stack.Stats.TcpRetransSegs);
    }

    /// <summary>In-order data goes to the receive ring, later data waits in the out-of-order list. Returns whether the FIN was taken now.</summary>
    bool ReceiveData(ref TcpSeg seg, long now)
    {
        uint seq = seg.Seq;
        var data = seg.Payload;
        bool fin = seg.Has(TcpSeg.FIN);
        // Trim what we already have.
        if (Seq.Lt(seq, _rcvNxt))
        {
            uint skip = _rcvNxt - seq;
            if (skip > (uint)data.Length)
            {
                // Only an old FIN (or nothing) is left.
                if (fin && skip == (uint)data.Length + 1) { SendAck(); return false; }
                SendAck();
                return false;
            }
            data = data[(int)skip..];
            seq = _rcvNxt;
        }
        if (_finReceived) { SendAck(); return false; }
        // Trim to the window: what we announced is honoured even if SO_RCVBUF shrank since.
        long room = Math.Max(FreeRcv(), (long)(int)(_rcvAdv - _rcvNxt));
        if (seq == _rcvNxt)
        {
            if (data.Length > room) { data = data[..(int)room]; fin = false; }
            if (data.Length > 0)
            {
                _rcv.Write(data, int.MaxValue);
                if (_rcvWndCap < RcvCapacity) _rcvWndCap = Math.Min((long)RcvCapacity, _rcvWndCap + Math.Max(2L * data.Length, 2L * 536));
            }
            _rcvNxt += (uint)data.Length;
            bool finTaken = false;
            if (fin) { _rcvNxt++; finTaken = true; }
            if (!finTaken) finTaken = DrainOoo();
            if (finTaken) { _finReceived = true; ShutdownBits |= RcvShutdown; }
            // After an idle spell the peer is likely waiting on us: back to quick ACKs (tcp_event_data_recv).
            if (now - _lastDataAt > _rto) _quickAcks = Math.Max(_quickAcks, 16);
            _lastDataAt = now;
            // ACK policy: at once for a FIN, a filled hole, quick-ack mode, or every second segment; else delayed.
            bool hadOoo = _ooo != null && _ooo.Count > 0;
            _ackPending++;
            if (finTaken || hadOoo || _quickAcks > 0 || _ackPending >= 2 || (int)(_rcvNxt - _lastAckSent) >= 2 * _ourMss)
            {
                if (_quickAcks > 0) _quickAcks--;
                SendAck();
            }
            else if (_delackAt == long.MaxValue) _delackAt = now + DelAckMs;
            return finTaken;
        }
        // Out of order: keep it if it fits the window, and say what we still want.
        uint offset = seq - _rcvNxt;
        room = Math.Min(room, RcvCapacity);
        if (offset < room && (_ooo == null || _ooo.Count < MaxOoo))
        {
            int len = (int)Math.Min((long)data.Length, room - offset);
            if (len < data.Length) fin = false;
            if (len > 0 || fin)
            {
                _ooo ??= new List<(uint, byte[], int, bool)>();
                var buf = ArrayPool<byte>.Shared.Rent(Math.Max(len, 1));
                Interlocked.Add(ref Stack.Buffers.Bytes, buf.Length);
                data[..len].CopyTo(buf);
                int at = 0;
                while (at < _ooo.Count && Seq.Le(_ooo[at].Seq, seq)) at++;
                _ooo.Insert(at, (seq, buf, len, fin));
                _oooBytes += len;
            }
        }
        SendAck();
        return false;
    }

    /// <summary>Moves out-of-order segments that now continue the stream into the ring. Returns whether a FIN was reached.</summary>
    bool DrainOoo()
    {
        if (_ooo == null || _ooo.Count == 0) return false;
        bool fin = false;
        while (_ooo.Count > 0)
        {
            var (s, buf, len, f) = _ooo[0];
            if (Seq.Gt(s, _rcvNxt)) break;
            _ooo.RemoveAt(0);
            _oooBytes -= len;
            uint skip = _rcvNxt - s;
            if (skip < (uint)len)
            {
                _rcv.Write(buf.AsSpan((int)skip, len - (int)skip), int.MaxValue);
                _rcvNxt += (uint)(len - (int)skip);
            }
            Interlocked.Add(ref Stack.Buffers.Bytes, -buf.Length);
            ArrayPool<byte>.Shared.Return(buf);
            if (f && s + (uint)len == _rcvNxt) { _rcvNxt++; fin = true; break; }
        }
        if (fin) ClearOoo();
        return fin;
    }

    internal static void IcmpError(NetworkStack stack, Addr qsrc, ushort sport, Addr qdst, ushort dport, int err, bool hard)
    {
        TcpEndpoint? c;
        lock (stack.TableLock) stack.TcpConns.TryGetValue(new FourTuple(qsrc, sport, qdst, dport), out c);
        if (c == null) return;
        int ev = 0;
        lock (c.Lock)
        {
            if (c._state == TcpState.SynSent && hard)
            {
                c.EnterClosed(err);
                ev = c.ReadinessLocked();
            }
        }
        c.Notify(ev);
    }

    // ================================================================ options

    protected override int ProtocolLevel => K.IPPROTO_TCP;

    protected override void BuffersChanged()
    {
        lock (Lock)
        {
            if (_state is TcpState.Closed or TcpState.Listen) _rcvWscale = ChooseRcvWscale();
        }
    }

    protected override long GetProtocolOption(int name, Span<byte> value)
    {
        lock (Lock)
        {
            switch (name)
            {
                case K.TCP_NODELAY: return K.WriteInt(value, _noDelay ? 1 : 0);
                case K.TCP_CORK: return K.WriteInt(value, _cork ? 1 : 0);
                case K.TCP_KEEPIDLE: return K.WriteInt(value, _keepIdle);
                case K.TCP_KEEPINTVL: return K.WriteInt(value, _keepIntvl);
                case K.TCP_KEEPCNT: return K.WriteInt(value, _keepCnt);
                case K.TCP_SYNCNT: return K.WriteInt(value, _synRetries);
                case K.TCP_LINGER2: return K.WriteInt(value, _linger2 > 0 ? _linger2 : FinWait2Ms / 1000);
                case K.TCP_DEFER_ACCEPT: return K.WriteInt(value, _deferAccept);
                case K.TCP_WINDOW_CLAMP: return K.WriteInt(value, _windowClamp);
                case K.TCP_QUICKACK: return K.WriteInt(value, _quickAckOpt ? 1 : 0);
                case K.TCP_USER_TIMEOUT: return K.WriteInt(value, _userTimeout);
                case K.TCP_NOTSENT_LOWAT: return K.WriteInt(value, _notSentLowat < 0 ? 0 : _notSentLowat);
                case K.TCP_FASTOPEN: return K.WriteInt(value, 0);
                case K.TCP_MAXSEG:
                    if (_state is TcpState.Closed or TcpState.Listen) return K.WriteInt(value, _userMss > 0 ? _userMss : 536);
                    return K.WriteInt(value, _reportMss > 0 ? _reportMss : _sndMss);
                case K.TCP_CONGESTION:
                {
                    var s = "reno"u8;
                    int n = Math.Min(value.Length, 16);
                    value[..n].Clear();
                    s[..Math.Min(s.Length, n)].CopyTo(value);
                    return n;
                }
                case K.TCP_INFO: return TcpInfo(value);
            }
        }
        return -ENOPROTOOPT;
    }

    static void U(Span<byte> b, int off, long v) => BinaryPrimitives.WriteUInt32LittleEndian(b[off..], (uint)Math.Clamp(v, 0, uint.MaxValue));

    long TcpInfo(Span<byte> value)
    {
        Span<byte> b = stackalloc byte[104];
        b.Clear();
        b[0] = (byte)_state;
        b[1] = (byte)(_inRecovery ? 3 : 0);
        b[2] = (byte)_retries;
        b[3] = (byte)_keepProbes;
        b[4] = (byte)_backoff;
        int opts = (_sndWscale >= 0 ? 4 : 0) | (_tsOk ? 1 : 0); // TCPI_OPT_WSCALE, TCPI_OPT_TIMESTAMPS
        b[5] = (byte)opts;
        if (_sndWscale >= 0) b[6] = (byte)((_sndWscale & 0xF) | (_rcvWscale << 4));
        long now = NetworkStack.NowMs;
        U(b, 8, (long)_rto * 1000);
        U(b, 12, DelAckMs * 1000);
        U(b, 16, _reportMss > 0 ? _reportMss : _sndMss);
        U(b, 20, _ourMss);
        U(b, 24, _state == TcpState.Listen ? _acceptCount : (int)(_sndMax - _sndUna) > 0 ? Math.Max(1, (int)(_sndMax - _sndUna) / Math.Max(_sndMss, 1)) : 0);
        U(b, 28, _state == TcpState.Listen ? _backlog : 0);
        U(b, 44, Math.Max(0, now - _lastSend));
        U(b, 52, Math.Max(0, now - _lastRecv));
        U(b, 56, Math.Max(0, now - _lastRecv));
        U(b, 60, (_nic?.Link.Mtu ?? 1500));
        U(b, 64, (int)Math.Min(FreeRcv(), int.MaxValue));
        U(b, 68, _srtt < 0 ? 0 : (long)(_srtt * 1000));
        U(b, 72, (long)(_rttvar * 1000));
        U(b, 76, Math.Min(_ssthresh, int.MaxValue) / Math.Max(_sndMss, 1));
        U(b, 80, _cwnd / Math.Max(_sndMss, 1));
        U(b, 84, _ourMss);
        U(b, 88, 3);
        U(b, 96, RcvCapacity);
        U(b, 100, _retransTotal);
        int n = Math.Min(value.Length, 104);
        b[..n].CopyTo(value);
        return n;
    }

    protected override long SetProtocolOption(int name, ReadOnlySpan<byte> value)
    {
        if (name == K.TCP_CONGESTION)
        {
            var s = System.Text.Encoding.ASCII.GetString(value).TrimEnd('\0');
            return s is "reno" or "cubic" ? 0 : -ENOENT;
        }
        if (value.Length < 4) return -EINVAL;
        int v = K.ReadInt(value);
        bool flush = false;
        lock (Lock)
        {
            switch (name)
            {
                case K.TCP_NODELAY: _noDelay = v != 0; flush = _noDelay; break;
                case K.TCP_CORK:
                    _cork = v != 0;
                    if (!_cork) { flush = true; _corkAt = long.MaxValue; }
                    break;
                case K.TCP_KEEPIDLE: if (v < 1 || v > 32767) return -EINVAL; _keepIdle = v; ArmKeepalive(); break;
                case K.TCP_KEEPINTVL: if (v < 1 || v > 32767) return -EINVAL; _keepIntvl = v; break;
                case K.TCP_KEEPCNT: if (v < 1 || v > 127) return -EINVAL; _keepCnt = v; break;
                case K.TCP_SYNCNT: if (v < 1 || v > 127) return -EINVAL; _synRetries = v; break;
                case K.TCP_LINGER2: _linger2 = v < 0 ? -1 : Math.Min(v, 120); break;
                case K.TCP_DEFER_ACCEPT: _deferAccept = Math.Max(v, 0); break;
                case K.TCP_WINDOW_CLAMP:
                    if (v < 0) return -EINVAL;
                    _windowClamp = v == 0 ? 0 : Math.Max(v, K.SockMinRcvbuf / 2);
                    break;
                case K.TCP_QUICKACK: _quickAckOpt = v != 0; if (v != 0 && _ackPending > 0 && _state is TcpState.Established) { SendAck(); flush = true; } break;
                case K.TCP_USER_TIMEOUT: if (v < 0) return -EINVAL; _userTimeout = v; break;
                case K.TCP_NOTSENT_LOWAT: _notSentLowat = v; break;
                case K.TCP_FASTOPEN: break;
                case K.TCP_MAXSEG:
                    if (v != 0 && (v < 88 || v > 32767)) return -EINVAL;
                    _userMss = v;
                    break;
                case K.TCP_INFO: return -ENOPROTOOPT;
                default: return -ENOPROTOOPT;
            }
            if (flush) { _msgMore = false; Output(); ArmTimers(); }
        }
        if (flush) Stack.Pump();
        return 0;
    }
}
