using Sentry.Gofer.Abi;
using Sentry.Platform;
using static Sentry.Gofer.Abi.SyscallNumbers;

namespace Sentry.Gofer.Host;

/// <summary>
/// The host calls the file server makes, in the kernel's convention: the result or -errno.
/// Names arrive as byte spans from the wire; each is copied with its terminating NUL onto the
/// stack here, and one holding a NUL of its own is refused (EINVAL) rather than cut short.
/// Calls a signal can interrupt (the runtime's GC signals) are restarted; close(2) never is.
/// </summary>
internal static unsafe partial class Sys
{
    static long Call(long nr, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0, long a6 = 0) =>
        HostSyscall.CallRestarting(nr, a1, a2, a3, a4, a5, a6);

    /// <summary>Copies <paramref name="name"/> and a NUL into <paramref name="dest"/>: false if it holds a NUL itself.</summary>
    static bool Terminate(ReadOnlySpan<byte> name, Span<byte> dest)
    {
        if (name.Contains((byte)0)) return false;
        name.CopyTo(dest);
        dest[name.Length] = 0;
        return true;
    }

    /// <summary>Longest name or path accepted (PATH_MAX with its NUL): bounds every stack copy.</summary>
    const int MaxPath = Linux.PATH_MAX;

    public static int Close(int fd) => fd < 0 ? 0 : (int)HostSyscall.Call(SYS_close, fd);

    public static int DupCloexec(int fd) => (int)Call(SYS_fcntl, fd, Linux.F_DUPFD_CLOEXEC, 0);

    public static int OpenAt(int dirfd, ReadOnlySpan<byte> name, int flags, uint mode = 0)
    {
        if (name.Length >= MaxPath) return -Errno.ENAMETOOLONG;
        Span<byte> p = stackalloc byte[name.Length + 1];
        if (!Terminate(name, p)) return -Errno.EINVAL;
        fixed (byte* pp = p) return (int)Call(SYS_openat, dirfd, (long)pp, flags, mode);
    }

    public static int OpenAt2(int dirfd, ReadOnlySpan<byte> name, ulong flags, ulong mode, ulong resolve)
    {
        if (name.Length >= MaxPath) return -Errno.ENAMETOOLONG;
        Span<byte> p = stackalloc byte[name.Length + 1];
        if (!Terminate(name, p)) return -Errno.EINVAL;
        OpenHow how = new() { flags = flags, mode = mode, resolve = resolve };
        fixed (byte* pp = p) return (int)Call(SYS_openat2, dirfd, (long)pp, (long)&how, sizeof(OpenHow));
    }

    /// <summary>lstat of the file <paramref name="fd"/> refers to (O_PATH fds included).</summary>
    public static int Fstat(int fd, out LinuxStat st)
    {
        fixed (LinuxStat* s = &st)
        fixed (byte* empty = "\0"u8)
            return (int)Call(SYS_newfstatat, fd, (long)empty, (long)s, Linux.AT_EMPTY_PATH | Linux.AT_SYMLINK_NOFOLLOW);
    }

    public static int FstatAt(int dirfd, ReadOnlySpan<byte> name, int flags, out LinuxStat st)
    {
        st = default;
        if (name.Length >= MaxPath) return -Errno.ENAMETOOLONG;
        Span<byte> p = stackalloc byte[name.Length + 1];
        if (!Terminate(name, p)) return -Errno.EINVAL;
        fixed (LinuxStat* s = &st)
        fixed (byte* pp = p)
            return (int)Call(SYS_newfstatat, dirfd, (long)pp, (long)s, flags);
    }

    public static int Fstatfs(int fd, out LinuxStatfs st)
    {
        fixed (LinuxStatfs* s = &st) return (int)Call(SYS_fstatfs, fd, (long)s);
    }

    public static long Pread(int fd, Span<byte> buf, long offset)
    {
        fixed (byte* b = buf) return Call(SYS_pread64, fd, (long)b, buf.Length, offset);
    }

    public static long Pwrite(int fd, ReadOnlySpan<byte> buf, long offset)
    {
        fixed (byte* b = buf) return Call(SYS_pwrite64, fd, (long)b, buf.Length, offset);
    }

    public static long Read(int fd, Span<byte> buf)
    {
        fixed (byte* b = buf) return Call(SYS_read, fd, (long)b, buf.Length);
    }

    public static long Write(int fd, ReadOnlySpan<byte> buf)
    {
        fixed (byte* b = buf) return Call(SYS_write, fd, (long)b, buf.Length);
    }

    public static long Lseek(int fd, long offset, int whence) => Call(SYS_lseek, fd, offset, whence);

    public static long Getdents64(int fd, Span<byte> buf)
    {
        fixed (byte* b = buf) return Call(SYS_getdents64, fd, (long)b, buf.Length);
    }

    public static int MkdirAt(int dirfd, ReadOnlySpan<byte> name, uint mode)
    {
        if (name.Length >= MaxPath) return -Errno.ENAMETOOLONG;
        Span<byte> p = stackalloc byte[name.Length + 1];
        if (!Terminate(name, p)) return -Errno.EINVAL;
        fixed (byte* pp = p) return (int)Call(SYS_mkdirat, dirfd, (long)pp, mode);
    }

    public static int MknodAt(int dirfd, ReadOnlySpan<byte> name, uint mode, ulong dev)
    {
        if (name.Length >= MaxPath) return -Errno.ENAMETOOLONG;
        Span<byte> p = stackalloc byte[name.Length + 1];
        if (!Terminate(name, p)) return -Errno.EINVAL;
        fixed (byte* pp = p) return (int)Call(SYS_mknodat, dirfd, (long)pp, mode, (long)dev);
    }

    public static int SymlinkAt(ReadOnlySpan<byte> target, int dirfd, ReadOnlySpan<byte> name)
    {
        if (name.Length >= MaxPath || target.Length >= MaxPath) return -Errno.ENAMETOOLONG;
        Span<byte> t = stackalloc byte[target.Length + 1];
        Span<byte> p = stackalloc byte[name.Length + 1];
        if (!Terminate(target, t) || !Terminate(name, p)) return -Errno.EINVAL;
        fixed (byte* tp = t)
        fixed (byte* pp = p)
            return (int)Call(SYS_symlinkat, (long)tp, dirfd, (long)pp);
    }

    public static int LinkAt(int olddirfd, ReadOnlySpan<byte> oldname, int newdirfd, ReadOnlySpan<byte> newname, int flags)
    {
        if (oldname.Length >= MaxPath || newname.Length >= MaxPath) return -Errno.ENAMETOOLONG;
        Span<byte> o = stackalloc byte[oldname.Length + 1];
        Span<byte> n = stackalloc byte[newname.Length + 1];
        if (!Terminate(oldname, o) || !Terminate(newname, n)) return -Errno.EINVAL;
        fixed (byte* op = o)
        fixed (byte* np = n)
            return (int)Call(SYS_linkat, olddirfd, (long)op, newdirfd, (long)np, flags);
    }

    public static int RenameAt(int olddirfd, ReadOnlySpan<byte> oldname, int newdirfd, ReadOnlySpan<byte> newname)
    {
        if (oldname.Length >= MaxPath || newname.Length >= MaxPath) return -Errno.ENAMETOOLONG;
        Span<byte> o = stackalloc byte[oldname.Length + 1];
        Span<byte> n = stackalloc byte[newname.Length + 1];
        if (!Terminate(oldname, o) || !Terminate(newname, n)) return -Errno.EINVAL;
        fixed (byte* op = o)
        fixed (byte* np = n)
            return (int)Call(SYS_renameat2, olddirfd, (long)op, newdirfd, (long)np, 0);
    }

    public static int UnlinkAt(int dirfd, ReadOnlySpan<byte> name, int flags)
    {
        if (name.Length >= MaxPath) return -Errno.ENAMETOOLONG;
        Span<byte> p = stackalloc byte[name.Length + 1];
        if (!Terminate(name, p)) return -Errno.EINVAL;
        fixed (byte* pp = p) return (int)Call(SYS_unlinkat, dirfd, (long)pp, flags);
    }

    /// <summary>readlink of the symlink <paramref name="fd"/> (an O_PATH fd of it) refers to.</summary>
    public static int Readlink(int fd, Span<byte> buf)
    {
        fixed (byte* empty = "\0"u8)
        fixed (byte* b = buf)
            return (int)Call(SYS_readlinkat, fd, (long)empty, (long)b, buf.Length);
    }

    /// <summary>fchmodat2(fd, "", mode, AT_EMPTY_PATH): chmod of the file an O_PATH fd refers to (Linux 6.6).</summary>
    public static int Fchmod(int fd, uint mode)
    {
        fixed (byte* empty = "\0"u8) return (int)Call(SYS_fchmodat2, fd, (long)empty, mode, Linux.AT_EMPTY_PATH);
    }

    /// <summary>fchmod(2) of an opened (not O_PATH) fd: the fallback where fchmodat2 is missing.</summary>
    public static int FchmodOpen(int fd, uint mode) => (int)Call(SYS_fchmod, fd, mode);

    /// <summary>fchownat(fd, "", uid, gid, AT_EMPTY_PATH): no symlink is followed (lchown semantics for a symlink's fd).</summary>
    public static int Fchown(int fd, uint uid, uint gid)
    {
        fixed (byte* empty = "\0"u8) return (int)Call(SYS_fchownat, fd, (long)empty, uid, gid, Linux.AT_EMPTY_PATH);
    }

    /// <summary>utimensat(fd, "", times, AT_EMPTY_PATH): UTIME_NOW/UTIME_OMIT in tv_nsec as in utimensat(2).</summary>
    public static int Futimens(int fd, in Timespec atime, in Timespec mtime)
    {
        Timespec* ts = stackalloc Timespec[2];
        ts[0] = atime;
        ts[1] = mtime;
        fixed (byte* empty = "\0"u8) return (int)Call(SYS_utimensat, fd, (long)empty, (long)ts, Linux.AT_EMPTY_PATH);
    }

    public static int Ftruncate(int fd, long length) => (int)Call(SYS_ftruncate, fd, length);
    public static int Fsync(int fd) => (int)Call(SYS_fsync, fd);
    public static int Fdatasync(int fd) => (int)Call(SYS_fdatasync, fd);

    public static int FcntlLock(int fd, int cmd, ref LinuxFlock lk)
    {
        fixed (LinuxFlock* l = &lk) return (int)Call(SYS_fcntl, fd, cmd, (long)l);
    }

    public static int Fcntl(int fd, int cmd, long arg) => (int)Call(SYS_fcntl, fd, cmd, arg);

    /// <summary>getxattrat(2) (Linux 6.13): the value's length, copied into <paramref name="value"/>.</summary>
    public static long GetxattrAt(int dirfd, ReadOnlySpan<byte> path, int atFlags, ReadOnlySpan<byte> name, Span<byte> value)
    {
        if (path.Length >= MaxPath || name.Length > Linux.XATTR_NAME_MAX) return -Errno.ERANGE;
        Span<byte> p = stackalloc byte[path.Length + 1];
        Span<byte> n = stackalloc byte[name.Length + 1];
        if (!Terminate(path, p) || !Terminate(name, n)) return -Errno.EINVAL;
        fixed (byte* pp = p)
        fixed (byte* np = n)
        fixed (byte* v = value)
        {
            XattrArgs args = new() { value = (ulong)v, size = (uint)value.Length };
            return Call(SYS_getxattrat, dirfd, (long)pp, atFlags, (long)np, (long)&args, sizeof(XattrArgs));
        }
    }

    /// <summary>listxattrat(2) (Linux 6.13): NUL-separated names.</summary>
    public static long ListxattrAt(int dirfd, ReadOnlySpan<byte> path, int atFlags, Span<byte> list)
    {
        if (path.Length >= MaxPath) return -Errno.ENAMETOOLONG;
        Span<byte> p = stackalloc byte[path.Length + 1];
        if (!Terminate(path, p)) return -Errno.EINVAL;
        fixed (byte* pp = p)
        fixed (byte* l = list)
            return Call(SYS_listxattrat, dirfd, (long)pp, atFlags, (long)l, list.Length);
    }

    /// <summary>setxattrat(2) (Linux 6.13) with XATTR_CREATE/XATTR_REPLACE <paramref name="flags"/>.</summary>
    public static int SetxattrAt(int dirfd, ReadOnlySpan<byte> path, int atFlags, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags)
    {
        if (path.Length >= MaxPath || name.Length > Linux.XATTR_NAME_MAX) return -Errno.ERANGE;
        Span<byte> p = stackalloc byte[path.Length + 1];
        Span<byte> n = stackalloc byte[name.Length + 1];
        if (!Terminate(path, p) || !Terminate(name, n)) return -Errno.EINVAL;
        fixed (byte* pp = p)
        fixed (byte* np = n)
        fixed (byte* v = value)
        {
            XattrArgs args = new() { value = (ulong)v, size = (uint)value.Length, flags = flags };
            return (int)Call(SYS_setxattrat, dirfd, (long)pp, atFlags, (long)np, (long)&args, sizeof(XattrArgs));
        }
    }

    public static int RemovexattrAt(int dirfd, ReadOnlySpan<byte> path, int atFlags, ReadOnlySpan<byte> name)
    {
        if (path.Length >= MaxPath || name.Length > Linux.XATTR_NAME_MAX) return -Errno.ERANGE;
        Span<byte> p = stackalloc byte[path.Length + 1];
        Span<byte> n = stackalloc byte[name.Length + 1];
        if (!Terminate(path, p) || !Terminate(name, n)) return -Errno.EINVAL;
        fixed (byte* pp = p)
        fixed (byte* np = n)
            return (int)Call(SYS_removexattrat, dirfd, (long)pp, atFlags, (long)np);
    }

    public static int Umask(int mask) => (int)Call(SYS_umask, mask);

    public static uint Geteuid() => (uint)Call(SyscallNumbers.SYS_geteuid);
}
