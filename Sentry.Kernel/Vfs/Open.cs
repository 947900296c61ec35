using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Platform;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Vfs;

/// <summary>Turns a walked path into an open file description, applying open(2)'s flag rules.</summary>
public static unsafe class Open
{
    const int SYS_openat = 257, SYS_fstat = 5;

    /// <summary>Opens <paramref name="l"/> with open(2) <paramref name="flags"/>. Returns the description, or null with <paramref name="error"/> set.</summary>
    public static FileDescription? File(Task task, in Lookup l, int flags, out int error, int mode = 0)
    {
        error = 0;
        int acc = flags & O_ACCMODE;
        bool wantsWrite = acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC) != 0;
        bool isPath = (flags & O_PATH) != 0;
        if (l.TmpParent != null) return TmpfsOpen(task, l, flags, mode, out error);
        if (!l.Exists)
        {
            // The host root is read-only: nothing can be created yet.
            error = (flags & O_CREAT) != 0 ? -(l.Node != null || l.Path.StartsWith("/dev/") ? Errno.EACCES : Errno.EROFS) : -Errno.ENOENT;
            return null;
        }
        if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) { error = -Errno.EEXIST; return null; }
        if (l.IsSymlink && !isPath) { error = -Errno.ELOOP; return null; }
        if ((flags & O_DIRECTORY) != 0 && !l.IsDir && !(l.IsSymlink && isPath)) { error = -Errno.ENOTDIR; return null; }
        if (l.IsDir && wantsWrite && !isPath) { error = -Errno.EISDIR; return null; }
        int keep = flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH | O_DIRECTORY | O_NOATIME | O_DSYNC | O_SYNC | O_LARGEFILE | O_DIRECT);
        if (l.Node != null) return l.Node.Open(task, keep, wantsWrite, l.Path, out error);
        if (wantsWrite && !isPath) { error = -Errno.EROFS; return null; }
        uint type = l.Mode & S_IFMT;
        if (!isPath && type != S_IFREG && type != S_IFDIR) { error = -Errno.EACCES; return null; }
        int hostFlags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (isPath ? O_PATH : 0) | (l.IsDir ? O_DIRECTORY : 0) | O_NOCTTY;
        long fd;
        fixed (byte* p = Encoding.UTF8.GetBytes(l.Path + "\0")) fd = HostSyscall.CallRestarting(SYS_openat, AT_FDCWD, (long)p, hostFlags, 0);
        if (fd < 0) { error = (int)fd; return null; }
        LinuxStat st;
        HostSyscall.Call(SYS_fstat, fd, (long)&st);
        return new HostFile((int)fd, keep, l.Path, l.IsDir, st.st_size);
    }

    /// <summary>open(2) inside a tmpfs mount: may create the file.</summary>
    static FileDescription? TmpfsOpen(Task task, in Lookup l, int flags, int mode, out int error)
    {
        error = 0;
        var fs = l.TmpParent!.Fs;
        int keep = flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH | O_DIRECTORY | O_NOATIME | O_DSYNC | O_SYNC | O_LARGEFILE | O_DIRECT);
        lock (fs.Lock)
        {
            var node = l.Tmp;
            if (node == null)
            {
                if ((flags & O_CREAT) == 0) { error = -Errno.ENOENT; return null; }
                if ((flags & O_DIRECTORY) != 0) { error = -Errno.EISDIR; return null; }
                var dir = l.TmpParent;
                if (dir.Nlink == 0) { error = -Errno.ENOENT; return null; }
                if (l.LastName.Length > 255) { error = -Errno.ENAMETOOLONG; return null; }
                node = fs.NewNode((uint)(S_IFREG | (mode & ~task.Fs.Umask & 0xfff)));
                node.Uid = task.Uid; node.Gid = task.Gid;
                fs.Link(dir, l.LastName, node);
            }
            else
            {
                if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) { error = -Errno.EEXIST; return null; }
                if (node.IsSymlink && (flags & O_PATH) == 0) { error = -Errno.ELOOP; return null; }
                if ((flags & O_DIRECTORY) != 0 && !node.IsDir) { error = -Errno.ENOTDIR; return null; }
                int acc = flags & O_ACCMODE;
                if (node.IsDir && (acc != O_RDONLY || (flags & O_TRUNC) != 0) && (flags & O_PATH) == 0) { error = -Errno.EISDIR; return null; }
                if ((flags & O_TRUNC) != 0 && node.IsFile && acc != O_RDONLY)
                {
                    fs.Reserve(-node.Size);
                    node.Truncate(0);
                    node.Touch(true);
                }
            }
            return new Fs.TmpfsFile(node, keep, l.Path);
        }
    }

    /// <summary>Stat of a walked path without opening it for I/O.</summary>
    public static long Stat(Task task, in Lookup l, out LinuxStat st)
    {
        st = default;
        if (!l.Exists) return -Errno.ENOENT;
        if (l.Node != null) { st = l.Node.Stat(); return 0; }
        if (l.Tmp != null) { lock (l.Tmp.Fs.Lock) st = l.Tmp.Stat(); return 0; }
        LinuxStat s;
        long r;
        fixed (byte* p = Encoding.UTF8.GetBytes(l.Path + "\0")) r = HostSyscall.Call(262 /* newfstatat */, AT_FDCWD, (long)p, (long)&s, AT_SYMLINK_NOFOLLOW);
        st = s;
        return r;
    }

    /// <summary>statx of a walked path.</summary>
    public static long Statx(Task task, in Lookup l, uint mask, out LinuxStatx stx)
    {
        stx = default;
        if (!l.Exists) return -Errno.ENOENT;
        if (l.Node != null) { stx = LinuxStatx.FromStat(l.Node.Stat()); return 0; }
        if (l.Tmp != null) { lock (l.Tmp.Fs.Lock) stx = LinuxStatx.FromStat(l.Tmp.Stat()); return 0; }
        LinuxStatx x;
        long r;
        fixed (byte* p = Encoding.UTF8.GetBytes(l.Path + "\0")) r = HostSyscall.Call(332 /* statx */, AT_FDCWD, (long)p, AT_SYMLINK_NOFOLLOW, mask, (long)&x);
        stx = x;
        return r;
    }

    /// <summary>access(2)/faccessat(2) for a walked path: the host root is read-only, Sentry's devices are read-write.</summary>
    public static long Access(Task task, in Lookup l, int mode)
    {
        if (!l.Exists) return -Errno.ENOENT;
        if ((mode & ~7) != 0) return -Errno.EINVAL;
        if (l.Tmp != null) return (mode & X_OK) != 0 && !l.Tmp.IsDir && (l.Tmp.Mode & 0x49) == 0 ? -Errno.EACCES : 0;
        if (l.Node != null)
        {
            if ((mode & X_OK) != 0 && !l.IsDir) return -Errno.EACCES;
            return 0;
        }
        if ((mode & W_OK) != 0 && (l.Mode & S_IFMT) != S_IFCHR) return -Errno.EROFS;
        long r;
        fixed (byte* p = Encoding.UTF8.GetBytes(l.Path + "\0")) r = HostSyscall.Call(439 /* faccessat2 */, AT_FDCWD, (long)p, mode & ~W_OK, AT_SYMLINK_NOFOLLOW);
        return r;
    }
}
