using Sentry.Kernel.Abi;
using Sentry.Kernel.Net;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// Sockets: AF_UNIX only (unix(7)), in the sandbox's own kernel. Other families answer
// EAFNOSUPPORT and are reported once: the sandbox has no network yet.
public static partial class Sys
{
    const int SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
    const int SOL_SOCKET = 1, SCM_RIGHTS = 1, SCM_MAX_FD = 253;
    const int MSG_PEEK = 0x2, MSG_CTRUNC = 0x8, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, MSG_WAITALL = 0x100,
        MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;
    const int SO_TYPE = 3, SO_ERROR = 4, SO_SNDBUF = 7, SO_RCVBUF = 8, SO_KEEPALIVE = 9, SO_PASSCRED = 16,
        SO_PEERCRED = 17, SO_REUSEADDR = 2, SO_ACCEPTCONN = 30, SO_PROTOCOL = 38, SO_DOMAIN = 39;

    internal static void RegisterSocket(SyscallHandler?[] t)
    {
        t[41] = Socket; t[53] = SocketPair; t[49] = Bind; t[50] = Listen; t[42] = Connect;
        t[43] = (Task k, in SyscallArgs a) => Accept(k, a.A0, a.A1, a.A2, 0);
        t[288] = (Task k, in SyscallArgs a) => Accept(k, a.A0, a.A1, a.A2, (int)a.A3);
        t[44] = SendTo; t[45] = RecvFrom; t[46] = SendMsg; t[47] = RecvMsg; t[48] = ShutdownSocket;
        t[51] = (Task k, in SyscallArgs a) => SocketName(k, a, peer: false);
        t[52] = (Task k, in SyscallArgs a) => SocketName(k, a, peer: true);
        t[54] = SetSockOpt; t[55] = GetSockOpt;
    }

    static long SocketType(Task t, int family, int type, int protocol, out int kind)
    {
        kind = type & 0xf;
        if ((type & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC)) != 0) return -Errno.EINVAL;
        if (family != UnixAddress.AF_UNIX)
        {
            if (family is < 0 or >= 46) return -Errno.EAFNOSUPPORT;
            t.Sandbox.ReportUnsupported($"socket family {family} (only AF_UNIX sockets exist in the sandbox)");
            return -Errno.EAFNOSUPPORT;
        }
        const int SOCK_RAW = 3;
        if (kind == SOCK_RAW) kind = UnixSocket.SOCK_DGRAM; // unix(7): SOCK_RAW is taken as SOCK_DGRAM
        if (kind is not (UnixSocket.SOCK_STREAM or UnixSocket.SOCK_DGRAM or UnixSocket.SOCK_SEQPACKET)) return -Errno.ESOCKTNOSUPPORT;
        if (protocol is not (0 or UnixAddress.AF_UNIX)) return -Errno.EPROTONOSUPPORT;
        return 0;
    }

    static long Socket(Task t, in SyscallArgs a)
    {
        int type = (int)a.A1;
        long r = SocketType(t, (int)a.A0, type, (int)a.A2, out int kind);
        if (r < 0) return r;
        return t.Fds.Install(new UnixSocket(t.Sandbox.UnixNames, kind, (type & SOCK_NONBLOCK) != 0 ? O_NONBLOCK : 0), (type & SOCK_CLOEXEC) != 0);
    }

    static long SocketPair(Task t, in SyscallArgs a)
    {
        int type = (int)a.A1;
        long r = SocketType(t, (int)a.A0, type, (int)a.A2, out int kind);
        if (r < 0) return r;
        if (!t.Mm.IsWritable(a.A3, 8)) return -Errno.EFAULT;
        var (x, y) = UnixSocket.Pair(t.Sandbox.UnixNames, kind, (type & SOCK_NONBLOCK) != 0 ? O_NONBLOCK : 0, t);
        bool cloexec = (type & SOCK_CLOEXEC) != 0;
        int fx = t.Fds.Install(x, cloexec);
        if (fx < 0) { y.Release(); return fx; }
        int fy = t.Fds.Install(y, cloexec);
        if (fy < 0) { t.Fds.Close(fx); return fy; }
        if (Put(t, a.A3, (fx, fy)) < 0) { t.Fds.Close(fx); t.Fds.Close(fy); return -Errno.EFAULT; }
        return 0;
    }

    static UnixSocket? SocketOf(Task t, ulong fd, out long error)
    {
        var f = t.Fds.Get(Fd(fd));
        error = f == null ? -Errno.EBADF : f is UnixSocket ? 0 : -Errno.ENOTSOCK;
        return f as UnixSocket;
    }

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
        if (addr == 0) return 0;
        if (t.Mm.Read(lenPtr, out int room) < 0) return -Errno.EFAULT;
        if (room < 0) return -Errno.EINVAL;
        Span<byte> raw = stackalloc byte[UnixAddress.Size];
        int n = address.Format(raw);
        if (t.Mm.CopyOut(addr, raw[..Math.Min(n, room)]) < 0) return -Errno.EFAULT;
        return Put(t, lenPtr, n);
    }

    static long Bind(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        if (s == null) return r;
        r = ReadAddress(t, a.A1, a.A2, out var address);
        if (r < 0) return r;
        return s.Bind(address, path =>
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

    static long Listen(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        if (s == null) return r;
        return s.Listen(t, (int)a.A1);
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

    static long Connect(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        if (s == null) return r;
        r = ReadAddress(t, a.A1, a.A2, out var address);
        if (r < 0) return r;
        r = FindBound(t, address, out var target);
        return r < 0 ? r : s.Connect(t, target);
    }

    static long Accept(Task t, ulong fd, ulong addr, ulong lenPtr, int flags)
    {
        if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != 0) return -Errno.EINVAL;
        var s = SocketOf(t, fd, out long r);
        if (s == null) return r;
        if (addr != 0 && !t.Mm.IsWritable(lenPtr, 4)) return -Errno.EFAULT;
        r = s.Accept(t, out var accepted);
        if (r < 0) return r;
        if ((flags & SOCK_NONBLOCK) != 0) accepted!.Flags |= O_NONBLOCK;
        var peerAddress = accepted!.Peer?.Local ?? default;
        int nfd = t.Fds.Install(accepted, (flags & SOCK_CLOEXEC) != 0);
        if (nfd < 0) return nfd;
        r = WriteAddress(t, addr, lenPtr, peerAddress);
        return r < 0 ? r : nfd;
    }

    static long SocketName(Task t, in SyscallArgs a, bool peer)
    {
        var s = SocketOf(t, a.A0, out long r);
        if (s == null) return r;
        if (peer && s.Peer == null) return -Errno.ENOTCONN;
        return WriteAddress(t, a.A1, a.A2, peer ? s.Peer!.Local : s.Local);
    }

    static long ShutdownSocket(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        if (s == null) return r;
        return (int)a.A1 is < 0 or > 2 ? -Errno.EINVAL : s.Shutdown((int)a.A1);
    }

    static long SendTo(Task t, in SyscallArgs a) =>
        Send(t, a.A0, [(a.A1, a.A2)], (int)a.A3, a.A4, a.A5, 0, 0);

    static long RecvFrom(Task t, in SyscallArgs a)
    {
        if (a.A4 != 0 && !t.Mm.IsWritable(a.A5, 4)) return -Errno.EFAULT;
        return Receive(t, a.A0, [(a.A1, a.A2)], (int)a.A3, a.A4, a.A5, 0, 0, 0);
    }

    /// <summary>struct msghdr: name, namelen, iov, iovlen, control, controllen, flags.</summary>
    static long ReadMsghdr(Task t, ulong msg, out (ulong Name, ulong NameLen, ulong Iov, ulong IovLen, ulong Control, ulong ControlLen) m)
    {
        m = default;
        Span<ulong> h = stackalloc ulong[6];
        if (t.Mm.CopyIn(msg, System.Runtime.InteropServices.MemoryMarshal.AsBytes(h)) < 0) return -Errno.EFAULT;
        m = (h[0], (uint)h[1], h[2], h[3], h[4], h[5]);
        return 0;
    }

    static long SendMsg(Task t, in SyscallArgs a)
    {
        long r = ReadMsghdr(t, a.A1, out var m);
        if (r < 0) return r;
        r = ReadIovecs(t, m.Iov, m.IovLen, out var vecs);
        return r < 0 ? r : Send(t, a.A0, vecs, (int)a.A2, m.Name, m.NameLen, m.Control, m.ControlLen);
    }

    static long RecvMsg(Task t, in SyscallArgs a)
    {
        long r = ReadMsghdr(t, a.A1, out var m);
        if (r < 0) return r;
        r = ReadIovecs(t, m.Iov, m.IovLen, out var vecs);
        return r < 0 ? r : Receive(t, a.A0, vecs, (int)a.A2, m.Name, a.A1 + 8, m.Control, m.ControlLen, a.A1);
    }

    static long Send(Task t, ulong fd, ReadOnlySpan<(ulong Base, ulong Len)> vecs, int flags, ulong addr, ulong addrLen, ulong control, ulong controlLen)
    {
        var s = SocketOf(t, fd, out long r);
        if (s == null) return r;
        UnixSocket? to = null;
        if (addr != 0 && addrLen != 0) // a zero length means no address, as Linux takes msg_namelen
        {
            r = ReadAddress(t, addr, addrLen, out var address);
            if (r < 0) return r;
            // A stream socket takes no address (EISCONN once connected, else EOPNOTSUPP, as
            // unix_stream_sendmsg); a seqpacket one ignores it.
            if (s.Type == UnixSocket.SOCK_STREAM) return s.Peer != null ? -Errno.EISCONN : -Errno.EOPNOTSUPP;
            if (s.Type == UnixSocket.SOCK_DGRAM)
            {
                r = FindBound(t, address, out to);
                if (r < 0) return r;
            }
        }
        ulong total = TotalLength(vecs);
        if (total > MAX_RW_COUNT) return -Errno.EMSGSIZE;
        // The queue keeps its own copy of what is gathered here.
        var data = Staging(t, total);
        int at = 0;
        foreach (var (b, len) in vecs)
        {
            if (t.Mm.CopyIn(b, data.Slice(at, (int)len)) < 0) return -Errno.EFAULT;
            at += (int)len;
        }
        r = ReadRights(t, control, controlLen, out var rights);
        if (r < 0) return r;
        r = s.Send(t, data, rights, to, (flags & MSG_DONTWAIT) != 0, (flags & MSG_NOSIGNAL) != 0);
        if (r <= 0 && rights != null) foreach (var f in rights) f.Release();
        return r;
    }

    static ulong TotalLength(ReadOnlySpan<(ulong Base, ulong Len)> vecs)
    {
        ulong total = 0;
        foreach (var (_, len) in vecs) total += len;
        return total;
    }

    /// <summary>Where a send gathers or a receive stages <paramref name="size"/> bytes: the task's bounce buffer when they fit (the usual case), else a new array.</summary>
    static Span<byte> Staging(Task t, ulong size) => size <= (ulong)t.Bounce.Length ? t.Bounce.AsSpan(0, (int)size) : new byte[size];

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

    static long Receive(Task t, ulong fd, ReadOnlySpan<(ulong Base, ulong Len)> vecs, int flags, ulong addr, ulong addrLenPtr, ulong control, ulong controlLen, ulong msg)
    {
        var s = SocketOf(t, fd, out long r);
        if (s == null) return r;
        var buffer = Staging(t, Math.Min(TotalLength(vecs), (ulong)MAX_RW_COUNT));
        r = s.Receive(t, buffer, (flags & MSG_PEEK) != 0, (flags & MSG_DONTWAIT) != 0, (flags & MSG_WAITALL) != 0,
            (flags & MSG_TRUNC) != 0 && s.Type != UnixSocket.SOCK_STREAM, out var rights, out var from, out bool truncated);
        if (r < 0) return r;
        int copied = (int)Math.Min(r, buffer.Length), at = 0;
        foreach (var (b, len) in vecs)
        {
            int n = (int)Math.Min((ulong)(copied - at), len);
            if (n == 0) break;
            if (t.Mm.CopyOut(b, buffer.Slice(at, n)) < 0) { DropRights(rights); return -Errno.EFAULT; }
            at += n;
        }
        if (addr != 0 && s.Type == UnixSocket.SOCK_DGRAM && WriteAddress(t, addr, addrLenPtr, from) < 0) { DropRights(rights); return -Errno.EFAULT; }
        if (msg == 0) { DropRights(rights); return r; }
        if (addr == 0 || s.Type != UnixSocket.SOCK_DGRAM) Put(t, msg + 8, 0); // msg_namelen: no address
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
        if (Put(t, msg + 40, controlUsed) < 0 || Put(t, msg + 48, outFlags) < 0) return -Errno.EFAULT;
        return r;

        static void DropRights(FileDescription[]? rs) { if (rs != null) foreach (var f in rs) f.Release(); }
    }

    static long GetSockOpt(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        if (s == null) return r;
        if (t.Mm.Read(a.A4, out int room) < 0) return -Errno.EFAULT;
        if (room < 0) return -Errno.EINVAL;
        if ((int)a.A1 != SOL_SOCKET) return -Errno.EOPNOTSUPP; // unix sockets have no options of other levels
        int opt = (int)a.A2;
        if (opt == SO_PEERCRED)
        {
            var (pid, uid, gid) = s.PeerCred;
            Span<int> cred = [pid, (int)uid, (int)gid];
            int n = Math.Min(room, 12);
            if (t.Mm.CopyOut(a.A3, System.Runtime.InteropServices.MemoryMarshal.AsBytes(cred)[..n]) < 0) return -Errno.EFAULT;
            return Put(t, a.A4, n);
        }
        int? value = opt switch
        {
            SO_TYPE => s.Type,
            SO_ERROR => 0,
            SO_DOMAIN => UnixAddress.AF_UNIX,
            SO_PROTOCOL => 0,
            SO_ACCEPTCONN => s.Listening ? 1 : 0,
            SO_SNDBUF or SO_RCVBUF => s.Options.GetValueOrDefault(opt, UnixSocket.ReceiveBuffer),
            SO_PASSCRED or SO_REUSEADDR or SO_KEEPALIVE => s.Options.GetValueOrDefault(opt, 0),
            _ => null,
        };
        if (value == null) return -Errno.ENOPROTOOPT;
        Span<int> v = [value.Value];
        int len = Math.Min(room, 4);
        if (t.Mm.CopyOut(a.A3, System.Runtime.InteropServices.MemoryMarshal.AsBytes(v)[..len]) < 0) return -Errno.EFAULT;
        return Put(t, a.A4, len);
    }

    static long SetSockOpt(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        if (s == null) return r;
        if ((int)a.A1 != SOL_SOCKET) return -Errno.EOPNOTSUPP;
        int opt = (int)a.A2;
        if (opt is not (SO_SNDBUF or SO_RCVBUF or SO_PASSCRED or SO_REUSEADDR or SO_KEEPALIVE)) return -Errno.ENOPROTOOPT;
        if ((int)a.A4 < 4) return -Errno.EINVAL;
        if (t.Mm.Read(a.A3, out int value) < 0) return -Errno.EFAULT;
        // Buffer sizes are recorded as Linux reports them (doubled, within its limits); they do not resize the queue.
        s.Options[opt] = opt is SO_SNDBUF or SO_RCVBUF ? Math.Clamp(value, 2304, 212992) * 2 : value != 0 ? 1 : 0;
        return 0;
    }
}
