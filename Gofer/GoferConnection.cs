using System.Buffers.Binary;
using Sentry.Gofer.Abi;
using Sentry.Gofer.Host;
using Sentry.P9;

namespace Sentry.Gofer;

/// <summary>
/// One client connection: receives requests one at a time, answers each (the reply or an
/// Rlerror), and owns everything the client made: fids, the nodes they hold, open fds. The
/// operations live in the partial files GoferConnection.*.cs, one per group; each returns 0
/// once it sent its reply, or -errno for the dispatcher to send as Rlerror.
/// </summary>
internal sealed partial class GoferConnection : IDisposable
{
    readonly GoferServer _server;
    readonly P9Socket _socket;
    readonly byte[] _reply;
    readonly FidTable _fids;
    readonly NodeSet _nodes = new();
    readonly Node _root;
    readonly bool _readOnly;
    readonly bool _donate;
    readonly uint _euid;
    int _msize;          // 0 until Tversion agreed on one
    bool _replied;       // the current request has been answered
    bool _peerGone;      // a send failed: stop serving
    byte[]? _scratch;    // getdents and xattr values, allocated on first use

    public GoferConnection(GoferServer server, int socketFd, bool ownsSocket)
    {
        _server = server;
        GoferOptions o = server.Options;
        _readOnly = o.ReadOnly;
        _donate = o.DonateFds;
        _fids = new FidTable(o.MaxFids);
        _socket = new P9Socket(socketFd, o.MaxMessageSize, ownsSocket);
        _reply = GC.AllocateUninitializedArray<byte>(o.MaxMessageSize, pinned: true);
        _euid = Sys.Geteuid();

        // The connection's own reference to the export root: ".." at it stays at it.
        int fd = Sys.OpenAt(server.RootFd, "."u8, Linux.O_PATH | Linux.O_DIRECTORY | Linux.O_CLOEXEC);
        if (fd < 0 || Sys.Fstat(fd, out LinuxStat st) < 0)
        {
            Sys.Close(fd);
            _socket.Dispose();
            throw new InvalidOperationException($"cannot open the export root: errno {-fd}");
        }
        _root = new Node(_nodes, fd, null, [], st);
        _rootDev = st.st_dev;
    }

    /// <summary>Serves until the peer closes: see <see cref="GoferServer.Serve"/>.</summary>
    public int Run()
    {
        while (!_peerGone)
        {
            int rc = _socket.Receive(out ReadOnlySpan<byte> frame, out int fd);
            // A client has nothing to give the server: any fd it sends is closed unread.
            if (fd >= 0) Sys.Close(fd);
            if (rc == -Errno.ECONNRESET) return 0;
            if (rc < 0) return rc;
            Handle(frame);
        }
        return 0;
    }

    /// <summary>Answers one whole frame (its size already checked by the socket).</summary>
    void Handle(ReadOnlySpan<byte> frame)
    {
        var type = (P9MessageType)frame[4];
        ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(frame[5..]);
        _replied = false;
        try
        {
            _server.RequestHook?.Invoke(type);
            int rc = Dispatch(type, tag, frame[P9Const.HeaderSize..]);
            if (rc < 0 && !_replied) SendError(tag, -rc);
        }
        catch (Exception)
        {
            // A bug here must cost the client one request, never the server.
            if (!_replied) SendError(tag, Errno.EIO);
        }
    }

    int Dispatch(P9MessageType type, ushort tag, ReadOnlySpan<byte> body)
    {
        if (type == P9MessageType.Tversion)
            return P9Frame.TryDecodeBody(body, out Tversion v) ? Version(tag, v) : -Errno.EINVAL;
        if (_msize == 0) return -Errno.EPROTO; // nothing before the version is agreed
        switch (type)
        {
            case P9MessageType.Tattach: return P9Frame.TryDecodeBody(body, out Tattach attach) ? Attach(tag, attach) : -Errno.EINVAL;
            case P9MessageType.Twalk: return P9Frame.TryDecodeBody(body, out Twalk walk) ? Walk(tag, walk) : -Errno.EINVAL;
            case P9MessageType.Tgetattr: return P9Frame.TryDecodeBody(body, out Tgetattr getattr) ? Getattr(tag, getattr) : -Errno.EINVAL;
            case P9MessageType.Tread: return P9Frame.TryDecodeBody(body, out Tread read) ? Read(tag, read) : -Errno.EINVAL;
            case P9MessageType.Twrite: return P9Frame.TryDecodeBody(body, out Twrite write) ? Write(tag, write) : -Errno.EINVAL;
            case P9MessageType.Tclunk: return P9Frame.TryDecodeBody(body, out Tclunk clunk) ? Clunk(tag, clunk) : -Errno.EINVAL;
            case P9MessageType.Tlopen: return P9Frame.TryDecodeBody(body, out Tlopen lopen) ? Lopen(tag, lopen) : -Errno.EINVAL;
            case P9MessageType.Tlcreate: return P9Frame.TryDecodeBody(body, out Tlcreate lcreate) ? Lcreate(tag, lcreate) : -Errno.EINVAL;
            case P9MessageType.Treaddir: return P9Frame.TryDecodeBody(body, out Treaddir readdir) ? Readdir(tag, readdir) : -Errno.EINVAL;
            case P9MessageType.Treadlink: return P9Frame.TryDecodeBody(body, out Treadlink readlink) ? Readlink(tag, readlink) : -Errno.EINVAL;
            case P9MessageType.Tstatfs: return P9Frame.TryDecodeBody(body, out Tstatfs statfs) ? Statfs(tag, statfs) : -Errno.EINVAL;
            case P9MessageType.Tfsync: return P9Frame.TryDecodeBody(body, out Tfsync fsync) ? Fsync(tag, fsync) : -Errno.EINVAL;
            case P9MessageType.Tsetattr: return P9Frame.TryDecodeBody(body, out Tsetattr setattr) ? Setattr(tag, setattr) : -Errno.EINVAL;
            case P9MessageType.Tmkdir: return P9Frame.TryDecodeBody(body, out Tmkdir mkdir) ? Mkdir(tag, mkdir) : -Errno.EINVAL;
            case P9MessageType.Tsymlink: return P9Frame.TryDecodeBody(body, out Tsymlink symlink) ? Symlink(tag, symlink) : -Errno.EINVAL;
            case P9MessageType.Tmknod: return P9Frame.TryDecodeBody(body, out Tmknod mknod) ? Mknod(tag, mknod) : -Errno.EINVAL;
            case P9MessageType.Tlink: return P9Frame.TryDecodeBody(body, out Tlink link) ? Link(tag, link) : -Errno.EINVAL;
            case P9MessageType.Tremove: return P9Frame.TryDecodeBody(body, out Tremove remove) ? Remove(tag, remove) : -Errno.EINVAL;
            case P9MessageType.Tunlinkat: return P9Frame.TryDecodeBody(body, out Tunlinkat unlinkat) ? Unlinkat(tag, unlinkat) : -Errno.EINVAL;
            case P9MessageType.Trename: return P9Frame.TryDecodeBody(body, out Trename rename) ? Rename(tag, rename) : -Errno.EINVAL;
            case P9MessageType.Trenameat: return P9Frame.TryDecodeBody(body, out Trenameat renameat) ? Renameat(tag, renameat) : -Errno.EINVAL;
            case P9MessageType.Tlock: return P9Frame.TryDecodeBody(body, out Tlock lk) ? Lock(tag, lk) : -Errno.EINVAL;
            case P9MessageType.Tgetlock: return P9Frame.TryDecodeBody(body, out Tgetlock getlock) ? Getlock(tag, getlock) : -Errno.EINVAL;
            case P9MessageType.Txattrwalk: return P9Frame.TryDecodeBody(body, out Txattrwalk xwalk) ? Xattrwalk(tag, xwalk) : -Errno.EINVAL;
            case P9MessageType.Txattrcreate: return P9Frame.TryDecodeBody(body, out Txattrcreate xcreate) ? Xattrcreate(tag, xcreate) : -Errno.EINVAL;
            case P9MessageType.Tflush: return P9Frame.TryDecodeBody(body, out Tflush _) ? Reply(tag, new Rflush()) : -Errno.EINVAL;
            default:
                // Replies, Tauth (the socket is the credential), 9P2000 messages .L replaced, and
                // types no protocol has.
                return -Errno.EOPNOTSUPP;
        }
    }

    /// <summary>Largest reply allowed now: the agreed msize (our buffer before that).</summary>
    int ReplyLimit => _msize > 0 ? _msize : _reply.Length;

    /// <summary>Encodes and sends a reply, with a host fd attached if <paramref name="fd"/> is not negative; -EMSGSIZE if it does not fit msize.</summary>
    int Reply<T>(ushort tag, in T message, int fd = -1) where T : IP9Message<T>, allows ref struct
    {
        if (!P9Frame.TryEncode(_reply.AsSpan(0, ReplyLimit), tag, message, out int length)) return -Errno.EMSGSIZE;
        SendReply(length, fd);
        return 0;
    }

    /// <summary>Sends the first <paramref name="length"/> bytes of the reply buffer (already a whole frame).</summary>
    void SendReply(int length, int fd = -1)
    {
        _replied = true;
        if (_socket.Send(_reply.AsSpan(0, length), fd) < 0) _peerGone = true;
    }

    void SendError(ushort tag, int errno)
    {
        if (!P9Frame.TryEncode(_reply, tag, new Rlerror((uint)errno), out int length)) return;
        SendReply(length);
    }

    /// <summary>Writes size[4] type[1] tag[2] count[4] before data already placed at offset 11 (Rread, Rreaddir).</summary>
    void SendCounted(P9MessageType type, ushort tag, int count, int fd = -1)
    {
        const int header = P9Const.HeaderSize + 4;
        BinaryPrimitives.WriteUInt32LittleEndian(_reply, (uint)(header + count));
        _reply[4] = (byte)type;
        BinaryPrimitives.WriteUInt16LittleEndian(_reply.AsSpan(5), tag);
        BinaryPrimitives.WriteUInt32LittleEndian(_reply.AsSpan(7), (uint)count);
        SendReply(header + count, fd);
    }

    /// <summary>A buffer of at least <paramref name="size"/> bytes for getdents and xattr values, kept for the connection.</summary>
    byte[] Scratch(int size)
    {
        if (_scratch == null || _scratch.Length < size) _scratch = GC.AllocateUninitializedArray<byte>(Math.Max(size, 4096));
        return _scratch;
    }

    /// <summary>The fid <paramref name="fid"/> if it refers to a file (not an xattr handle): else EBADF.</summary>
    bool TryGetFile(uint fid, out Fid f) => _fids.TryGet(fid, out f) && f.Kind == FidKind.File;

    /// <summary>Checks a number about to become a new fid: EBADF if in use, ENFILE if the table is full.</summary>
    int CheckNewFid(uint fid)
    {
        if (fid == P9Const.P9_NOFID || _fids.Contains(fid)) return -Errno.EBADF;
        return _fids.IsFull ? -Errno.ENFILE : 0;
    }

    public void Dispose()
    {
        _fids.ReleaseAll();
        _root.Release();
        _nodes.CloseAll();
        _socket.Dispose();
    }
}
