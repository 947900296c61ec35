using Sentry.Gofer.Abi;
using Sentry.Platform;
using static Sentry.Gofer.Abi.SyscallNumbers;

namespace Sentry.Gofer.Host;

/// <summary>The host calls of the confinement steps (paths here come from the host's command line, not from clients).</summary>
internal static unsafe partial class Sys
{
    static long CallPath(long nr, string path, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0)
    {
        byte[] p = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p) return HostSyscall.CallRestarting(nr, (long)pp, a2, a3, a4, a5);
    }

    /// <summary>openat(AT_FDCWD, path, flags | O_CLOEXEC).</summary>
    public static int Open(string path, int flags)
    {
        byte[] p = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p) return (int)HostSyscall.CallRestarting(SYS_openat, Linux.AT_FDCWD, (long)pp, flags | Linux.O_CLOEXEC);
    }

    public static int Unshare(int flags) => (int)HostSyscall.Call(SYS_unshare, flags);

    /// <summary>mount(2) with a source path (or none) onto a target path.</summary>
    public static int Mount(string? source, string target, ulong flags)
    {
        byte[] t = System.Text.Encoding.UTF8.GetBytes(target + "\0");
        byte[]? s = source == null ? null : System.Text.Encoding.UTF8.GetBytes(source + "\0");
        fixed (byte* tp = t)
        fixed (byte* sp = s)
            return (int)HostSyscall.Call(SYS_mount, (long)sp, (long)tp, 0, (long)flags, 0);
    }

    public static int Umount2(string target, int flags) => (int)CallPath(SYS_umount2, target, flags);
    public static int Chdir(string path) => (int)CallPath(SYS_chdir, path);
    public static int Chroot(string path) => (int)CallPath(SYS_chroot, path);

    public static int PivotRoot(string newRoot, string putOld)
    {
        byte[] n = System.Text.Encoding.UTF8.GetBytes(newRoot + "\0");
        byte[] o = System.Text.Encoding.UTF8.GetBytes(putOld + "\0");
        fixed (byte* np = n)
        fixed (byte* op = o)
            return (int)HostSyscall.Call(SYS_pivot_root, (long)np, (long)op);
    }

    /// <summary>mount_setattr(2) (Linux 5.12) of the mount at <paramref name="path"/>, with AT_RECURSIVE its submounts too.</summary>
    public static int MountSetattr(string path, int atFlags, ulong attrSet)
    {
        MountAttr attr = new() { attr_set = attrSet };
        byte[] p = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pp = p) return (int)HostSyscall.Call(SYS_mount_setattr, Linux.AT_FDCWD, (long)pp, atFlags, (long)&attr, sizeof(MountAttr));
    }

    public static int Prctl(int option, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0) => (int)HostSyscall.Call(SYS_prctl, option, a2, a3, a4, a5);

    public static int GetRlimit(int resource, out Rlimit limit)
    {
        fixed (Rlimit* l = &limit) return (int)HostSyscall.Call(SYS_getrlimit, resource, (long)l);
    }

    public static int SetRlimit(int resource, in Rlimit limit)
    {
        fixed (Rlimit* l = &limit) return (int)HostSyscall.Call(SYS_setrlimit, resource, (long)l);
    }

    /// <summary>capget(2) of this thread: its effective and permitted sets (capabilities 0 to 63).</summary>
    public static int Capget(out ulong effective, out ulong permitted)
    {
        uint* buf = stackalloc uint[8];
        buf[0] = Linux._LINUX_CAPABILITY_VERSION_3;
        buf[1] = 0;
        int rc = (int)HostSyscall.Call(SYS_capget, (long)buf, (long)(buf + 2));
        effective = buf[2] | ((ulong)buf[5] << 32);
        permitted = buf[3] | ((ulong)buf[6] << 32);
        return rc;
    }

    public static int SocketPair(out int a, out int b)
    {
        int* sv = stackalloc int[2];
        int rc = (int)HostSyscall.Call(SYS_socketpair, 1 /* AF_UNIX */, 1 | Linux.O_CLOEXEC /* SOCK_STREAM | SOCK_CLOEXEC */, 0, (long)sv);
        a = sv[0];
        b = sv[1];
        return rc;
    }
}
