using static Tmds.Linux.LibC;

namespace Sentry.P9;

/// <summary>
/// A 9P2000.L client over one connected stream socket, in the kernel's convention: every call
/// returns a count or 0 on success and -errno on failure (the server's Rlerror code, or -EIO once
/// the connection is lost or the server broke the protocol; <see cref="IsDead"/> then stays true).
/// <para>
/// Thread-safe: calls from several threads are serialised, one request on the wire at a time,
/// which keeps the socket buffers single and every call allocation-free. Fids are allocated by
/// the client and returned by the calls that create them; give each back with
/// <see cref="Clunk"/> (or <see cref="Remove"/>).
/// </para>
/// <para>
/// Host fds: a server may attach the opened host file to Rlopen/Rlcreate with SCM_RIGHTS (the
/// Gofer does, so regular-file I/O can skip 9P). <see cref="Lopen"/> and <see cref="Lcreate"/>
/// return it (or -1) and the caller owns it; an fd arriving with any other reply is closed.
/// </para>
/// </summary>
public sealed class P9Client : IDisposable
{
    /// <summary>msize proposed unless told otherwise: 512 KiB, so one request moves a large read or write.</summary>
    public const int DefaultMSize = 512 * 1024;
    /// <summary>Smallest msize accepted from a server: below a page, 9P stops being useful (Linux wants 4 KiB too).</summary>
    public const int MinMSize = 4096;

    readonly Lock _lock = new();
    readonly P9Socket _socket;
    readonly byte[] _send;
    readonly P9FidPool _fids = new();
    readonly bool _ownsFd;
    ushort _tag;
    bool _versionSent; // Tversion is on the wire, its reply not yet read (SendVersion)
    volatile bool _dead;
    bool _disposed;
    bool _noUnlinkat, _noRenameat; // the server answered EOPNOTSUPP once: use the fallbacks

    /// <param name="fd">A connected, blocking stream socket to the server.</param>
    /// <param name="msize">Largest frame to propose in <see cref="Version"/>; buffers are this big.</param>
    /// <param name="ownsFd">Close (and on <see cref="Dispose"/> shut down) <paramref name="fd"/>.</param>
    public P9Client(int fd, int msize = DefaultMSize, bool ownsFd = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(msize, MinMSize);
        _socket = new P9Socket(fd, msize, ownsFd);
        _send = GC.AllocateUninitializedArray<byte>(msize, pinned: true);
        _ownsFd = ownsFd;
    }

    /// <summary>The negotiated msize; 0 until <see cref="Version"/> succeeded.</summary>
    public int MSize { get; private set; }

    /// <summary>The connection is unusable: every call returns -EIO.</summary>
    public bool IsDead => _dead;

    /// <summary>Fids handed out and not yet clunked (for leak checks).</summary>
    public int FidsInUse => _fids.InUse;

    /// <summary>Most bytes one <see cref="Read"/> or <see cref="Write"/> moves.</summary>
    public int MaxIoSize => MSize - P9.P9_IOHDRSZ;

    /// <summary>
    /// Negotiates "9P2000.L" and the msize (the smaller of ours and the server's). Must be the
    /// first call; other calls fail with -ENOTCONN until it succeeds. -EREMOTEIO (and a dead
    /// connection) if the server speaks another version or offers an msize below <see cref="MinMSize"/>.
    /// Only once: a second Tversion would reset the session under fids already handed out (-EISCONN).
    /// </summary>
    public int Version()
    {
        lock (_lock)
        {
            int rc = SendVersion();
            return rc < 0 ? rc : ReceiveVersion();
        }
    }

    /// <summary>
    /// The first half of <see cref="Version"/>: sends Tversion without waiting, so a server still
    /// starting up answers while the caller does other work. <see cref="ReceiveVersion"/> must
    /// follow before any other call.
    /// </summary>
    public int SendVersion()
    {
        lock (_lock)
        {
            if (MSize != 0 || _versionSent) return -EISCONN;
            if (_dead) return -EIO;
            if (!P9Frame.TryEncode(_send, P9.P9_NOTAG, new Tversion((uint)_send.Length, P9.Version9P2000L), out int length)) return -ENAMETOOLONG;
            if (_socket.Send(_send.AsSpan(0, length)) < 0) return Die(-EIO);
            _versionSent = true;
            return 0;
        }
    }

    /// <summary>The second half of <see cref="Version"/>: waits for the Rversion and takes the msize it offers.</summary>
    public int ReceiveVersion()
    {
        lock (_lock)
        {
            if (!_versionSent) return MSize != 0 ? -EISCONN : -ENOTCONN;
            _versionSent = false;
            int rc = Receive(P9.P9_NOTAG, out Rversion r, out int fd);
            if (fd >= 0) close(fd);
            if (rc < 0) return rc;
            if (!r.Version.SequenceEqual(P9.Version9P2000L) || r.MSize < MinMSize) return Die(-EREMOTEIO);
            MSize = (int)Math.Min(r.MSize, (uint)_send.Length);
            _socket.LimitFrameSize(MSize);
            return 0;
        }
    }

    /// <summary>
    /// Attaches to the tree <paramref name="aname"/> as user <paramref name="nUname"/> (or
    /// <paramref name="uname"/> when it is P9_NONUNAME), without authentication. Returns 0 and the
    /// root's new fid and qid.
    /// </summary>
    public int Attach(ReadOnlySpan<byte> uname, ReadOnlySpan<byte> aname, uint nUname, out uint fid, out P9Qid qid)
    {
        qid = default;
        fid = _fids.Allocate();
        if (fid == P9.P9_NOFID) return -ENFILE;
        int rc;
        lock (_lock)
        {
            rc = Call(new Tattach(fid, P9.P9_NOFID, uname, aname, nUname), out Rattach r);
            qid = r.Qid;
        }
        if (rc < 0) fid = Release(fid);
        return rc;
    }

    /// <summary>
    /// Walks from <paramref name="fid"/> along <paramref name="path"/>, names separated by '/'
    /// (no leading or trailing '/'; "" clones the fid; ".." is the server's to resolve), and
    /// returns the number of names walked with a new fid for the result. Paths longer than
    /// P9_MAXWELEM names take several walks. The qid of each name goes to <paramref name="qids"/>
    /// as far as it has room (also when the walk fails part way).
    /// <para>
    /// A failure at the first name of a walk is the server's errno. A walk that stops after some
    /// names leaves no fid and returns -ENOTDIR if the last name found is not a directory, else
    /// -ENOENT (the protocol does not say why it stopped: walk one name for the exact errno).
    /// </para>
    /// </summary>
    public int Walk(uint fid, ReadOnlySpan<byte> path, out uint newFid, Span<P9Qid> qids = default)
    {
        newFid = _fids.Allocate();
        if (newFid == P9.P9_NOFID) return -ENFILE;
        int walked = 0;
        uint from = fid;
        lock (_lock)
        {
            while (true)
            {
                int cut = IndexOfNth(path, (byte)'/', P9.P9_MAXWELEM);
                var names = P9WalkNames.FromPath(cut < 0 ? path : path[..cut]);
                int rc = Call(new Twalk(from, newFid, names), out Rwalk r);
                if (rc == 0 && r.Count > names.Count) rc = Die(-EIO);
                if (rc == 0)
                {
                    for (int i = 0; i < r.Count && walked + i < qids.Length; i++) qids[walked + i] = r[i];
                    walked += r.Count;
                    if (r.Count < names.Count) rc = r.Count > 0 && !r[r.Count - 1].IsDirectory ? -ENOTDIR : -ENOENT;
                }
                if (rc < 0)
                {
                    // After the first walk newfid exists (walks continue it in place): give it up.
                    if (from == newFid) CallClunk(newFid);
                    _fids.Release(newFid);
                    newFid = P9.P9_NOFID;
                    return rc;
                }
                if (cut < 0) return walked;
                from = newFid;
                path = path[(cut + 1)..];
            }
        }
    }

    /// <summary>
    /// Opens the file <paramref name="fid"/> refers to with Linux open(2) <paramref name="flags"/>
    /// (O_CREAT is not for Tlopen: use <see cref="Lcreate"/>). <paramref name="hostFd"/> is a host
    /// fd for the same open file if the server passed one, else -1; the caller owns it.
    /// </summary>
    public int Lopen(uint fid, uint flags, out P9Qid qid, out uint ioUnit, out int hostFd)
    {
        lock (_lock)
        {
            int rc = Call(NextTag(), new Tlopen(fid, flags), out Rlopen r, out hostFd);
            (qid, ioUnit) = (r.Qid, r.IoUnit);
            return rc;
        }
    }

    /// <summary>
    /// Creates and opens regular file <paramref name="name"/> in directory <paramref name="dfid"/>;
    /// on success <paramref name="dfid"/> itself refers to the new open file. Host fd as in <see cref="Lopen"/>.
    /// </summary>
    public int Lcreate(uint dfid, ReadOnlySpan<byte> name, uint flags, uint mode, uint gid, out P9Qid qid, out uint ioUnit, out int hostFd)
    {
        lock (_lock)
        {
            int rc = Call(NextTag(), new Tlcreate(dfid, name, flags, mode, gid), out Rlcreate r, out hostFd);
            (qid, ioUnit) = (r.Qid, r.IoUnit);
            return rc;
        }
    }

    /// <summary>
    /// Reads at most <see cref="MaxIoSize"/> bytes at <paramref name="offset"/> of the open fid
    /// into <paramref name="dest"/> with one request. Returns the bytes read (0 at end of file).
    /// </summary>
    public int Read(uint fid, ulong offset, Span<byte> dest)
    {
        lock (_lock)
        {
            uint count = (uint)Math.Min(dest.Length, MaxIoSize);
            int rc = Call(new Tread(fid, offset, count), out Rread r);
            if (rc < 0) return rc;
            if (r.Data.Length > count) return Die(-EIO);
            r.Data.CopyTo(dest);
            return r.Data.Length;
        }
    }

    /// <summary>Writes at most <see cref="MaxIoSize"/> bytes of <paramref name="src"/> at <paramref name="offset"/> with one request; returns the bytes written.</summary>
    public int Write(uint fid, ulong offset, ReadOnlySpan<byte> src)
    {
        lock (_lock)
        {
            ReadOnlySpan<byte> data = src[..Math.Min(src.Length, Math.Max(MaxIoSize, 0))];
            int rc = Call(new Twrite(fid, offset, data), out Rwrite r);
            if (rc < 0) return rc;
            return r.Count > (uint)data.Length ? Die(-EIO) : (int)r.Count;
        }
    }

    /// <summary>Forgets <paramref name="fid"/> (closing it if open). The fid is free afterwards whatever the result.</summary>
    public int Clunk(uint fid)
    {
        int rc;
        lock (_lock) rc = CallClunk(fid);
        _fids.Release(fid);
        return rc;
    }

    /// <summary>Removes the file <paramref name="fid"/> refers to and clunks the fid (whatever the result).</summary>
    public int Remove(uint fid)
    {
        int rc;
        lock (_lock)
        {
            rc = Call(new Tremove(fid), out Rremove _);
            // The protocol clunks the fid even when the removal fails, but diod keeps it: clunk it
            // explicitly so the number can be reused (a server that did forget it just says no).
            if (rc < 0 && !_dead) CallClunk(fid);
        }
        _fids.Release(fid);
        return rc;
    }

    /// <summary>Attributes of <paramref name="fid"/>'s file; <paramref name="requestMask"/> is P9_GETATTR_* bits.</summary>
    public int GetAttr(uint fid, ulong requestMask, out P9StatDotl stat)
    {
        lock (_lock)
        {
            int rc = Call(new Tgetattr(fid, requestMask), out Rgetattr r);
            stat = r.Stat;
            return rc;
        }
    }

    /// <summary>Changes the attributes selected by <c>attr.valid</c> (P9_SETATTR_* bits).</summary>
    public int SetAttr(uint fid, in P9IattrDotl attr)
    {
        lock (_lock) return Call(new Tsetattr(fid, attr), out Rsetattr _);
    }

    /// <summary>
    /// Reads directory entries of the open directory <paramref name="fid"/> from
    /// <paramref name="offset"/> (0, then the Offset of the last entry seen) into
    /// <paramref name="dest"/> as Rreaddir data: read them with <see cref="P9DirentReader"/>.
    /// Returns the bytes of entries (0 at the end of the directory).
    /// </summary>
    public int ReadDir(uint fid, ulong offset, Span<byte> dest)
    {
        lock (_lock)
        {
            uint count = (uint)Math.Min(dest.Length, MSize - P9.P9_READDIRHDRSZ);
            int rc = Call(new Treaddir(fid, offset, count), out Rreaddir r);
            if (rc < 0) return rc;
            if (r.Data.Length > count) return Die(-EIO);
            r.Data.CopyTo(dest);
            return r.Data.Length;
        }
    }

    public int Mkdir(uint dfid, ReadOnlySpan<byte> name, uint mode, uint gid, out P9Qid qid)
    {
        lock (_lock)
        {
            int rc = Call(new Tmkdir(dfid, name, mode, gid), out Rmkdir r);
            qid = r.Qid;
            return rc;
        }
    }

    public int Symlink(uint dfid, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, uint gid, out P9Qid qid)
    {
        lock (_lock)
        {
            int rc = Call(new Tsymlink(dfid, name, target, gid), out Rsymlink r);
            qid = r.Qid;
            return rc;
        }
    }

    /// <summary>mknod(2) of <paramref name="name"/> in <paramref name="dfid"/>; <paramref name="mode"/> includes the S_IF* type.</summary>
    public int Mknod(uint dfid, ReadOnlySpan<byte> name, uint mode, uint major, uint minor, uint gid, out P9Qid qid)
    {
        lock (_lock)
        {
            int rc = Call(new Tmknod(dfid, name, mode, major, minor, gid), out Rmknod r);
            qid = r.Qid;
            return rc;
        }
    }

    /// <summary>Hard-links the file <paramref name="fid"/> refers to as <paramref name="name"/> in <paramref name="dfid"/>.</summary>
    public int Link(uint dfid, uint fid, ReadOnlySpan<byte> name)
    {
        lock (_lock) return Call(new Tlink(dfid, fid, name), out Rlink _);
    }

    /// <summary>
    /// renameat(2) of one name to another. If the server has no Trenameat (EOPNOTSUPP, as diod)
    /// this falls back to walk + Trename, as Linux's v9fs does.
    /// </summary>
    public int Renameat(uint oldDirFid, ReadOnlySpan<byte> oldName, uint newDirFid, ReadOnlySpan<byte> newName)
    {
        if (!_noRenameat)
        {
            int rc;
            lock (_lock) rc = Call(new Trenameat(oldDirFid, oldName, newDirFid, newName), out Rrenameat _);
            if (rc != -EOPNOTSUPP) return rc;
            _noRenameat = true;
        }
        if (!IsOneName(oldName)) return -EINVAL;
        int walked = Walk(oldDirFid, oldName, out uint fid);
        if (walked < 0) return walked;
        int renamed = Rename(fid, newDirFid, newName);
        Clunk(fid);
        return renamed;
    }

    /// <summary>Moves the file <paramref name="fid"/> refers to to <paramref name="name"/> in <paramref name="dfid"/> (Trename).</summary>
    public int Rename(uint fid, uint dfid, ReadOnlySpan<byte> name)
    {
        lock (_lock) return Call(new Trename(fid, dfid, name), out Rrename _);
    }

    /// <summary>
    /// unlinkat(2) of <paramref name="name"/> (one name) in <paramref name="dirFid"/>;
    /// <paramref name="flags"/> may be P9_DOTL_AT_REMOVEDIR. If the server has no Tunlinkat
    /// (EOPNOTSUPP, as diod) this falls back to walk + Tremove as protocol.md asks and Linux's v9fs
    /// does, with a Tgetattr first for the EISDIR/ENOTDIR checks Linux's VFS makes before it.
    /// </summary>
    public int Unlinkat(uint dirFid, ReadOnlySpan<byte> name, uint flags)
    {
        if (!_noUnlinkat)
        {
            int rc;
            lock (_lock) rc = Call(new Tunlinkat(dirFid, name, flags), out Runlinkat _);
            if (rc != -EOPNOTSUPP) return rc;
            _noUnlinkat = true;
        }
        if (!IsOneName(name)) return -EINVAL;
        int walked = Walk(dirFid, name, out uint fid);
        if (walked < 0) return walked;
        int got = GetAttr(fid, P9.P9_GETATTR_MODE, out P9StatDotl st);
        bool isDir = (st.st_mode & (uint)S_IFMT) == (uint)S_IFDIR;
        bool removeDir = (flags & P9.P9_DOTL_AT_REMOVEDIR) != 0;
        if (got < 0 || isDir != removeDir)
        {
            Clunk(fid);
            return got < 0 ? got : isDir ? -EISDIR : -ENOTDIR;
        }
        return Remove(fid);
    }

    /// <summary>
    /// Copies the symlink's target into <paramref name="dest"/> (truncated if it does not fit) and
    /// returns the target's full length.
    /// </summary>
    public int Readlink(uint fid, Span<byte> dest)
    {
        lock (_lock)
        {
            int rc = Call(new Treadlink(fid), out Rreadlink r);
            if (rc < 0) return rc;
            r.Target[..Math.Min(r.Target.Length, dest.Length)].CopyTo(dest);
            return r.Target.Length;
        }
    }

    public int StatFs(uint fid, out P9StatFs statfs)
    {
        lock (_lock)
        {
            int rc = Call(new Tstatfs(fid), out Rstatfs r);
            statfs = r.StatFs;
            return rc;
        }
    }

    /// <summary>fsync(2), or fdatasync(2) when <paramref name="dataOnly"/>, of the open fid.</summary>
    public int Fsync(uint fid, bool dataOnly = false)
    {
        lock (_lock) return Call(new Tfsync(fid, dataOnly ? 1u : 0u), out Rfsync _);
    }

    /// <summary>
    /// Places or removes a POSIX record lock (fcntl F_SETLK). Returns the Rlock status
    /// (P9_LOCK_SUCCESS = 0, P9_LOCK_BLOCKED, P9_LOCK_ERROR, P9_LOCK_GRACE) or -errno. With
    /// P9_LOCK_FLAGS_BLOCK the server still does not wait: retry while it answers BLOCKED.
    /// </summary>
    public int Lock(uint fid, byte type, uint flags, ulong start, ulong length, uint procId, ReadOnlySpan<byte> clientId)
    {
        lock (_lock)
        {
            int rc = Call(new Tlock(fid, type, flags, start, length, procId, clientId), out Rlock r);
            return rc < 0 ? rc : r.Status;
        }
    }

    /// <summary>
    /// fcntl(F_GETLK): <paramref name="lk"/> is the lock wanted on the way in and, on return, a
    /// conflicting lock or the same range with type P9_LOCK_TYPE_UNLCK if none conflicts.
    /// </summary>
    public int GetLock(uint fid, ref P9Getlock lk, ReadOnlySpan<byte> clientId)
    {
        lock (_lock)
        {
            int rc = Call(new Tgetlock(fid, lk.type, lk.start, lk.length, lk.proc_id, clientId), out Rgetlock r);
            if (rc == 0) lk = new P9Getlock { type = r.LockType, start = r.Start, length = r.Length, proc_id = r.ProcId };
            return rc;
        }
    }

    /// <summary>
    /// Gives a new fid from which the value of extended attribute <paramref name="name"/> of
    /// <paramref name="fid"/>'s file (or the list of names, when name is empty) can be read;
    /// <paramref name="size"/> is its length. Clunk the new fid afterwards.
    /// </summary>
    public int XattrWalk(uint fid, ReadOnlySpan<byte> name, out uint newFid, out ulong size)
    {
        size = 0;
        newFid = _fids.Allocate();
        if (newFid == P9.P9_NOFID) return -ENFILE;
        int rc;
        lock (_lock)
        {
            rc = Call(new Txattrwalk(fid, newFid, name), out Rxattrwalk r);
            size = r.Size;
        }
        if (rc < 0) newFid = Release(newFid);
        return rc;
    }

    /// <summary>
    /// Turns <paramref name="fid"/> into a handle for writing the value of extended attribute
    /// <paramref name="name"/> (setxattr <paramref name="flags"/>); write exactly
    /// <paramref name="size"/> bytes, then clunk it to set the attribute.
    /// </summary>
    public int XattrCreate(uint fid, ReadOnlySpan<byte> name, ulong size, uint flags)
    {
        lock (_lock) return Call(new Txattrcreate(fid, name, size, flags), out Rxattrcreate _);
    }

    /// <summary>
    /// Marks the connection dead and closes it: calls in progress on other threads return -EIO
    /// (when the client does not own the fd it cannot shut the socket down, and waits for them).
    /// </summary>
    public void Dispose()
    {
        _dead = true;
        if (_ownsFd) _socket.Shutdown();
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            _socket.Dispose();
        }
    }

    int CallClunk(uint fid) => Call(new Tclunk(fid), out Rclunk _);

    uint Release(uint fid)
    {
        _fids.Release(fid);
        return P9.P9_NOFID;
    }

    /// <summary>A request whose reply must not carry an fd (one that does is closed).</summary>
    int Call<TReq, TRep>(in TReq request, out TRep reply)
        where TReq : IP9Message<TReq>, allows ref struct
        where TRep : IP9Message<TRep>, allows ref struct
    {
        int rc = Call(NextTag(), request, out reply, out int fd);
        if (fd >= 0) close(fd);
        return rc;
    }

    /// <summary>
    /// Sends one request and waits for its reply; the caller holds <see cref="_lock"/>. Returns 0
    /// with the reply (its spans point into the receive buffer: valid until the next call) and any
    /// fd that came with it; -ecode for an Rlerror; -EIO (killing the connection) for a transport
    /// failure or a reply that breaks the protocol; -ENAMETOOLONG when the request does not fit
    /// in msize (only long names can do that).
    /// </summary>
    int Call<TReq, TRep>(ushort tag, in TReq request, out TRep reply, out int fd)
        where TReq : IP9Message<TReq>, allows ref struct
        where TRep : IP9Message<TRep>, allows ref struct
    {
        reply = default!;
        fd = -1;
        if (_dead) return -EIO;
        bool negotiating = TReq.Type == P9MessageType.Tversion;
        if (MSize == 0 && !negotiating) return -ENOTCONN;
        if (!P9Frame.TryEncode(_send.AsSpan(0, negotiating ? _send.Length : MSize), tag, request, out int length)) return -ENAMETOOLONG;
        if (_socket.Send(_send.AsSpan(0, length)) < 0) return Die(-EIO);
        return Receive(tag, out reply, out fd);
    }

    /// <summary>Reads the reply to the request sent with <paramref name="tag"/>; the rest of <see cref="Call{TReq, TRep}(ushort, in TReq, out TRep, out int)"/>.</summary>
    int Receive<TRep>(ushort tag, out TRep reply, out int fd)
        where TRep : IP9Message<TRep>, allows ref struct
    {
        reply = default!;
        fd = -1;
        if (_socket.Receive(out ReadOnlySpan<byte> frame, out int received) < 0) return Die(-EIO);

        if (!P9Frame.TryReadHeader(frame, (uint)_socket.MaxFrameSize, out P9Header h) || h.Tag != tag) return Die(-EIO, received);
        ReadOnlySpan<byte> body = frame[P9.HeaderSize..];
        if (h.Type == P9MessageType.Rlerror)
        {
            if (received >= 0) close(received);
            if (!P9Frame.TryDecodeBody(body, out Rlerror e)) return Die(-EIO);
            // An errno outside Linux's range (or 0, which would read as success) is the server's bug.
            return e.Ecode is > 0 and < 4096 ? -(int)e.Ecode : -EIO;
        }
        if (h.Type != TRep.Type || !P9Frame.TryDecodeBody(body, out reply)) return Die(-EIO, received);
        fd = received;
        return 0;
    }

    /// <summary>The next request tag: any but P9_NOTAG (reserved for Tversion).</summary>
    ushort NextTag()
    {
        _tag = (ushort)(_tag == P9.P9_NOTAG - 1 ? 0 : _tag + 1);
        return _tag;
    }

    /// <summary>Marks the connection dead (the stream can no longer be trusted) and returns <paramref name="rc"/>.</summary>
    int Die(int rc, int fdToClose = -1)
    {
        if (fdToClose >= 0) close(fdToClose);
        _dead = true;
        _socket.Shutdown();
        return rc;
    }

    /// <summary>A single, real name: what the fallbacks may walk (a '/' would walk further).</summary>
    static bool IsOneName(ReadOnlySpan<byte> name) =>
        !name.IsEmpty && !name.Contains((byte)'/') && !name.SequenceEqual("."u8) && !name.SequenceEqual(".."u8);

    static int IndexOfNth(ReadOnlySpan<byte> s, byte value, int n)
    {
        int at = -1;
        for (int i = 0; i < n; i++)
        {
            int next = s[(at + 1)..].IndexOf(value);
            if (next < 0) return -1;
            at += next + 1;
        }
        return at;
    }
}
