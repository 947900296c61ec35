using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Net;

// The socket calls of an AF_UNIX socket at the syscall level (unix(7)): addresses, paths and
// SCM_RIGHTS read from application memory, then the socket's own operations.
public sealed partial class UnixSocket
{
    const int SCM_RIGHTS = 1, SCM_MAX_FD = 253;

    static long ReadAddress(Task t, ulong addr, ulong len, out UnixAddress address)
    {
        address = default;
        if ((int)len < 0 || len > UnixAddress.Size) return -Errno.EINVAL;
        Span<byte> raw = stackalloc byte[UnixAddress.Size];
        if (t.Mm.CopyIn(addr, raw[..(int)len]) < 0) return -Errno.EFAULT;
        return UnixAddress.Parse(raw[..(int)len], out address);
    }

    /// <summary>Writes <paramref name="address"/> for accept/getsockname/recvfrom: truncated to *lenPtr, the full length stored back.</summary>
    static long WriteAddress(Task t, ulong addr, ulong lenPtr, in UnixAddress address)
    {
        Span<byte> raw = stackalloc byte[UnixAddress.Size];
        int n = address.Format(raw);
        return WriteAddressOut(t, addr, lenPtr, raw[..n]);
    }

    public override long Bind(Task t, ulong addr, ulong len)
    {
        long r = ReadAddress(t, addr, len, out var address);
        if (r < 0) return r;
        return Bind(address, path =>
        {
            var l = PathWalker.Resolve(t, AT_FDCWD, path, followLast: false);
            if (l.Error != 0) return (l.Error, default);
            if (l.Node != null) return (-Errno.EEXIST, default);
            if (l.Parent == null) return (-Errno.ENOENT, default);
            int perm = Permission.ForDirChange(t, l.Parent);
            if (perm != 0) return (-perm, default);
            long made = l.Parent.MakeNode(t, l.LastName, (uint)(S_IFSOCK | (0x1ff & ~t.Fs.Umask)), 0);
            if (made < 0) return (made, default);
            long found = l.Parent.Lookup(t, l.LastName, out var node);
            return found < 0 ? (found, default) : (0, node!.Key);
        });
    }

    /// <summary>The socket bound at <paramref name="address"/>, as connect and sendto find it: ENOENT, ECONNREFUSED, EACCES as Linux.</summary>
    static long FindBound(Task t, in UnixAddress address, out UnixSocket? target)
    {
        target = null;
        (ulong, ulong) key = default;
        if (address.IsUnnamed) return -Errno.EINVAL;
        if (address.Path != null)
        {
            var l = PathWalker.Resolve(t, AT_FDCWD, address.Path, followLast: true);
            if (l.Error != 0) return l.Error;
            if (l.Node == null) return -Errno.ENOENT;
            if ((l.Node.Mode & S_IFMT) != S_IFSOCK) return -Errno.ECONNREFUSED;
            if (!Permission.May(t, l.Node, W_OK)) return -Errno.EACCES;
            key = l.Node.Key;
        }
        lock (t.Sandbox.UnixNames.Lock) target = t.Sandbox.UnixNames.Find(address, key);
        return target == null ? -Errno.ECONNREFUSED : 0;
    }

    public override long Connect(Task t, ulong addr, ulong len)
    {
        long r = ReadAddress(t, addr, len, out var address);
        if (r < 0) return r;
        r = FindBound(t, address, out var target);
        return r < 0 ? r : Connect(t, target);
    }

    public override long Accept(Task t, out SocketFile? accepted, Span<byte> peer, out int peerLength)
    {
        peerLength = 0;
        long r = Accept(t, out UnixSocket? s);
        accepted = s;
        if (r < 0) return r;
        peerLength = (s!.Peer?.Local ?? default).Format(peer);
        return 0;
    }

    public override long GetName(Task t, bool peer, Span<byte> into, out int length)
    {
        length = 0;
        var p = Peer;
        if (peer && p == null) return -Errno.ENOTCONN;
        length = (peer ? p!.Local : Local).Format(into);
        return 0;
    }

    public override long Shutdown(Task t, int how) => Shutdown(how);

    public override long SendMsg(Task t, ReadOnlySpan<(ulong Base, ulong Len)> vecs, int flags, bool hasAddress, ulong addr, ulong addrLen,
        ulong control, ulong controlLen)
    {
        long r;
        UnixSocket? to = null;
        if (addr != 0 && addrLen != 0) // a zero length means no address, as Linux takes msg_namelen
        {
            r = ReadAddress(t, addr, addrLen, out var address);
            if (r < 0) return r;
            // A stream socket takes no address (EISCONN once connected, else EOPNOTSUPP, as
            // unix_stream_sendmsg); a seqpacket one ignores it.
            if (Type == SOCK_STREAM) return Peer != null ? -Errno.EISCONN : -Errno.EOPNOTSUPP;
            if (Type == SOCK_DGRAM)
            {
                r = FindBound(t, address, out to);
                if (r < 0) return r;
            }
        }
        // The queue keeps its own copy of what is gathered here.
        r = Gather(t, vecs, out var data);
        if (r < 0) return r;
        r = ReadRights(t, control, controlLen, out var rights);
        if (r < 0) return r;
        r = Send(t, data, rights, to, (flags & MSG_DONTWAIT) != 0, (flags & MSG_NOSIGNAL) != 0);
        if (r <= 0 && rights != null) foreach (var f in rights) f.Release();
        return r;
    }

    /// <summary>The descriptions of an SCM_RIGHTS control message (each with a reference taken), or null.</summary>
    static long ReadRights(Task t, ulong control, ulong controlLen, out FileDescription[]? rights)
    {
        rights = null;
        if (control == 0 || controlLen == 0) return 0;
        if (controlLen > 65536) return -Errno.ENOBUFS;
        var buf = new byte[controlLen];
        if (t.Mm.CopyIn(control, buf) < 0) return -Errno.EFAULT;
        var list = new List<FileDescription>();
        for (int off = 0; off + 16 <= buf.Length;)
        {
            long len = BitConverter.ToInt64(buf, off);
            int level = BitConverter.ToInt32(buf, off + 8), type = BitConverter.ToInt32(buf, off + 12);
            if (len < 16 || off + len > buf.Length) { Drop(list); return -Errno.EINVAL; }
            if (level != SOL_SOCKET || type != SCM_RIGHTS) { Drop(list); return -Errno.EINVAL; }
            for (int p = off + 16; p + 4 <= off + len; p += 4)
            {
                var f = t.Fds.Get(BitConverter.ToInt32(buf, p));
                if (f == null || list.Count >= SCM_MAX_FD) { Drop(list); return f == null ? -Errno.EBADF : -Errno.EINVAL; }
                f.AddRef();
                list.Add(f);
            }
            off += (int)((len + 7) & ~7L);
        }
        rights = list.Count > 0 ? [.. list] : null;
        return 0;

        static void Drop(List<FileDescription> l) { foreach (var f in l) f.Release(); }
    }

    public override long RecvMsg(Task t, ReadOnlySpan<(ulong Base, ulong Len)> vecs, int flags, ulong addr, ulong addrLenPtr,
        ulong control, ulong controlLen, ulong msg)
    {
        var buffer = Staging(t, Math.Min(TotalLength(vecs), (ulong)Syscalls.Sys.MAX_RW_COUNT));
        long r = Receive(t, buffer, (flags & MSG_PEEK) != 0, (flags & MSG_DONTWAIT) != 0, (flags & MSG_WAITALL) != 0,
            (flags & MSG_TRUNC) != 0 && Type != SOCK_STREAM, out var rights, out var from, out bool truncated);
        if (r < 0) return r;
        int copied = (int)Math.Min(r, buffer.Length);
        if (Scatter(t, vecs, buffer, copied) < 0) { DropRights(rights); return -Errno.EFAULT; }
        if (addr != 0 && Type == SOCK_DGRAM && WriteAddress(t, addr, addrLenPtr, from) < 0) { DropRights(rights); return -Errno.EFAULT; }
        if (msg == 0) { DropRights(rights); return r; }
        if (addr == 0 || Type != SOCK_DGRAM) Syscalls.Sys.Put(t, msg + 8, 0); // msg_namelen: no address
        // Linux starts msg_flags from the MSG_CMSG_CLOEXEC the caller passed.
        int outFlags = (truncated ? MSG_TRUNC : 0) | (flags & MSG_CMSG_CLOEXEC);
        ulong controlUsed = 0;
        if (rights != null)
        {
            // As many descriptions as fit in the control buffer; the rest are closed (MSG_CTRUNC).
            int fit = control == 0 || controlLen < 16 ? 0 : (int)Math.Min((ulong)rights.Length, (controlLen - 16) / 4);
            var data = new byte[16 + 4 * fit];
            for (int i = 0; i < rights.Length; i++)
            {
                if (i < fit) BitConverter.TryWriteBytes(data.AsSpan(16 + 4 * i), t.Fds.Install(rights[i], (flags & MSG_CMSG_CLOEXEC) != 0));
                else { rights[i].Release(); outFlags |= MSG_CTRUNC; }
            }
            if (fit > 0)
            {
                BitConverter.TryWriteBytes(data.AsSpan(0), (long)data.Length);
                BitConverter.TryWriteBytes(data.AsSpan(8), SOL_SOCKET);
                BitConverter.TryWriteBytes(data.AsSpan(12), SCM_RIGHTS);
                if (t.Mm.CopyOut(control, data) < 0) return -Errno.EFAULT;
                controlUsed = (ulong)((data.Length + 7) & ~7);
                if (controlUsed > controlLen) controlUsed = (ulong)data.Length;
            }
        }
        if (Syscalls.Sys.Put(t, msg + 40, controlUsed) < 0 || Syscalls.Sys.Put(t, msg + 48, outFlags) < 0) return -Errno.EFAULT;
        return r;

        static void DropRights(FileDescription[]? rs) { if (rs != null) foreach (var f in rs) f.Release(); }
    }

    public override long GetSockOpt(Task t, int level, int opt, ulong value, ulong lenPtr)
    {
        if (t.Mm.Read(lenPtr, out int room) < 0) return -Errno.EFAULT;
        if (room < 0) return -Errno.EINVAL;
        if (level != SOL_SOCKET) return -Errno.EOPNOTSUPP; // unix sockets have no options of other levels
        if (opt == SO_PEERCRED)
        {
            var (pid, uid, gid) = PeerCred;
            Span<int> cred = [pid, (int)uid, (int)gid];
            return WriteOpt(t, value, lenPtr, Math.Min(room, 12), System.Runtime.InteropServices.MemoryMarshal.AsBytes(cred));
        }
        int? v = opt switch
        {
            SO_TYPE => Type,
            SO_ERROR => 0,
            SO_DOMAIN => UnixAddress.AF_UNIX,
            SO_PROTOCOL => 0,
            SO_ACCEPTCONN => Listening ? 1 : 0,
            SO_SNDBUF or SO_RCVBUF => Options.GetValueOrDefault(opt, ReceiveBuffer),
            SO_PASSCRED or SO_REUSEADDR or SO_KEEPALIVE => Options.GetValueOrDefault(opt, 0),
            _ => null,
        };
        if (v == null) return -Errno.ENOPROTOOPT;
        return WriteIntOpt(t, value, lenPtr, room, v.Value);
    }

    public override long SetSockOpt(Task t, int level, int opt, ulong value, int len)
    {
        if (level != SOL_SOCKET) return -Errno.EOPNOTSUPP;
        if (opt is not (SO_SNDBUF or SO_RCVBUF or SO_PASSCRED or SO_REUSEADDR or SO_KEEPALIVE)) return -Errno.ENOPROTOOPT;
        if (len < 4) return -Errno.EINVAL;
        if (t.Mm.Read(value, out int v) < 0) return -Errno.EFAULT;
        // Buffer sizes are recorded as Linux reports them (doubled, within its limits); they do not resize the queue.
        Options[opt] = opt is SO_SNDBUF or SO_RCVBUF ? Math.Clamp(v, 2304, 212992) * 2 : v != 0 ? 1 : 0;
        return 0;
    }
}
