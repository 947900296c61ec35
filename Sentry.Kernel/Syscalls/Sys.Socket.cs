using Sentry.Kernel.Abi;
using Sentry.Kernel.Net;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// Sockets: AF_UNIX (unix(7)) in the sandbox's own kernel, AF_INET/AF_INET6 over the sandbox's
// network stack (Sandbox.Network: the user-space stack or host sockets), AF_NETLINK
// (NETLINK_ROUTE) answered from the stack's interfaces and routes. Each call finds the socket and
// dispatches to its family (SocketFile); sendmmsg/recvmmsg are loops of sendmsg/recvmsg here.
public static partial class Sys
{
    const int SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
    const int AF_UNSPEC = 0, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16, AF_MAX = 46;

    internal static void RegisterSocket(SyscallHandler?[] t)
    {
        t[41] = Socket; t[53] = SocketPair; t[49] = Bind; t[50] = Listen; t[42] = Connect;
        t[43] = (Task k, in SyscallArgs a) => Accept(k, a.A0, a.A1, a.A2, 0);
        t[288] = (Task k, in SyscallArgs a) => Accept(k, a.A0, a.A1, a.A2, (int)a.A3);
        t[44] = SendTo; t[45] = RecvFrom; t[46] = SendMsg; t[47] = RecvMsg; t[48] = ShutdownSocket;
        t[51] = (Task k, in SyscallArgs a) => SocketName(k, a, peer: false);
        t[52] = (Task k, in SyscallArgs a) => SocketName(k, a, peer: true);
        t[54] = SetSockOpt; t[55] = GetSockOpt;
        t[307] = SendMmsg; t[299] = RecvMmsg;
    }

    /// <summary>An AF_UNIX type and protocol checked as unix_create: the kind (SOCK_RAW taken as SOCK_DGRAM), or -errno.</summary>
    static long UnixType(int kind, int protocol, out int unixKind)
    {
        unixKind = kind == SocketFile.SOCK_RAW ? SocketFile.SOCK_DGRAM : kind; // unix(7): SOCK_RAW is taken as SOCK_DGRAM
        if (unixKind is not (SocketFile.SOCK_STREAM or SocketFile.SOCK_DGRAM or SocketFile.SOCK_SEQPACKET)) return -Errno.ESOCKTNOSUPPORT;
        if (protocol is not (0 or UnixAddress.AF_UNIX)) return -Errno.EPROTONOSUPPORT;
        return 0;
    }

    static long Socket(Task t, in SyscallArgs a)
    {
        int family = (int)a.A0, type = (int)a.A1, protocol = (int)a.A2;
        int kind = type & 0xf;
        if ((type & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC)) != 0) return -Errno.EINVAL;
        if (family is < 0 or >= AF_MAX) return -Errno.EAFNOSUPPORT;
        int flags = (type & SOCK_NONBLOCK) != 0 ? O_NONBLOCK : 0;
        bool cloexec = (type & SOCK_CLOEXEC) != 0;
        SocketFile? s;
        switch (family)
        {
            case UnixAddress.AF_UNIX:
            {
                long r = UnixType(kind, protocol, out int unixKind);
                if (r < 0) return r;
                s = new UnixSocket(t.Sandbox.UnixNames, unixKind, flags);
                break;
            }
            case AF_INET or AF_INET6:
            {
                var stack = t.Sandbox.Network;
                if (stack == null)
                {
                    t.Sandbox.ReportUnsupported($"socket family {family} (the sandbox has no network stack)");
                    return -Errno.EAFNOSUPPORT;
                }
                long r = InetSocket.Create(t, stack, family, kind, protocol, flags, out var inet);
                if (r < 0) return r;
                s = inet;
                break;
            }
            case AF_NETLINK:
            {
                long r = NetlinkSocket.Create(t, kind, protocol, flags, out var nl);
                if (r < 0) return r;
                s = nl;
                break;
            }
            default:
                t.Sandbox.ReportUnsupported($"socket family {family}");
                return -Errno.EAFNOSUPPORT;
        }
        return t.Fds.Install(s!, cloexec);
    }

    static long SocketPair(Task t, in SyscallArgs a)
    {
        int family = (int)a.A0, type = (int)a.A1;
        if ((type & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC)) != 0) return -Errno.EINVAL;
        if (family is < 0 or >= AF_MAX) return -Errno.EAFNOSUPPORT;
        if (family != UnixAddress.AF_UNIX)
        {
            // Linux makes the socket, then its family has no socketpair: EOPNOTSUPP for inet.
            if (family is AF_INET or AF_INET6 && t.Sandbox.Network != null) return -Errno.EOPNOTSUPP;
            if (family == AF_NETLINK) return -Errno.EOPNOTSUPP;
            t.Sandbox.ReportUnsupported($"socket family {family}");
            return -Errno.EAFNOSUPPORT;
        }
        long r = UnixType(type & 0xf, (int)a.A2, out int kind);
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

    static SocketFile? SocketOf(Task t, ulong fd, out long error)
    {
        var f = t.Fds.Get(Fd(fd));
        error = f == null ? -Errno.EBADF : f is SocketFile ? 0 : -Errno.ENOTSOCK;
        return f as SocketFile;
    }

    static long Bind(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        return s == null ? r : s.Bind(t, a.A1, a.A2);
    }

    static long Listen(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        return s == null ? r : s.Listen(t, (int)a.A1);
    }

    static long Connect(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        return s == null ? r : s.Connect(t, a.A1, a.A2);
    }

    static long Accept(Task t, ulong fd, ulong addr, ulong lenPtr, int flags)
    {
        if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != 0) return -Errno.EINVAL;
        var s = SocketOf(t, fd, out long r);
        if (s == null) return r;
        if (addr != 0 && !t.Mm.IsWritable(lenPtr, 4)) return -Errno.EFAULT;
        Span<byte> peer = stackalloc byte[SocketFile.AddressMax];
        r = s.Accept(t, out var accepted, peer, out int peerLength);
        if (r < 0) return r;
        if ((flags & SOCK_NONBLOCK) != 0) accepted!.Flags |= O_NONBLOCK;
        int nfd = t.Fds.Install(accepted!, (flags & SOCK_CLOEXEC) != 0);
        if (nfd < 0) return nfd;
        r = SocketFile.WriteAddressOut(t, addr, lenPtr, peer[..peerLength]);
        return r < 0 ? r : nfd;
    }

    static long SocketName(Task t, in SyscallArgs a, bool peer)
    {
        var s = SocketOf(t, a.A0, out long r);
        if (s == null) return r;
        Span<byte> raw = stackalloc byte[SocketFile.AddressMax];
        r = s.GetName(t, peer, raw, out int n);
        if (r < 0) return r;
        return SocketFile.WriteAddressOut(t, a.A1, a.A2, raw[..n]);
    }

    static long ShutdownSocket(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        if (s == null) return r;
        return (int)a.A1 is < 0 or > 2 ? -Errno.EINVAL : s.Shutdown(t, (int)a.A1);
    }

    static long SendTo(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        if (s == null) return r;
        return s.SendMsg(t, [(a.A1, a.A2)], (int)a.A3, a.A4 != 0, a.A4, a.A5, 0, 0);
    }

    static long RecvFrom(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        if (s == null) return r;
        // AF_UNIX checks the length pointer first; Linux itself only writes it after receiving.
        if (s is UnixSocket && a.A4 != 0 && !t.Mm.IsWritable(a.A5, 4)) return -Errno.EFAULT;
        return s.RecvMsg(t, [(a.A1, a.A2)], (int)a.A3, a.A4, a.A5, 0, 0, 0);
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
        var s = SocketOf(t, a.A0, out long r);
        return s == null ? r : SendOne(t, s, a.A1, (int)a.A2);
    }

    static long SendOne(Task t, SocketFile s, ulong msg, int flags)
    {
        long r = ReadMsghdr(t, msg, out var m);
        if (r < 0) return r;
        if (m.IovLen > 1024) return -Errno.EMSGSIZE; // UIO_MAXIOV, checked by copy_msghdr_from_user
        r = ReadIovecs(t, m.Iov, m.IovLen, out var vecs);
        if (r < 0) return r;
        // As copy_msghdr_from_user: a negative length is EINVAL, a long one is cut to sockaddr_storage.
        if (m.Name != 0 && (int)m.NameLen < 0) return -Errno.EINVAL;
        ulong nameLen = s.Family == UnixAddress.AF_UNIX ? m.NameLen : Math.Min(m.NameLen, (ulong)SocketFile.AddressMax);
        return s.SendMsg(t, vecs, flags, m.Name != 0 && m.NameLen != 0, m.Name, nameLen, m.Control, m.ControlLen);
    }

    static long RecvMsg(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        return s == null ? r : RecvOne(t, s, a.A1, (int)a.A2);
    }

    static long RecvOne(Task t, SocketFile s, ulong msg, int flags)
    {
        long r = ReadMsghdr(t, msg, out var m);
        if (r < 0) return r;
        if (m.IovLen > 1024) return -Errno.EMSGSIZE;
        r = ReadIovecs(t, m.Iov, m.IovLen, out var vecs);
        return r < 0 ? r : s.RecvMsg(t, vecs, flags, m.Name, msg + 8, m.Control, m.ControlLen, msg);
    }

    /// <summary>
    /// sendmmsg(2): sendmsg for each struct mmsghdr (a msghdr then msg_len) until one fails; the
    /// count sent, or the first one's error (__sys_sendmmsg). MSG_BATCH is dropped.
    /// </summary>
    static long SendMmsg(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        if (s == null) return r;
        uint vlen = Math.Min((uint)a.A2, 1024u); // UIO_MAXIOV
        int flags = (int)a.A3 & ~0x40000; // MSG_BATCH
        int done = 0;
        for (; done < vlen; done++)
        {
            ulong entry = a.A1 + (ulong)done * 64;
            r = SendOne(t, s, entry, flags);
            if (r < 0) break;
            if (Put(t, entry + 56, (uint)r) < 0) { r = -Errno.EFAULT; break; }
            if (t.SignalPending && done + 1 < vlen) { done++; break; }
        }
        if (done > 0) return done;
        return r;
    }

    /// <summary>
    /// recvmmsg(2): recvmsg for each struct mmsghdr; MSG_WAITFORONE makes the calls after the
    /// first non-blocking; the timeout is checked between datagrams, as Linux does. An error after
    /// some were received is kept for the next call on Linux (sk_err); here it is dropped.
    /// </summary>
    static long RecvMmsg(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        if (s == null) return r;
        int flags = (int)a.A3;
        long? deadline = null;
        if (a.A4 != 0)
        {
            r = ReadTimespec(t, a.A4, out long sec, out long nsec);
            if (r < 0) return r;
            if (sec < 0 || nsec is < 0 or >= NsPerSec) return -Errno.EINVAL;
            deadline = DeadlineAfter(sec * NsPerSec + nsec);
        }
        uint vlen = Math.Min((uint)a.A2, 1024u);
        int done = 0;
        for (; done < vlen; done++)
        {
            ulong entry = a.A1 + (ulong)done * 64;
            r = RecvOne(t, s, entry, flags);
            if (r < 0) break;
            if (Put(t, entry + 56, (uint)r) < 0) { r = -Errno.EFAULT; break; }
            if ((flags & SocketFile.MSG_WAITFORONE) != 0) flags |= SocketFile.MSG_DONTWAIT;
            if (deadline is { } d && System.Diagnostics.Stopwatch.GetTimestamp() >= d) { done++; break; }
        }
        if (done > 0)
        {
            if (a.A4 != 0 && deadline is { } d) WriteRemaining(t, a.A4, d);
            return done;
        }
        return r;
    }

    /// <summary>Writes back the time left until <paramref name="deadline"/> (recvmmsg's timeout is updated).</summary>
    static void WriteRemaining(Task t, ulong addr, long deadline)
    {
        long left = Math.Max(0, deadline - System.Diagnostics.Stopwatch.GetTimestamp());
        long ns = (long)((double)left * NsPerSec / System.Diagnostics.Stopwatch.Frequency);
        Put(t, addr, (ns / NsPerSec, ns % NsPerSec));
    }

    static long GetSockOpt(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        return s == null ? r : s.GetSockOpt(t, (int)a.A1, (int)a.A2, a.A3, a.A4);
    }

    static long SetSockOpt(Task t, in SyscallArgs a)
    {
        var s = SocketOf(t, a.A0, out long r);
        return s == null ? r : s.SetSockOpt(t, (int)a.A1, (int)a.A2, a.A3, (int)a.A4);
    }
}
