using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// Calls that change the file tree or file metadata, on any file system through its inodes: the
// root overlay and the tmpfs mounts take changes; Sentry's /dev, /proc and /sys refuse them.
public static partial class Sys
{
    internal static void RegisterNamespace(SyscallHandler?[] t)
    {
        t[83] = (Task k, in SyscallArgs a) => Mkdir(k, AT_FDCWD, a.A0, (int)a.A1);
        t[258] = (Task k, in SyscallArgs a) => Mkdir(k, (int)a.A0, a.A1, (int)a.A2);
        t[133] = (Task k, in SyscallArgs a) => Mknod(k, AT_FDCWD, a.A0, (uint)a.A1, a.A2);
        t[259] = (Task k, in SyscallArgs a) => Mknod(k, (int)a.A0, a.A1, (uint)a.A2, a.A3);
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
        t[285] = Fallocate;
        t[90] = (Task k, in SyscallArgs a) => Chmod(k, AT_FDCWD, a.A0, (int)a.A1, 0);
        t[268] = (Task k, in SyscallArgs a) => Chmod(k, (int)a.A0, a.A1, (int)a.A2, 0);
        t[452] = (Task k, in SyscallArgs a) => Chmod(k, (int)a.A0, a.A1, (int)a.A2, (int)a.A3); // fchmodat2
        t[91] = Fchmod;
        t[92] = (Task k, in SyscallArgs a) => Chown(k, AT_FDCWD, a.A0, (int)a.A1, (int)a.A2, 0);
        t[94] = (Task k, in SyscallArgs a) => Chown(k, AT_FDCWD, a.A0, (int)a.A1, (int)a.A2, AT_SYMLINK_NOFOLLOW);
        t[260] = (Task k, in SyscallArgs a) => Chown(k, (int)a.A0, a.A1, (int)a.A2, (int)a.A3, (int)a.A4);
        t[93] = Fchown;
        t[280] = Utimensat;
        t[74] = t[75] = (Task k, in SyscallArgs a) => Fsync(k, Fd(a.A0)); // fsync, fdatasync
        t[277] = SyncFileRange;
        t[162] = (Task k, in SyscallArgs a) => 0;                                                          // sync
        t[306] = (Task k, in SyscallArgs a) => k.Fds.Get(Fd(a.A0)) == null ? -Errno.EBADF : 0;            // syncfs
    }

    /// <summary>
    /// Walks to a name that a call will create, remove or rename, and checks the directory that
    /// holds it may change: "." and ".." as the last component are refused the way Linux refuses them.
    /// </summary>
    static long WalkForChange(Task t, int dirfd, ulong pathAddr, bool creating, out Lookup l)
    {
        l = default;
        long r = ReadPath(t, pathAddr, out var path);
        if (r < 0) return r;
        if (path.Length == 0) return -Errno.ENOENT;
        l = PathWalker.Resolve(t, dirfd, path, followLast: false);
        if (l.Error < 0) return l.Error;
        string last = path.TrimEnd('/');
        last = last[(last.LastIndexOf('/') + 1)..];
        if (last is "." or "..") return creating ? -Errno.EEXIST : last == "." ? -Errno.EINVAL : -Errno.ENOTEMPTY;
        if (l.Parent == null) return creating ? -Errno.EEXIST : -Errno.EBUSY; // "/"
        if (!creating && l.Node != null && t.Sandbox.Mounts.IsMountRoot(l.Node)) return -Errno.EBUSY;
        if (creating && l.Node != null) return -Errno.EEXIST;
        int perm = Permission.ForDirChange(t, l.Parent);
        return -perm;
    }

    static long Mkdir(Task t, int dirfd, ulong path, int mode)
    {
        long r = WalkForChange(t, dirfd, path, true, out var l);
        return r < 0 ? r : l.Parent!.MakeDir(t, l.LastName, (uint)(mode & ~t.Fs.Umask & 0x3ff));
    }

    static long Mknod(Task t, int dirfd, ulong path, uint mode, ulong dev)
    {
        uint type = mode & S_IFMT;
        if (type == 0) type = S_IFREG;
        if (type == S_IFDIR) return -Errno.EPERM;
        if (type is not (S_IFREG or S_IFIFO or S_IFSOCK or S_IFCHR or S_IFBLK)) return -Errno.EINVAL;
        if (type is S_IFCHR or S_IFBLK && t.Uid != 0) return -Errno.EPERM;
        long r = WalkForChange(t, dirfd, path, true, out var l);
        if (r < 0) return r;
        uint perm = mode & ~(uint)t.Fs.Umask & 0xfff;
        if (type == S_IFREG) return l.Parent!.Create(t, l.LastName, perm, out _);
        // A device node 0:0 would read as an overlay whiteout; Linux forbids making it too (EPERM without CAP_MKNOD).
        if (type is S_IFCHR or S_IFBLK && dev == 0) return -Errno.EPERM;
        return l.Parent!.MakeNode(t, l.LastName, type | perm, type is S_IFCHR or S_IFBLK ? dev : 0);
    }

    static long Remove(Task t, int dirfd, ulong path, bool dir)
    {
        long r = WalkForChange(t, dirfd, path, false, out var l);
        if (r < 0) return r;
        if (l.Node == null) return -Errno.ENOENT;
        if (Permission.StickyForbids(t, l.Parent!, l.Node)) return -Errno.EPERM;
        return l.Parent!.Remove(t, l.LastName, dir);
    }

    static long Rename(Task t, int olddirfd, ulong oldpath, int newdirfd, ulong newpath, uint flags)
    {
        if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) != 0) return -Errno.EINVAL;
        if ((flags & RENAME_EXCHANGE) != 0 && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) != 0) return -Errno.EINVAL;
        if ((flags & RENAME_WHITEOUT) != 0) return -Errno.EINVAL; // whiteouts are the overlay's own
        long r = WalkForChange(t, olddirfd, oldpath, false, out var from);
        if (r is -Errno.ENOTEMPTY or -Errno.EINVAL) r = -Errno.EBUSY; // rename of ".." or "."
        if (r < 0) return r;
        if (from.Node == null) return -Errno.ENOENT;
        r = WalkForChange(t, newdirfd, newpath, false, out var to);
        if (r is -Errno.ENOTEMPTY or -Errno.EINVAL) r = -Errno.EBUSY;
        if (r < 0) return r;
        if ((from.TrailingSlash || to.TrailingSlash) && !from.Node.IsDir) return -Errno.ENOTDIR;
        if (Permission.StickyForbids(t, from.Parent!, from.Node)) return -Errno.EPERM;
        if (to.Node != null && Permission.StickyForbids(t, to.Parent!, to.Node)) return -Errno.EPERM;
        // Moving a directory into itself: the destination path lies under the source path.
        if (from.Node.IsDir && (to.Path + "/").StartsWith(from.Path + "/", StringComparison.Ordinal) && to.Path != from.Path) return -Errno.EINVAL;
        if (to.Node != null && to.Node.IsDir && (flags & RENAME_EXCHANGE) != 0 && (from.Path + "/").StartsWith(to.Path + "/", StringComparison.Ordinal) && to.Path != from.Path) return -Errno.EINVAL;
        return from.Parent!.Rename(t, from.LastName, to.Parent!, to.LastName, flags);
    }

    static long Symlink(Task t, ulong targetAddr, int dirfd, ulong linkpath)
    {
        long r = ReadPath(t, targetAddr, out var target);
        if (r < 0) return r;
        if (target.Length == 0) return -Errno.ENOENT;
        r = WalkForChange(t, dirfd, linkpath, true, out var l);
        return r < 0 ? r : l.Parent!.MakeSymlink(t, l.LastName, target);
    }

    static long LinkAt(Task t, int olddirfd, ulong oldpath, int newdirfd, ulong newpath, int flags)
    {
        if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) != 0) return -Errno.EINVAL;
        long r = Walk(t, olddirfd, oldpath, (flags & AT_SYMLINK_FOLLOW) != 0, (flags & AT_EMPTY_PATH) != 0, out var from, out var file);
        if (r < 0) return r;
        var src = file?.Inode ?? from.Node;
        if (src == null) return file != null ? -Errno.ENOENT : -Errno.ENOENT;
        r = WalkForChange(t, newdirfd, newpath, true, out var to);
        if (r < 0) return r;
        if (src.IsDir) return -Errno.EPERM;
        return to.Parent!.Link(t, to.LastName, src);
    }

    /// <summary>fsync: the overlay and tmpfs live in memory, so there is nothing to flush; pipes and sockets cannot be synced.</summary>
    static long Fsync(Task t, int fd)
    {
        var f = t.Fds.Get(fd);
        if (f == null || (f.Flags & O_PATH) != 0) return -Errno.EBADF;
        return f.Inode == null && f is not HostStdio ? -Errno.EINVAL : 0;
    }

    static long SyncFileRange(Task t, in SyscallArgs a)
    {
        const uint SYNC_FILE_RANGE_ALL = 7;
        var f = t.Fds.Get(Fd(a.A0));
        if ((a.A3 & ~(ulong)SYNC_FILE_RANGE_ALL) != 0 || (long)a.A1 < 0 || (long)a.A2 < 0 || (long)a.A1 + (long)a.A2 < 0) return -Errno.EINVAL;
        if (f == null || (f.Flags & O_PATH) != 0) return -Errno.EBADF;
        if (f.Inode == null) return f is HostStdio ? 0 : -Errno.ESPIPE;
        return f.Inode.IsRegular || f.Inode.IsDir || f.Inode.IsSymlink ? 0 : -Errno.ESPIPE;
    }

    static long Ftruncate(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null || (f.Flags & O_PATH) != 0) return -Errno.EBADF;
        if ((long)a.A1 < 0) return -Errno.EINVAL;
        if (!f.Writable || f.Inode is not { IsRegular: true } node) return -Errno.EINVAL;
        if ((f.Flags & O_APPEND) != 0) return -Errno.EPERM;
        return node.SetAttr(t, new SetAttr { Mask = SetAttr.Fields.Size, Size = (long)a.A1 });
    }

    static long TruncatePath(Task t, in SyscallArgs a)
    {
        if ((long)a.A1 < 0) return -Errno.EINVAL;
        long r = Walk(t, AT_FDCWD, a.A0, true, false, out var l, out _);
        if (r < 0) return r;
        if (l.Node == null) return -Errno.ENOENT;
        if (l.IsDir) return -Errno.EISDIR;
        if (!l.Node.IsRegular) return -Errno.EINVAL;
        if (!Permission.May(t, l.Node, W_OK)) return -Errno.EACCES;
        return l.Node.SetAttr(t, new SetAttr { Mask = SetAttr.Fields.Size, Size = (long)a.A1 });
    }

    /// <summary>fallocate(2): mode 0 (allocate, growing the size), FALLOC_FL_KEEP_SIZE and FALLOC_FL_PUNCH_HOLE; the other modes are EOPNOTSUPP, as on file systems without them.</summary>
    static long Fallocate(Task t, in SyscallArgs a)
    {
        const int FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2;
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null) return -Errno.EBADF;
        int mode = (int)a.A1;
        long offset = (long)a.A2, len = (long)a.A3;
        if (offset < 0 || len <= 0) return -Errno.EINVAL;
        if (!f.Writable) return -Errno.EBADF;
        if (f.Inode == null) return -Errno.ESPIPE;
        if (f.Inode.IsDir) return -Errno.EISDIR;
        if (!f.Inode.IsRegular) return -Errno.ENODEV;
        if (offset + len < 0) return -Errno.EFBIG;
        if ((mode & FALLOC_FL_PUNCH_HOLE) != 0)
            return (mode & FALLOC_FL_KEEP_SIZE) == 0 ? -Errno.EOPNOTSUPP : f.Inode.PunchHole(t, offset, len);
        if ((mode & ~FALLOC_FL_KEEP_SIZE) != 0) return -Errno.EOPNOTSUPP;
        return f.Inode.Allocate(t, offset, len, (mode & FALLOC_FL_KEEP_SIZE) != 0);
    }

    /// <summary>The node a path call (or AT_EMPTY_PATH on an fd) names, following the last symlink when asked.</summary>
    static long NodeOf(Task t, int dirfd, ulong path, int flags, out Inode? node)
    {
        node = null;
        long r = Walk(t, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) == 0, (flags & AT_EMPTY_PATH) != 0, out var l, out var file);
        if (r < 0) return r;
        node = file != null ? file.Inode : l.Node;
        if (file != null && node == null) return -Errno.EPERM; // pipes, sockets, stdio: no inode to change
        return node == null ? -Errno.ENOENT : 0;
    }

    static long SetMode(Task t, Inode node, int mode)
    {
        if (!Permission.Owns(t, node)) return -Errno.EPERM;
        // An unprivileged owner outside the file's group cannot keep the set-group-ID bit.
        if (t.Uid != 0 && t.Gid != node.Gid) mode &= ~S_ISGID;
        return node.SetAttr(t, new SetAttr { Mask = SetAttr.Fields.Mode, Mode = (uint)mode & 0xfff });
    }

    static long Chmod(Task t, int dirfd, ulong path, int mode, int flags)
    {
        if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -Errno.EINVAL;
        long r = NodeOf(t, dirfd, path, flags, out var node);
        if (r < 0) return r;
        if ((flags & AT_SYMLINK_NOFOLLOW) != 0 && node!.IsSymlink) return -Errno.EOPNOTSUPP;
        return SetMode(t, node!, mode);
    }

    static long Fchmod(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null || (f.Flags & O_PATH) != 0) return -Errno.EBADF;
        return f.Inode == null ? -Errno.EPERM : SetMode(t, f.Inode, (int)a.A1);
    }

    static long SetOwner(Task t, Inode node, int uid, int gid)
    {
        bool changesUid = uid != -1 && (uint)uid != node.Uid;
        bool changesGid = gid != -1 && (uint)gid != node.Gid;
        if (t.Uid != 0 && (changesUid || (changesGid && (t.Uid != node.Uid || (uint)gid != t.Gid)))) return -Errno.EPERM;
        var attr = new SetAttr
        {
            Mask = (uid != -1 ? SetAttr.Fields.Uid : 0) | (gid != -1 ? SetAttr.Fields.Gid : 0),
            Uid = (uint)uid, Gid = (uint)gid,
        };
        long r = node.SetAttr(t, attr);
        // chown clears set-user-ID and set-group-ID on executables, as Linux does.
        if (r == 0 && !node.IsDir && (node.Mode & (S_ISUID | S_ISGID)) != 0 && attr.Mask != 0)
            node.SetAttr(t, new SetAttr { Mask = SetAttr.Fields.Mode, Mode = node.Mode & 0xfff & ~(uint)S_ISUID & ~((node.Mode & 0x8) != 0 ? (uint)S_ISGID : 0) });
        return r;
    }

    static long Chown(Task t, int dirfd, ulong path, int uid, int gid, int flags)
    {
        if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -Errno.EINVAL;
        long r = NodeOf(t, dirfd, path, flags, out var node);
        return r < 0 ? r : SetOwner(t, node!, uid, gid);
    }

    static long Fchown(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null || (f.Flags & O_PATH) != 0) return -Errno.EBADF;
        return f.Inode == null ? -Errno.EPERM : SetOwner(t, f.Inode, (int)a.A1, (int)a.A2);
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
        Inode? node;
        if (a.A1 == 0)
        {
            // utimensat(fd, NULL, ...) is futimens on the fd.
            var f = t.Fds.Get(Fd(a.A0));
            if (f == null) return -Errno.EBADF;
            node = f.Inode;
            if (node == null) return -Errno.EPERM;
        }
        else
        {
            long r = NodeOf(t, (int)a.A0, a.A1, flags, out node);
            if (r < 0) return r;
        }
        if (at.N == UTIME_OMIT && mt.N == UTIME_OMIT) return 0;
        // Explicit times need ownership; "now" needs write permission or ownership.
        bool explicitTimes = (at.N != UTIME_NOW && at.N != UTIME_OMIT) || (mt.N != UTIME_NOW && mt.N != UTIME_OMIT);
        if (!Permission.Owns(t, node!) && (explicitTimes || !Permission.May(t, node!, W_OK))) return explicitTimes ? -Errno.EPERM : -Errno.EACCES;
        var now = Fs.Tmpfs.Now();
        var attr = new SetAttr
        {
            Mask = (at.N != UTIME_OMIT ? SetAttr.Fields.Atime : 0) | (mt.N != UTIME_OMIT ? SetAttr.Fields.Mtime : 0),
            Atime = at.N == UTIME_NOW ? now : at,
            Mtime = mt.N == UTIME_NOW ? now : mt,
        };
        return node!.SetAttr(t, attr);
    }
}
