using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Fs;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// Calls that change the file tree or file metadata. They work inside the tmpfs mounts
// (/dev/shm); the host root is read-only (EROFS) and Sentry's /dev, /proc, /sys refuse.
public static partial class Sys
{
    internal static void RegisterNamespace(SyscallHandler?[] t)
    {
        t[83] = (Task k, in SyscallArgs a) => Mkdir(k, AT_FDCWD, a.A0, (int)a.A1);
        t[258] = (Task k, in SyscallArgs a) => Mkdir(k, (int)a.A0, a.A1, (int)a.A2);
        t[87] = (Task k, in SyscallArgs a) => Remove(k, AT_FDCWD, a.A0, dir: false);
        t[84] = (Task k, in SyscallArgs a) => Remove(k, AT_FDCWD, a.A0, dir: true);
        t[263] = (Task k, in SyscallArgs a) => ((int)a.A2 & ~AT_REMOVEDIR) != 0 ? -Errno.EINVAL : Remove(k, (int)a.A0, a.A1, ((int)a.A2 & AT_REMOVEDIR) != 0);
        t[82] = (Task k, in SyscallArgs a) => Rename(k, AT_FDCWD, a.A0, AT_FDCWD, a.A1, 0);
        t[264] = (Task k, in SyscallArgs a) => Rename(k, (int)a.A0, a.A1, (int)a.A2, a.A3, 0);
        t[316] = (Task k, in SyscallArgs a) => Rename(k, (int)a.A0, a.A1, (int)a.A2, a.A3, (uint)a.A4);
        t[88] = (Task k, in SyscallArgs a) => Symlink(k, a.A0, AT_FDCWD, a.A1);
        t[266] = (Task k, in SyscallArgs a) => Symlink(k, a.A0, (int)a.A1, a.A2);
        t[86] = (Task k, in SyscallArgs a) => LinkAt(k, AT_FDCWD, a.A0, AT_FDCWD, a.A1, 0);
        t[265] = (Task k, in SyscallArgs a) => LinkAt(k, (int)a.A0, a.A1, (int)a.A2, a.A3, (int)a.A4);
        t[77] = Ftruncate; t[76] = TruncatePath;
        t[90] = (Task k, in SyscallArgs a) => Chmod(k, AT_FDCWD, a.A0, (int)a.A1, 0);
        t[268] = (Task k, in SyscallArgs a) => Chmod(k, (int)a.A0, a.A1, (int)a.A2, 0);
        t[91] = Fchmod;
        t[92] = (Task k, in SyscallArgs a) => Chown(k, AT_FDCWD, a.A0, (int)a.A1, (int)a.A2, 0);
        t[94] = (Task k, in SyscallArgs a) => Chown(k, AT_FDCWD, a.A0, (int)a.A1, (int)a.A2, AT_SYMLINK_NOFOLLOW);
        t[260] = (Task k, in SyscallArgs a) => Chown(k, (int)a.A0, a.A1, (int)a.A2, (int)a.A3, (int)a.A4);
        t[93] = Fchown;
        t[280] = Utimensat;
        t[74] = t[75] = (Task k, in SyscallArgs a) => k.Fds.Get(Fd(a.A0)) == null ? -Errno.EBADF : 0; // fsync, fdatasync: memory is the medium
        t[162] = (Task k, in SyscallArgs a) => 0;                                                          // sync
        t[306] = (Task k, in SyscallArgs a) => k.Fds.Get(Fd(a.A0)) == null ? -Errno.EBADF : 0;            // syncfs
    }

    /// <summary>The errno for changing something outside the tmpfs mounts.</summary>
    static long NotWritable(in Lookup l) => l.Node != null ? -Errno.EACCES : -Errno.EROFS;

    static long Mkdir(Task t, int dirfd, ulong path, int mode)
    {
        long r = Walk(t, dirfd, path, false, false, out var l, out _);
        if (r < 0) return r;
        if (l.Exists) return -Errno.EEXIST;
        if (l.TmpParent is not { } dir) return NotWritable(l);
        var fs = dir.Fs;
        lock (fs.Lock)
        {
            if (dir.Nlink == 0) return -Errno.ENOENT;
            if (dir.Children!.ContainsKey(l.LastName)) return -Errno.EEXIST;
            var n = fs.NewNode((uint)(S_IFDIR | (mode & ~t.Fs.Umask & 0xfff)));
            n.Uid = t.Uid; n.Gid = t.Gid;
            fs.Link(dir, l.LastName, n);
        }
        return 0;
    }

    static long Remove(Task t, int dirfd, ulong path, bool dir)
    {
        long r = Walk(t, dirfd, path, false, false, out var l, out _);
        if (r < 0) return r;
        if (!l.Exists) return -Errno.ENOENT;
        if (l.Tmp is not { } node || l.TmpParent is not { } parent) return NotWritable(l);
        if (node == node.Fs.Root) return -Errno.EBUSY; // a mount point
        lock (node.Fs.Lock)
        {
            if (dir)
            {
                if (!node.IsDir) return -Errno.ENOTDIR;
                if (node.Children!.Count > 0) return -Errno.ENOTEMPTY;
            }
            else if (node.IsDir) return -Errno.EISDIR;
            node.Fs.Unlink(parent, l.LastName);
        }
        return 0;
    }

    static long Rename(Task t, int olddirfd, ulong oldpath, int newdirfd, ulong newpath, uint flags)
    {
        const uint RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2, RENAME_WHITEOUT = 4;
        if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) != 0) return -Errno.EINVAL;
        if ((flags & RENAME_EXCHANGE) != 0 && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) != 0) return -Errno.EINVAL;
        long r = Walk(t, olddirfd, oldpath, false, false, out var from, out _);
        if (r < 0) return r;
        r = Walk(t, newdirfd, newpath, false, false, out var to, out _);
        if (r < 0) return r;
        if (!from.Exists) return -Errno.ENOENT;
        if (from.Tmp is not { } src || from.TmpParent is not { } srcDir) return NotWritable(from);
        if (to.TmpParent is not { } dstDir) return NotWritable(to);
        if (src.Fs != dstDir.Fs) return -Errno.EXDEV;
        if ((flags & RENAME_WHITEOUT) != 0) return -Errno.EINVAL;
        var fs = src.Fs;
        lock (fs.Lock)
        {
            var dst = dstDir.Children!.GetValueOrDefault(to.LastName);
            if (src == fs.Root || dst == fs.Root) return -Errno.EBUSY;
            if ((flags & RENAME_NOREPLACE) != 0 && dst != null) return -Errno.EEXIST;
            if ((flags & RENAME_EXCHANGE) != 0)
            {
                if (dst == null) return -Errno.ENOENT;
                srcDir.Children![from.LastName] = dst;
                dstDir.Children![to.LastName] = src;
                if (src.IsDir) src.Parent = dstDir;
                if (dst.IsDir) dst.Parent = srcDir;
                return 0;
            }
            if (dst == src) return 0;
            // A directory may not move into itself.
            for (var p = dstDir; ; p = p.Parent!)
            {
                if (p == src) return -Errno.EINVAL;
                if (p == fs.Root || p.Parent == p) break;
            }
            if (dst != null)
            {
                if (src.IsDir && !dst.IsDir) return -Errno.ENOTDIR;
                if (!src.IsDir && dst.IsDir) return -Errno.EISDIR;
                if (dst.IsDir && dst.Children!.Count > 0) return -Errno.ENOTEMPTY;
                fs.Unlink(dstDir, to.LastName);
            }
            srcDir.Children!.Remove(from.LastName);
            if (src.IsDir) srcDir.Nlink--;
            fs.Link(dstDir, to.LastName, src);
            src.Touch(false);
        }
        return 0;
    }

    static long Symlink(Task t, ulong targetAddr, int dirfd, ulong linkpath)
    {
        long r = ReadPath(t, targetAddr, out var target);
        if (r < 0) return r;
        if (target.Length == 0) return -Errno.ENOENT;
        r = Walk(t, dirfd, linkpath, false, false, out var l, out _);
        if (r < 0) return r;
        if (l.Exists) return -Errno.EEXIST;
        if (l.TmpParent is not { } dir) return NotWritable(l);
        lock (dir.Fs.Lock)
        {
            var n = dir.Fs.NewNode(S_IFLNK | 0x1ff);
            n.Target = target;
            n.Uid = t.Uid; n.Gid = t.Gid;
            dir.Fs.Link(dir, l.LastName, n);
        }
        return 0;
    }

    static long LinkAt(Task t, int olddirfd, ulong oldpath, int newdirfd, ulong newpath, int flags)
    {
        if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) != 0) return -Errno.EINVAL;
        long r = Walk(t, olddirfd, oldpath, (flags & AT_SYMLINK_FOLLOW) != 0, false, out var from, out _);
        if (r < 0) return r;
        r = Walk(t, newdirfd, newpath, false, false, out var to, out _);
        if (r < 0) return r;
        if (!from.Exists) return -Errno.ENOENT;
        if (to.Exists) return -Errno.EEXIST;
        if (from.Tmp is not { } src) return to.TmpParent != null ? -Errno.EXDEV : NotWritable(to);
        if (to.TmpParent is not { } dir) return NotWritable(to);
        if (src.Fs != dir.Fs) return -Errno.EXDEV;
        if (src.IsDir) return -Errno.EPERM;
        lock (src.Fs.Lock)
        {
            src.Nlink++;
            src.Touch(false);
            dir.Children![to.LastName] = src;
            dir.Touch(true);
        }
        return 0;
    }

    static long Ftruncate(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null) return -Errno.EBADF;
        if ((long)a.A1 < 0) return -Errno.EINVAL;
        if (!f.Writable) return -Errno.EINVAL;
        if (f is TmpfsFile tf) return tf.Truncate((long)a.A1);
        return f is HostFile ? -Errno.EROFS : -Errno.EINVAL;
    }

    static long TruncatePath(Task t, in SyscallArgs a)
    {
        if ((long)a.A1 < 0) return -Errno.EINVAL;
        long r = Walk(t, AT_FDCWD, a.A0, true, false, out var l, out _);
        if (r < 0) return r;
        if (!l.Exists) return -Errno.ENOENT;
        if (l.IsDir) return -Errno.EISDIR;
        if (l.Tmp is not { } node) return NotWritable(l);
        return new TmpfsFile(node, O_WRONLY, l.Path).Truncate((long)a.A1);
    }

    static long SetMode(TmpfsNode node, int mode)
    {
        lock (node.Fs.Lock)
        {
            node.Mode = (node.Mode & (uint)S_IFMT) | (uint)(mode & 0xfff);
            node.Touch(false);
        }
        return 0;
    }

    static long Chmod(Task t, int dirfd, ulong path, int mode, int flags)
    {
        long r = Walk(t, dirfd, path, true, false, out var l, out _);
        if (r < 0) return r;
        if (!l.Exists) return -Errno.ENOENT;
        return l.Tmp is { } node ? SetMode(node, mode) : NotWritable(l);
    }

    static long Fchmod(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null || (f.Flags & O_PATH) != 0) return -Errno.EBADF;
        return f is TmpfsFile tf ? SetMode(tf.Node, (int)a.A1) : f is HostFile ? -Errno.EROFS : -Errno.EPERM;
    }

    static long SetOwner(TmpfsNode node, int uid, int gid)
    {
        lock (node.Fs.Lock)
        {
            if (uid != -1) node.Uid = (uint)uid;
            if (gid != -1) node.Gid = (uint)gid;
            node.Touch(false);
        }
        return 0;
    }

    static long Chown(Task t, int dirfd, ulong path, int uid, int gid, int flags)
    {
        if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -Errno.EINVAL;
        long r = Walk(t, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) == 0, (flags & AT_EMPTY_PATH) != 0, out var l, out var file);
        if (r < 0) return r;
        if (file != null) return file is TmpfsFile tf ? SetOwner(tf.Node, uid, gid) : -Errno.EROFS;
        if (!l.Exists) return -Errno.ENOENT;
        return l.Tmp is { } node ? SetOwner(node, uid, gid) : NotWritable(l);
    }

    static long Fchown(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null || (f.Flags & O_PATH) != 0) return -Errno.EBADF;
        return f is TmpfsFile tf ? SetOwner(tf.Node, (int)a.A1, (int)a.A2) : f is HostFile ? -Errno.EROFS : -Errno.EPERM;
    }

    static long Utimensat(Task t, in SyscallArgs a)
    {
        const long UTIME_NOW = (1L << 30) - 1, UTIME_OMIT = (1L << 30) - 2;
        int flags = (int)a.A3;
        if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -Errno.EINVAL;
        (long S, long N) at = (0, UTIME_NOW), mt = (0, UTIME_NOW);
        if (a.A2 != 0)
        {
            if (t.Mm.Read(a.A2, out at) < 0 || t.Mm.Read(a.A2 + 16, out mt) < 0) return -Errno.EFAULT;
            foreach (var ts in new[] { at, mt })
                if (ts.N != UTIME_NOW && ts.N != UTIME_OMIT && (ts.N < 0 || ts.N >= NsPerSec)) return -Errno.EINVAL;
        }
        TmpfsNode? node;
        if (a.A1 == 0)
        {
            // utimensat(fd, NULL, ...) is futimens on the fd.
            var f = t.Fds.Get(Fd(a.A0));
            if (f == null) return -Errno.EBADF;
            node = (f as TmpfsFile)?.Node;
            if (node == null) return f is HostFile ? -Errno.EROFS : -Errno.EPERM;
        }
        else
        {
            long r = Walk(t, (int)a.A0, a.A1, (flags & AT_SYMLINK_NOFOLLOW) == 0, (flags & AT_EMPTY_PATH) != 0, out var l, out var file);
            if (r < 0) return r;
            if (file != null) node = (file as TmpfsFile)?.Node;
            else
            {
                if (!l.Exists) return -Errno.ENOENT;
                node = l.Tmp;
                if (node == null) return NotWritable(l);
            }
            if (node == null) return -Errno.EROFS;
        }
        lock (node.Fs.Lock)
        {
            var now = Tmpfs.Now();
            if (at.N != UTIME_OMIT) node.Atime = at.N == UTIME_NOW ? now : at;
            if (mt.N != UTIME_OMIT) node.Mtime = mt.N == UTIME_NOW ? now : mt;
            node.Ctime = now;
        }
        return 0;
    }
}
