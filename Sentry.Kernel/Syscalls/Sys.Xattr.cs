using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// Extended attributes on any inode: tmpfs and the overlay's upper layer keep them in memory, the
// host lower layer answers reads from the host, Sentry's own nodes have none.
public static partial class Sys
{
    const int XATTR_NAME_MAX = 255, XATTR_SIZE_MAX = 65536;

    static void RegisterXattr(SyscallHandler?[] t)
    {
        t[188] = (Task k, in SyscallArgs a) => XattrPath(k, a, true, XattrOp.Set);
        t[189] = (Task k, in SyscallArgs a) => XattrPath(k, a, false, XattrOp.Set);
        t[190] = (Task k, in SyscallArgs a) => XattrFd(k, a, XattrOp.Set);
        t[191] = (Task k, in SyscallArgs a) => XattrPath(k, a, true, XattrOp.Get);
        t[192] = (Task k, in SyscallArgs a) => XattrPath(k, a, false, XattrOp.Get);
        t[193] = (Task k, in SyscallArgs a) => XattrFd(k, a, XattrOp.Get);
        t[194] = (Task k, in SyscallArgs a) => XattrPath(k, a, true, XattrOp.List);
        t[195] = (Task k, in SyscallArgs a) => XattrPath(k, a, false, XattrOp.List);
        t[196] = (Task k, in SyscallArgs a) => XattrFd(k, a, XattrOp.List);
        t[197] = (Task k, in SyscallArgs a) => XattrPath(k, a, true, XattrOp.Remove);
        t[198] = (Task k, in SyscallArgs a) => XattrPath(k, a, false, XattrOp.Remove);
        t[199] = (Task k, in SyscallArgs a) => XattrFd(k, a, XattrOp.Remove);
    }

    enum XattrOp { Get, Set, List, Remove }

    static long XattrPath(Task t, in SyscallArgs a, bool follow, XattrOp op)
    {
        long r = Walk(t, AT_FDCWD, a.A0, follow, false, out var l, out _);
        if (r < 0) return r;
        return l.Node == null ? -Errno.ENOENT : Xattr(t, l.Node, op, a.A1, a.A2, a.A3, (int)a.A4);
    }

    static long XattrFd(Task t, in SyscallArgs a, XattrOp op)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null || (f.Flags & O_PATH) != 0) return -Errno.EBADF;
        // Pipes, sockets and stdio carry no attributes.
        if (f.Inode == null) return op switch { XattrOp.List => 0, XattrOp.Get => -Errno.ENODATA, _ => -Errno.EOPNOTSUPP };
        return Xattr(t, f.Inode, op, a.A1, a.A2, a.A3, (int)a.A4);
    }

    /// <summary>One xattr call on <paramref name="node"/>: for List, <paramref name="nameAddr"/> is the list buffer and <paramref name="value"/> its size.</summary>
    static long Xattr(Task t, Inode node, XattrOp op, ulong nameAddr, ulong value, ulong size, int flags)
    {
        if (op == XattrOp.List)
        {
            int want = (int)Math.Min(value, (ulong)XATTR_SIZE_MAX);
            long n = node.ListXattr(t, t.Bounce.AsSpan(0, want));
            if (n <= 0 || want == 0) return n;
            return t.Mm.CopyOut(nameAddr, t.Bounce.AsSpan(0, (int)n)) < 0 ? -Errno.EFAULT : n;
        }
        Span<byte> nameBuf = stackalloc byte[XATTR_NAME_MAX + 2];
        int len = t.Mm.ReadCString(nameAddr, nameBuf);
        if (len == -Errno.ENAMETOOLONG) return -Errno.ERANGE;
        if (len < 0) return len;
        if (len == 0 || len > XATTR_NAME_MAX) return -Errno.ERANGE;
        string name = Encoding.UTF8.GetString(nameBuf[..len]);
        switch (op)
        {
            case XattrOp.Get:
            {
                int want = (int)Math.Min(size, (ulong)XATTR_SIZE_MAX);
                long n = node.GetXattr(t, name, t.Bounce.AsSpan(0, want));
                if (n <= 0 || want == 0) return n;
                return t.Mm.CopyOut(value, t.Bounce.AsSpan(0, (int)n)) < 0 ? -Errno.EFAULT : n;
            }
            case XattrOp.Set:
            {
                if (size > XATTR_SIZE_MAX) return -Errno.E2BIG;
                var buf = t.Bounce.AsSpan(0, (int)size);
                if (size > 0 && t.Mm.CopyIn(value, buf) < 0) return -Errno.EFAULT;
                if (!Permission.Owns(t, node) && !Permission.May(t, node, W_OK)) return -Errno.EACCES;
                return node.SetXattr(t, name, buf, flags);
            }
            default:
                if (!Permission.Owns(t, node) && !Permission.May(t, node, W_OK)) return -Errno.EACCES;
                return node.RemoveXattr(t, name);
        }
    }
}
