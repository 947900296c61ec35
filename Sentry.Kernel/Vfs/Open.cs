using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Vfs;

/// <summary>Turns a walked path into an open file description, applying open(2)'s flag rules on any file system.</summary>
public static class Open
{
    /// <summary>Status flags an open file description keeps.</summary>
    const int Kept = O_ACCMODE | O_APPEND | O_NONBLOCK | O_PATH | O_DIRECTORY | O_NOATIME | O_DSYNC | O_SYNC | O_LARGEFILE | O_DIRECT;

    /// <summary>Opens <paramref name="l"/> with open(2) <paramref name="flags"/>. Returns the description, or null with <paramref name="error"/> set.</summary>
    public static FileDescription? File(Task task, in Lookup l, int flags, out int error, int mode = 0)
    {
        error = 0;
        int acc = flags & O_ACCMODE;
        bool isPath = (flags & O_PATH) != 0;
        if (isPath) flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
        bool wantsWrite = !isPath && (acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC) != 0);
        var node = l.Node;
        if (node == null)
        {
            if ((flags & O_CREAT) == 0 || isPath) { error = -Errno.ENOENT; return null; }
            if ((flags & O_DIRECTORY) != 0 || l.TrailingSlash) { error = -Errno.EISDIR; return null; }
            if (l.Parent == null) { error = -Errno.ENOENT; return null; }
            int perm = Permission.ForDirChange(task, l.Parent);
            if (perm != 0) { error = -perm; return null; }
            long r = l.Parent.Create(task, l.LastName, (uint)(mode & ~task.Fs.Umask & 0xfff), out node);
            if (r < 0) { error = (int)r; return null; }
            // A file just made may be opened for writing even when its mode says read-only.
            return Finish(task, node!, flags & ~O_TRUNC, l.Path, out error);
        }
        if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) { error = -Errno.EEXIST; return null; }
        if (node.IsSymlink && !isPath) { error = -Errno.ELOOP; return null; }
        if (node.IsDir && (flags & O_CREAT) != 0) { error = -Errno.EISDIR; return null; }
        if ((flags & O_DIRECTORY) != 0 && !node.IsDir) { error = -Errno.ENOTDIR; return null; }
        if (node.IsDir && wantsWrite) { error = -Errno.EISDIR; return null; }
        if (!isPath)
        {
            int need = (acc == O_RDONLY ? R_OK : acc == O_WRONLY ? W_OK : R_OK | W_OK) | ((flags & O_TRUNC) != 0 ? W_OK : 0);
            if (!Permission.May(task, node, need)) { error = -Errno.EACCES; return null; }
        }
        if ((flags & O_TRUNC) != 0 && wantsWrite && node.IsRegular)
        {
            long r = node.SetAttr(task, new SetAttr { Mask = SetAttr.Fields.Size, Size = 0 });
            if (r < 0) { error = (int)r; return null; }
        }
        return Finish(task, node, flags, l.Path, out error);
    }

    static FileDescription? Finish(Task task, Inode node, int flags, string path, out int error)
    {
        error = 0;
        // O_NOCTTY is not kept but a terminal's open needs it (whether the opener takes it as its controlling terminal).
        long r = node.Open(task, flags & (Kept | O_TRUNC | O_NOCTTY), path, out var f);
        if (r < 0) { error = (int)r; return null; }
        f!.Flags = flags & Kept;
        f.Inode = node;
        return f;
    }

    /// <summary>Stat of a walked path without opening it.</summary>
    public static long Stat(in Lookup l, out LinuxStat st)
    {
        st = default;
        return l.Node == null ? -Errno.ENOENT : l.Node.Stat(out st);
    }

    /// <summary>statx of a walked path.</summary>
    public static long Statx(in Lookup l, uint mask, out LinuxStatx stx)
    {
        stx = default;
        return l.Node == null ? -Errno.ENOENT : l.Node.Statx(mask, out stx);
    }

    /// <summary>access(2)/faccessat(2) of a node: permission bits against the task's credentials; W_OK on a read-only file system is EROFS.</summary>
    public static long Access(Task task, Inode? node, int mode)
    {
        if (node == null) return -Errno.ENOENT;
        if ((mode & ~7) != 0) return -Errno.EINVAL;
        if (!Permission.May(task, node, mode)) return -Errno.EACCES;
        if ((mode & W_OK) != 0 && !node.IsDir && (node.Mode & S_IFMT) is not (S_IFCHR or S_IFIFO or S_IFSOCK))
        {
            var st = new long[15];
            if (node.StatFs(st) == 0 && (st[10] & Inode.ST_RDONLY) != 0) return -Errno.EROFS;
        }
        return 0;
    }
}
