using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// A node of some file system (tmpfs, the host or Gofer lower layer, the overlay that joins them,
/// Sentry's own /dev and /proc). The path walker and the syscalls only talk to this type, so a
/// file system is added by implementing it. Every operation returns 0 (or a count) or -errno; the
/// defaults are what Linux answers for a node that does not support the operation. Directory
/// operations take the name of an entry of this directory; the caller has walked to it and checked
/// search permission, and checks write permission on this directory before changing it.
/// </summary>
public abstract class Inode
{
    /// <summary>File type and permission bits (S_IFMT | 07777), as now.</summary>
    public abstract uint Mode { get; }
    public abstract uint Uid { get; }
    public abstract uint Gid { get; }

    public bool IsDir => (Mode & Linux.S_IFMT) == Linux.S_IFDIR;
    public bool IsRegular => (Mode & Linux.S_IFMT) == Linux.S_IFREG;
    public bool IsSymlink => (Mode & Linux.S_IFMT) == Linux.S_IFLNK;
    /// <summary>A directory that was removed while still open or a working directory.</summary>
    public virtual bool IsRemoved => false;

    /// <summary>
    /// Whether the node's file system is read-only (a read-only volume, a read-only root): every
    /// change then answers EROFS, checked before permissions as Linux's mnt_want_write is.
    /// </summary>
    public virtual bool OnReadOnlyFs => false;

    /// <summary>The errno for changing this node's file system when it cannot be changed.</summary>
    protected virtual int ReadOnlyErrno => Errno.EROFS;

    public abstract long Stat(out LinuxStat st);
    public virtual long Statx(uint mask, out LinuxStatx stx)
    {
        long r = Stat(out var st);
        stx = r < 0 ? default : LinuxStatx.FromStat(st);
        return r;
    }

    /// <summary>Identity for "same file" checks (rename onto itself, hard links): device and inode number.</summary>
    public (ulong Dev, ulong Ino) Key
    {
        get { Stat(out var st); return (st.st_dev, st.st_ino); }
    }

    /// <summary>The entry <paramref name="name"/> of this directory: 0 with the node, or -ENOENT / -ENOTDIR / -errno.</summary>
    public virtual long Lookup(Task task, string name, out Inode? child) { child = null; return -Errno.ENOTDIR; }

    /// <summary>Appends the entries of this directory except "." and "..".</summary>
    public virtual long ReadDir(Task task, List<DirEntry> entries) => -Errno.ENOTDIR;

    /// <summary>The text of a symlink.</summary>
    public virtual long ReadLink(Task task, out string target) { target = ""; return -Errno.EINVAL; }

    /// <summary>
    /// An open file description of this node. Flag rules common to all file systems (O_EXCL,
    /// O_DIRECTORY, O_TRUNC, permissions) are applied by <see cref="Open"/> before this is called.
    /// </summary>
    public abstract long Open(Task task, int flags, string path, out FileDescription? file);

    /// <summary>Creates a regular file <paramref name="name"/> (known not to exist) with the final mode.</summary>
    public virtual long Create(Task task, string name, uint mode, out Inode? node) { node = null; return IsDir ? -ReadOnlyErrno : -Errno.ENOTDIR; }
    /// <summary>O_TMPFILE: a regular file with no name in this directory's file system; <paramref name="linkable"/> unless O_EXCL.</summary>
    public virtual long CreateUnnamed(Task task, uint mode, bool linkable, out Inode? node) { node = null; return IsDir ? -Errno.EOPNOTSUPP : -Errno.ENOTDIR; }
    public virtual long MakeDir(Task task, string name, uint mode) => IsDir ? -ReadOnlyErrno : -Errno.ENOTDIR;
    public virtual long MakeSymlink(Task task, string name, string target) => IsDir ? -ReadOnlyErrno : -Errno.ENOTDIR;
    /// <summary>mknod of a FIFO, socket or device node.</summary>
    public virtual long MakeNode(Task task, string name, uint mode, ulong dev) => IsDir ? -ReadOnlyErrno : -Errno.ENOTDIR;
    /// <summary>A hard link <paramref name="name"/> to <paramref name="target"/> (EXDEV when it lives elsewhere).</summary>
    public virtual long Link(Task task, string name, Inode target) => IsDir ? -ReadOnlyErrno : -Errno.ENOTDIR;
    /// <summary>unlink (<paramref name="dir"/> false) or rmdir (true) of an entry.</summary>
    public virtual long Remove(Task task, string name, bool dir) => IsDir ? -ReadOnlyErrno : -Errno.ENOTDIR;
    /// <summary>renameat2 of entry <paramref name="oldName"/> to <paramref name="newName"/> in <paramref name="newDir"/>.</summary>
    public virtual long Rename(Task task, string oldName, Inode newDir, string newName, uint flags) => IsDir ? -ReadOnlyErrno : -Errno.ENOTDIR;

    /// <summary>chmod, chown, truncate, utimens: the fields <paramref name="attr"/> names.</summary>
    public virtual long SetAttr(Task task, in SetAttr attr) => -ReadOnlyErrno;

    /// <summary>fallocate mode 0 or FALLOC_FL_KEEP_SIZE: reserve [offset, offset+length), growing the size unless <paramref name="keepSize"/>.</summary>
    public virtual long Allocate(Task task, long offset, long length, bool keepSize) => -Errno.EOPNOTSUPP;

    /// <summary>fallocate FALLOC_FL_PUNCH_HOLE: the range reads as zeros afterwards, the size stays.</summary>
    public virtual long PunchHole(Task task, long offset, long length) => -Errno.EOPNOTSUPP;

    /// <summary>getxattr: the value's length (copied into <paramref name="value"/> unless it is empty), -ENODATA, -ERANGE.</summary>
    public virtual long GetXattr(Task task, string name, Span<byte> value) => -Errno.ENODATA;
    /// <summary>listxattr: the NUL-terminated names' total length (copied unless <paramref name="list"/> is empty), -ERANGE.</summary>
    public virtual long ListXattr(Task task, Span<byte> list) => 0;
    /// <summary>setxattr with XATTR_CREATE / XATTR_REPLACE <paramref name="flags"/>.</summary>
    public virtual long SetXattr(Task task, string name, ReadOnlySpan<byte> value, int flags) => ReadOnlyErrno == Errno.EROFS ? -Errno.EROFS : -Errno.EOPNOTSUPP;
    public virtual long RemoveXattr(Task task, string name) => ReadOnlyErrno == Errno.EROFS ? -Errno.EROFS : -Errno.EOPNOTSUPP;

    /// <summary>struct statfs f_flags bits.</summary>
    public const long ST_RDONLY = 1, ST_VALID = 0x20;

    /// <summary>statfs(2) of the file system this node is on: the 15 longs of <c>struct statfs</c>, zeroed by the caller.</summary>
    public virtual long StatFs(Span<long> st)
    {
        st[0] = 0x01021994; // TMPFS_MAGIC: Sentry's in-memory file systems
        st[1] = st[9] = 4096; // f_bsize, f_frsize
        st[8] = 255;          // f_namelen
        st[10] = ST_VALID;
        return 0;
    }
}
