using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using Sentry.Platform;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// Extended attributes, read-only: queried on the host root (ls -l asks for ACLs and SELinux labels);
// Sentry's own nodes have none. Setting them fails like on a read-only file system.
public static unsafe partial class Sys
{
    const int XATTR_NAME_MAX = 255, XATTR_SIZE_MAX = 65536;
    const int SYS_lgetxattr = 192, SYS_llistxattr = 195;

    static void RegisterXattr(SyscallHandler?[] t)
    {
        t[191] = (Task k, in SyscallArgs a) => GetXattr(k, a, true);
        t[192] = (Task k, in SyscallArgs a) => GetXattr(k, a, false);
        t[193] = FGetXattr;
        t[194] = (Task k, in SyscallArgs a) => ListXattr(k, a, true);
        t[195] = (Task k, in SyscallArgs a) => ListXattr(k, a, false);
        t[196] = FListXattr;
        t[188] = t[189] = t[190] = (Task k, in SyscallArgs a) => -Errno.EROFS;      // setxattr family
        t[197] = t[198] = t[199] = (Task k, in SyscallArgs a) => -Errno.EROFS;      // removexattr family
    }

    static long GetXattr(Task t, in SyscallArgs a, bool follow)
    {
        long r = WalkToHost(t, a.A0, follow, out var hostPath, out _);
        return r < 0 ? r : XattrGet(t, hostPath, a.A1, a.A2, a.A3);
    }

    static long FGetXattr(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null) return -Errno.EBADF;
        return XattrGet(t, HostPathOf(f), a.A1, a.A2, a.A3);
    }

    static long XattrGet(Task t, string? hostPath, ulong nameAddr, ulong value, ulong size)
    {
        Span<byte> name = stackalloc byte[XATTR_NAME_MAX + 2];
        int n = t.Mm.ReadCString(nameAddr, name);
        if (n == -Errno.ENAMETOOLONG) return -Errno.ERANGE;
        if (n < 0) return n;
        if (n == 0) return -Errno.ERANGE;
        if (hostPath == null) return -Errno.ENODATA;
        name[n] = 0;
        int want = (int)Math.Min(size, (ulong)XATTR_SIZE_MAX);
        long r;
        fixed (byte* p = Encoding.UTF8.GetBytes(hostPath + "\0"))
        fixed (byte* nm = name)
        fixed (byte* b = t.Bounce)
            r = HostSyscall.Call(SYS_lgetxattr, (long)p, (long)nm, want == 0 ? 0 : (long)b, want);
        if (r <= 0 || want == 0) return r;
        return t.Mm.CopyOut(value, t.Bounce.AsSpan(0, (int)r)) < 0 ? -Errno.EFAULT : r;
    }

    static long ListXattr(Task t, in SyscallArgs a, bool follow)
    {
        long r = WalkToHost(t, a.A0, follow, out var hostPath, out _);
        return r < 0 ? r : XattrList(t, hostPath, a.A1, a.A2);
    }

    static long FListXattr(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null) return -Errno.EBADF;
        return XattrList(t, HostPathOf(f), a.A1, a.A2);
    }

    static long XattrList(Task t, string? hostPath, ulong list, ulong size)
    {
        if (hostPath == null) return 0;
        int want = (int)Math.Min(size, (ulong)XATTR_SIZE_MAX);
        long r;
        fixed (byte* p = Encoding.UTF8.GetBytes(hostPath + "\0"))
        fixed (byte* b = t.Bounce)
            r = HostSyscall.Call(SYS_llistxattr, (long)p, want == 0 ? 0 : (long)b, want);
        if (r <= 0 || want == 0) return r;
        return t.Mm.CopyOut(list, t.Bounce.AsSpan(0, (int)r)) < 0 ? -Errno.EFAULT : r;
    }
}
