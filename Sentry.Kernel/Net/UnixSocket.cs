using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Net;

/// <summary>
/// An AF_UNIX socket of the sandbox (unix(7)): SOCK_STREAM, SOCK_SEQPACKET or SOCK_DGRAM. What a
/// peer sends goes straight into this socket's receive queue of <see cref="UnixMessage"/>s, bounded
/// by <see cref="ReceiveBuffer"/> bytes. Connection-oriented sockets are unbound, bound,
/// listening (an accept queue of server-side sockets already connected to their clients) or
/// connected; state and queues change under the sandbox's <see cref="UnixNames.Lock"/>, and
/// waiters are woken outside it.
/// </summary>
public sealed partial class UnixSocket : SocketFile
{
    /// <summary>Linux's default net.core.rmem_default.</summary>
    public const int ReceiveBuffer = 212992;
    static long s_nextIno = 0x5000_0000;

    readonly UnixNames _names;
    readonly Queue<UnixMessage> _queue = new();
    /// <summary>The last message of <see cref="_queue"/> (where a stream appends), or null when it is empty.</summary>
    UnixMessage? _tail;
    /// <summary>A consumed message kept with its buffer for the next send here.</summary>
    UnixMessage? _spare;
    readonly Queue<UnixSocket> _pending = new();
    int _queued, _backlog = -1;
    bool _readShut, _writeShut;
    (ulong, ulong) _boundInode;

    public override int Type { get; }
    public override int Family => UnixAddress.AF_UNIX;
    public override int Protocol => 0;
    public ulong Ino { get; } = (ulong)Interlocked.Increment(ref s_nextIno);
    public UnixAddress Local { get; private set; }
    /// <summary>The connected peer (a datagram socket's default destination), or null.</summary>
    public UnixSocket? Peer { get; private set; }
    /// <summary>Process and user of the other end when it connected (SO_PEERCRED).</summary>
    public (int Pid, uint Uid, uint Gid) PeerCred { get; private set; }
    /// <summary>Set when the peer of a connection closed: reads then end, writes fail with EPIPE.</summary>
    bool _peerGone;
    /// <summary>Tasks waiting for data, space, a connection or the peer closing.</summary>
    public WaitQueue Queue { get; } = new();
    /// <summary>Values of the few options that only change what getsockopt reports.</summary>
    public Dictionary<int, int> Options { get; } = new();

    public UnixSocket(UnixNames names, int type, int flags)
    {
        _names = names;
        Type = type;
        Flags = Linux.O_RDWR | (flags & Linux.O_NONBLOCK);
        Path = $"socket:[{Ino}]";
    }

    bool Oriented => Type != SOCK_DGRAM;
    public override bool Listening => _backlog >= 0;
    bool NonBlock => (Flags & Linux.O_NONBLOCK) != 0;
    static (int, uint, uint) Cred(Task t) => (t.Pid, t.Uid, t.Gid);

    /// <summary>Two sockets connected to each other (socketpair).</summary>
    public static (UnixSocket, UnixSocket) Pair(UnixNames names, int type, int flags, Task t)
    {
        var a = new UnixSocket(names, type, flags);
        var b = new UnixSocket(names, type, flags);
        (a.Peer, b.Peer) = (b, a);
        a.PeerCred = b.PeerCred = Cred(t);
        return (a, b);
    }

    /// <summary>
    /// bind(2). <paramref name="makeNode"/> makes the socket file of a path address (outside the
    /// lock: it walks the file system) and gives its device and inode numbers, or -errno.
    /// </summary>
    public long Bind(UnixAddress address, Func<string, (long Result, (ulong, ulong) Inode)> makeNode)
    {
        // A path is made first, as Linux does: a taken path is EADDRINUSE even for a bound socket.
        if (address.Path == null)
            lock (_names.Lock)
                if (!Local.IsUnnamed) return -Errno.EINVAL;
        if (address.IsUnnamed) address = new UnixAddress(null, System.Text.Encoding.ASCII.GetBytes($"{Ino & 0xfffff:x5}")); // autobind
        (ulong, ulong) inode = default;
        if (address.Path != null)
        {
            var (r, made) = makeNode(address.Path);
            if (r < 0) return r == -Errno.EEXIST ? -Errno.EADDRINUSE : r;
            inode = made;
        }
        lock (_names.Lock)
        {
            if (!Local.IsUnnamed) return -Errno.EINVAL;
            if (!_names.Add(address, inode, this)) return -Errno.EADDRINUSE;
            Local = address;
            _boundInode = inode;
            return 0;
        }
    }

    public override long Listen(Task t, int backlog)
    {
        lock (_names.Lock)
        {
            if (!Oriented) return -Errno.EOPNOTSUPP;
            if (Peer != null || Local.IsUnnamed) return -Errno.EINVAL;
            _backlog = Math.Clamp(backlog, 0, 4096);
            _listenerCred = Cred(t);
        }
        Queue.NotifyAll();
        return 0;
    }

    /// <summary>connect(2) to the socket <paramref name="target"/> (already found by address). Returns 0 or -errno.</summary>
    public long Connect(Task t, UnixSocket? target)
    {
        if (target == null) return -Errno.ECONNREFUSED;
        if (target.Type != Type) return -Errno.EPROTOTYPE;
        if (!Oriented)
        {
            lock (_names.Lock) Peer = target;
            return 0;
        }
        while (true)
        {
            bool queued = false;
            lock (_names.Lock)
            {
                if (Peer != null) return -Errno.EISCONN;
                if (Listening) return -Errno.EINVAL;
                if (!target.Listening) return -Errno.ECONNREFUSED;
                if (target._pending.Count <= target._backlog)
                {
                    // The server side exists at once, already connected: accept only takes it.
                    var server = new UnixSocket(_names, Type, 0) { Local = target.Local, PeerCred = Cred(t) };
                    (server.Peer, Peer) = (this, server);
                    PeerCred = target._listenerCred;
                    target._pending.Enqueue(server);
                    queued = true;
                }
                else if (NonBlock) return -Errno.EAGAIN;
            }
            if (queued)
            {
                target.Queue.Notify(PollEvents.POLLIN);
                return 0;
            }
            if (t.WaitOn(target.Queue, () => { lock (_names.Lock) return !target.Listening || target._pending.Count <= target._backlog; }) == -Errno.EINTR)
                return -SignalDelivery.ERESTARTSYS;
        }
    }

    /// <summary>Who listened: the SO_PEERCRED of the sockets that connect.</summary>
    (int Pid, uint Uid, uint Gid) _listenerCred;

    /// <summary>accept(2): the next connection's server-side socket, waiting for one unless non-blocking.</summary>
    public long Accept(Task t, out UnixSocket? accepted)
    {
        accepted = null;
        while (true)
        {
            lock (_names.Lock)
            {
                if (!Listening) return -Errno.EINVAL;
                if (_pending.TryDequeue(out accepted)) break;
                if (NonBlock) return -Errno.EAGAIN;
            }
            if (t.WaitOn(Queue, () => { lock (_names.Lock) return _pending.Count > 0 || !Listening; }) == -Errno.EINTR)
                return -SignalDelivery.ERESTARTSYS;
        }
        Queue.Notify(PollEvents.POLLOUT); // a connecting task may wait for room in the backlog (not an edge for the listener's readers)
        return 0;
    }

    /// <summary>
    /// Sends <paramref name="data"/> (with <paramref name="rights"/>, whose references the queue
    /// takes on success) to the peer, or to <paramref name="to"/> for a datagram. Returns the bytes
    /// sent or -errno; EPIPE also raises SIGPIPE unless <paramref name="noSignal"/>.
    /// </summary>
    public long Send(Task t, ReadOnlySpan<byte> data, FileDescription[]? rights, UnixSocket? to, bool dontWait, bool noSignal)
    {
        bool nonblock = dontWait || NonBlock;
        int done = 0;
        while (true)
        {
            UnixSocket? target;
            lock (_names.Lock)
            {
                target = to ?? Peer;
                if (target == null && (Oriented || !_writeShut)) return -Errno.ENOTCONN; // before the shutdown check, as Linux
                if (_writeShut || target == null) return BrokenPipe(t, noSignal, done);
                if (Oriented && (_peerGone || target._readShut)) return BrokenPipe(t, noSignal, done);
                if (!Oriented && to == null && target._closed) { Peer = null; return -Errno.ECONNREFUSED; }
                if (!Oriented && target._closed) return -Errno.ECONNREFUSED;
                if (Type != SOCK_STREAM && data.Length > ReceiveBuffer) return -Errno.EMSGSIZE;
                int space = ReceiveBuffer - target._queued;
                int want = data.Length - done;
                int n = Type == SOCK_STREAM ? Math.Min(space, want) : (space >= want ? want : 0);
                if (n > 0 || (want == 0 && done == 0 && Type != SOCK_STREAM))
                {
                    target.Enqueue(data.Slice(done, n), done == 0 ? rights : null, Local);
                    target._queued += n;
                    done += n;
                    rights = null;
                }
            }
            target.Queue.Notify(PollEvents.POLLIN);
            if (done == data.Length) return done;
            if (Type == SOCK_STREAM && data.Length == 0) return 0;
            if (nonblock) return done > 0 ? done : -Errno.EAGAIN;
            if (t.WaitOn(target.Queue, () => { lock (_names.Lock) return target._queued < ReceiveBuffer || target._closed || target._readShut || _peerGone || _writeShut; }) == -Errno.EINTR)
                return done > 0 ? done : -SignalDelivery.ERESTARTSYS;
        }
    }

    /// <summary>EPIPE (after what was sent already, if anything), with SIGPIPE unless MSG_NOSIGNAL.</summary>
    static long BrokenPipe(Task t, bool noSignal, int done)
    {
        if (done > 0) return done;
        if (!noSignal) t.PostSignal(SigInfo.FromKill(Linux.SIGPIPE, SigInfo.SI_USER, t.Pid, t.Uid));
        return -Errno.EPIPE;
    }

    /// <summary>
    /// Receives into <paramref name="buffer"/>: a stream reads across messages (but not past one
    /// that carries descriptions), the other types one message, truncated with
    /// <paramref name="truncated"/> set. Returns the bytes read (a datagram's full length with
    /// <paramref name="reportFull"/>), 0 at end of stream, or -errno.
    /// </summary>
    public long Receive(Task t, Span<byte> buffer, bool peek, bool dontWait, bool waitAll, bool reportFull,
        out FileDescription[]? rights, out UnixAddress from, out bool truncated)
    {
        rights = null;
        from = default;
        truncated = false;
        bool nonblock = dontWait || NonBlock;
        int done = 0;
        bool consumed, freed;
        while (true)
        {
            bool got = false;
            consumed = freed = false;
            lock (_names.Lock)
            {
                // An unconnected stream socket reads EINVAL, a seqpacket one ENOTCONN (unix_stream_recvmsg, unix_seqpacket_recvmsg).
                if (Oriented && Peer == null && !_peerGone && _queue.Count == 0) return Type == SOCK_STREAM ? -Errno.EINVAL : -Errno.ENOTCONN;
                if (_queue.Count > 0)
                {
                    if (Type == SOCK_STREAM) consumed = ReadStream(buffer, peek, ref done, ref rights, out freed);
                    else
                    {
                        var m = _queue.Peek();
                        int n = Math.Min(buffer.Length, m.Length);
                        m.Data[..n].CopyTo(buffer);
                        truncated = n < m.Length;
                        from = m.From;
                        done = reportFull ? m.Length : n;
                        if (peek && m.Rights != null) rights = Duplicate(m.Rights);
                        if (!peek)
                        {
                            (rights, m.Rights) = (m.Rights, null);
                            _queued -= m.Length;
                            consumed = freed = true;
                            Recycle(Dequeue());
                        }
                    }
                    got = done > 0 || Type != SOCK_STREAM;
                }
                bool eof = _readShut || _peerGone || (Peer?._writeShut ?? false);
                bool more = got && Type == SOCK_STREAM && waitAll && !peek && !nonblock && done < buffer.Length && !eof && rights == null;
                if (got && !more) break;
                if (!got && (eof || buffer.Length == 0)) return done;
                if (!got && nonblock) return done > 0 ? done : -Errno.EAGAIN;
            }
            if (consumed) RoomMade(freed);
            if (t.WaitOn(Queue, () => { lock (_names.Lock) return _queue.Count > 0 || _readShut || _peerGone || (Peer?._writeShut ?? false); }) == -Errno.EINTR)
                return done > 0 ? done : -SignalDelivery.ERESTARTSYS;
        }
        if (consumed) RoomMade(freed);
        return done;
    }

    /// <summary>
    /// Copies stream bytes after <paramref name="done"/>, across messages up to and including the
    /// first that carries descriptions (a read, or a peek, ends with it, as in Linux's
    /// unix_stream_read_generic). True when bytes were consumed.
    /// </summary>
    bool ReadStream(Span<byte> buffer, bool peek, ref int done, ref FileDescription[]? rights, out bool freed)
    {
        bool consumed = false;
        freed = false;
        foreach (var m in _queue)
        {
            if (done == buffer.Length) break;
            int n = Math.Min(buffer.Length - done, m.Remaining);
            m.Data.Slice(m.Consumed, n).CopyTo(buffer[done..]);
            done += n;
            bool carried = m.Rights != null;
            if (peek)
            {
                if (carried) rights = Duplicate(m.Rights!);
            }
            else
            {
                if (carried) (rights, m.Rights) = (m.Rights, null);
                m.Consumed += n;
                _queued -= n;
                consumed = true;
            }
            if (carried) break;
        }
        while (_queue.Count > 0 && _queue.Peek().Remaining == 0 && _queue.Peek().Rights == null) { Recycle(Dequeue()); freed = true; }
        return consumed;
    }

    /// <summary>Descriptions a peek receives: the same ones again, each with a reference of its own (Linux's unix_peek_fds).</summary>
    static FileDescription[] Duplicate(FileDescription[] rights)
    {
        foreach (var f in rights) f.AddRef();
        return [.. rights];
    }

    /// <summary>
    /// Queues a send's bytes here (under the names lock): a stream's are appended to the last
    /// message when they fit, anything else takes the spare message or a new one.
    /// </summary>
    void Enqueue(ReadOnlySpan<byte> data, FileDescription[]? rights, UnixAddress from)
    {
        if (Type == SOCK_STREAM && rights == null && _tail != null && _tail.Room >= data.Length)
        {
            _tail.Append(data);
            return;
        }
        UnixMessage m;
        if (_spare != null)
        {
            (m, _spare) = (_spare, null);
            m.Reset(data, rights, from);
        }
        else m = new UnixMessage(data, rights, from);
        _queue.Enqueue(m);
        _tail = m;
    }

    UnixMessage Dequeue()
    {
        var m = _queue.Dequeue();
        if (_queue.Count == 0) _tail = null;
        return m;
    }

    /// <summary>A message fully received: kept as the spare, or its buffer goes back to the pool.</summary>
    void Recycle(UnixMessage m)
    {
        if (_spare == null) _spare = m;
        else m.Return();
    }

    /// <summary>
    /// A receive took data off this socket's queue: senders blocked on it re-check, and when a
    /// whole message went (<paramref name="freed"/>: as sock_wfree, when its buffer is freed)
    /// the peer, whose writability is room here, gets an EPOLLOUT edge.
    /// </summary>
    void RoomMade(bool freed)
    {
        UnixSocket? peer;
        lock (_names.Lock) peer = Peer;
        Queue.Notify(WaitQueue.BlockedOnly);
        if (peer != null && peer != this) peer.Queue.Notify(freed ? PollEvents.POLLOUT : WaitQueue.BlockedOnly);
    }

    /// <summary>shutdown(2): SHUT_RD ends this socket's reads (the peer's writes fail), SHUT_WR its writes (the peer reads to the end, then 0).</summary>
    public long Shutdown(int how)
    {
        UnixSocket? peer;
        lock (_names.Lock)
        {
            if (how is 0 or 2) _readShut = true;
            if (how is 1 or 2) _writeShut = true;
            peer = Peer;
        }
        Queue.NotifyAll();
        peer?.Queue.NotifyAll();
        return 0;
    }

    bool _closed;

    public int Available { get { lock (_names.Lock) return Type == SOCK_STREAM ? _queued : _queue.Count > 0 ? _queue.Peek().Length : 0; } }

    public override long Read(Span<byte> buffer)
    {
        long r = Receive(Task.Current!, buffer, false, false, false, false, out var rights, out _, out _);
        DropUnreceived(rights);
        return r;
    }

    public override long Write(ReadOnlySpan<byte> buffer) => Send(Task.Current!, buffer, null, null, false, false);

    /// <summary>Descriptions that arrived on a plain read have nowhere to go: they are closed, as Linux does.</summary>
    static void DropUnreceived(FileDescription[]? rights)
    {
        if (rights != null) foreach (var f in rights) f.Release();
    }

    public override long Stat(out LinuxStat st)
    {
        st = new LinuxStat { st_dev = 8, st_ino = Ino, st_nlink = 1, st_mode = (uint)(Linux.S_IFSOCK | 0x1ff), st_blksize = 4096 };
        return 0;
    }

    public override long Ioctl(Task task, uint cmd, ulong arg)
    {
        if (cmd == Linux.FIONREAD) return task.Mm.Write(arg, Available) < 0 ? -Errno.EFAULT : 0;
        // Any socket answers the interface ioctls (glibc's if_nametoindex asks an AF_UNIX one).
        return NetDeviceIoctl.Handle(task, task.Sandbox.Network, cmd, arg);
    }

    public override int Poll(int events)
    {
        const int POLLRDHUP = 0x2000;
        lock (_names.Lock)
        {
            if (Listening) return _pending.Count > 0 ? PollEvents.POLLIN : 0;
            int r = 0;
            if (_queue.Count > 0) r |= PollEvents.POLLIN;
            if (_readShut || _peerGone || (Peer?._writeShut ?? false)) r |= PollEvents.POLLIN | POLLRDHUP;
            if (Oriented && (_peerGone || (_readShut && _writeShut))) r |= PollEvents.POLLHUP;
            // Writable when a send would not wait: room at the peer, or a send that fails at once.
            if (Peer == null || _peerGone || _writeShut || Peer._readShut || Peer._queued < ReceiveBuffer) r |= PollEvents.POLLOUT;
            return r;
        }
    }

    public override WaitQueue? PollQueue => Queue;

    protected override void OnLastClose()
    {
        UnixSocket? peer;
        UnixSocket[] pending;
        UnixMessage[] unread;
        lock (_names.Lock)
        {
            _closed = true;
            if (!Local.IsUnnamed) _names.Remove(Local, _boundInode, this);
            peer = Oriented ? Peer : null;
            if (peer != null) peer._peerGone = true;
            Peer = null;
            _backlog = -1;
            pending = [.. _pending];
            _pending.Clear();
            unread = [.. _queue];
            _queue.Clear();
            _tail = null;
            _queued = 0;
            _spare?.Return();
            _spare = null;
        }
        foreach (var m in unread)
        {
            m.DropRights();
            m.Return();
        }
        foreach (var s in pending) s.Release();
        Queue.NotifyAll();
        peer?.Queue.NotifyAll();
    }
}
