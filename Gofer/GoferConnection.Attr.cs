using Sentry.Gofer.Abi;
using Sentry.Gofer.Host;
using Sentry.P9;

namespace Sentry.Gofer;

/// <summary>Tgetattr, Tsetattr, Tstatfs, Treadlink: attributes, all through the fid's O_PATH fd (no name is looked up again).</summary>
internal sealed partial class GoferConnection
{
    int Getattr(ushort tag, in Tgetattr m)
    {
        if (!_fids.TryGet(m.Fid, out Fid f)) return -Errno.EBADF;
        int rc = Sys.Fstat(f.Node.Fd, out LinuxStat st);
        if (rc < 0) return rc;
        // Everything struct stat has, whatever was asked (the protocol lets a server give more).
        var s = new P9StatDotl
        {
            st_result_mask = P9Const.P9_GETATTR_BASIC,
            qid = QidOf(st),
            st_mode = st.st_mode, st_uid = st.st_uid, st_gid = st.st_gid,
            st_nlink = st.st_nlink, st_rdev = st.st_rdev, st_size = (ulong)st.st_size,
            st_blksize = (ulong)st.st_blksize, st_blocks = (ulong)st.st_blocks,
            st_atime_sec = (ulong)st.st_atime, st_atime_nsec = (ulong)st.st_atime_nsec,
            st_mtime_sec = (ulong)st.st_mtime, st_mtime_nsec = (ulong)st.st_mtime_nsec,
            st_ctime_sec = (ulong)st.st_ctime, st_ctime_nsec = (ulong)st.st_ctime_nsec,
        };
        return Reply(tag, new Rgetattr(s));
    }

    /// <summary>
    /// Applies mode, then owner, then size, then times, in the order Linux's notify_change does,
    /// stopping at the first failure. ctime alone asks for nothing (every change sets it).
    /// </summary>
    int Setattr(ushort tag, in Tsetattr m)
    {
        if (!TryGetFile(m.Fid, out Fid f)) return -Errno.EBADF;
        P9IattrDotl a = m.Attr;
        const uint changes = P9Const.P9_SETATTR_MODE | P9Const.P9_SETATTR_UID | P9Const.P9_SETATTR_GID | P9Const.P9_SETATTR_SIZE
            | P9Const.P9_SETATTR_ATIME | P9Const.P9_SETATTR_MTIME | P9Const.P9_SETATTR_CTIME;
        if ((a.valid & changes) == 0) return Reply(tag, new Rsetattr());
        if (_readOnly) return -Errno.EROFS;
        Node node = f.Node;
        int rc;
        if ((a.valid & P9Const.P9_SETATTR_MODE) != 0 && (rc = Chmod(f, a.mode & Linux.S_IALLUGO)) < 0) return rc;
        if ((a.valid & (P9Const.P9_SETATTR_UID | P9Const.P9_SETATTR_GID)) != 0)
        {
            uint uid = (a.valid & P9Const.P9_SETATTR_UID) != 0 ? a.uid : uint.MaxValue;
            uint gid = (a.valid & P9Const.P9_SETATTR_GID) != 0 ? a.gid : uint.MaxValue;
            if ((rc = Sys.Fchown(node.Fd, uid, gid)) < 0) return rc;
        }
        if ((a.valid & P9Const.P9_SETATTR_SIZE) != 0 && (rc = Truncate(f, a.size)) < 0) return rc;
        if ((a.valid & (P9Const.P9_SETATTR_ATIME | P9Const.P9_SETATTR_MTIME)) != 0)
        {
            Timespec at = TimeToSet(a.valid, P9Const.P9_SETATTR_ATIME, P9Const.P9_SETATTR_ATIME_SET, a.atime_sec, a.atime_nsec);
            Timespec mt = TimeToSet(a.valid, P9Const.P9_SETATTR_MTIME, P9Const.P9_SETATTR_MTIME_SET, a.mtime_sec, a.mtime_nsec);
            if (at.tv_nsec != Linux.UTIME_OMIT && at.tv_nsec != Linux.UTIME_NOW && (ulong)at.tv_nsec >= 1_000_000_000) return -Errno.EINVAL;
            if (mt.tv_nsec != Linux.UTIME_OMIT && mt.tv_nsec != Linux.UTIME_NOW && (ulong)mt.tv_nsec >= 1_000_000_000) return -Errno.EINVAL;
            if ((rc = Sys.Futimens(node.Fd, at, mt)) < 0) return rc;
        }
        return Reply(tag, new Rsetattr());
    }

    /// <summary>A time bit without its _SET bit means "now" (UTIME_NOW); no time bit leaves it (UTIME_OMIT).</summary>
    static Timespec TimeToSet(uint valid, uint bit, uint setBit, ulong sec, ulong nsec)
    {
        if ((valid & bit) == 0) return new Timespec { tv_nsec = Linux.UTIME_OMIT };
        if ((valid & setBit) == 0) return new Timespec { tv_nsec = Linux.UTIME_NOW };
        return new Timespec { tv_sec = (long)sec, tv_nsec = (long)nsec };
    }

    int Chmod(Fid f, uint mode)
    {
        Node node = f.Node;
        // Linux cannot change a symlink's mode (lchmod is EOPNOTSUPP).
        if (node.IsSymlink) return -Errno.EOPNOTSUPP;
        int rc = Sys.Fchmod(node.Fd, mode);
        if (rc != -Errno.ENOSYS) return rc;
        // No fchmodat2 (before Linux 6.6): fchmod an opened fd of the same file.
        if (f.IsOpen) return Sys.FchmodOpen(f.OpenFd, mode);
        int fd = Reopen(node, Linux.O_RDONLY | Linux.O_NONBLOCK, out _);
        if (fd < 0) return fd;
        rc = Sys.FchmodOpen(fd, mode);
        Sys.Close(fd);
        return rc;
    }

    int Truncate(Fid f, ulong size)
    {
        Node node = f.Node;
        if (node.IsDir) return -Errno.EISDIR;
        if (!node.IsRegular) return -Errno.EINVAL;
        if (size > long.MaxValue) return -Errno.EINVAL;
        if (f.IsOpen && (f.OpenFlags & Linux.O_ACCMODE) != Linux.O_RDONLY) return Sys.Ftruncate(f.OpenFd, (long)size);
        // truncate(2) by path would follow a symlink put in the file's place: open the file itself.
        int fd = Reopen(node, Linux.O_WRONLY | Linux.O_NONBLOCK, out _);
        if (fd < 0) return fd;
        int rc = Sys.Ftruncate(fd, (long)size);
        Sys.Close(fd);
        return rc;
    }

    int Statfs(ushort tag, in Tstatfs m)
    {
        if (!_fids.TryGet(m.Fid, out Fid f)) return -Errno.EBADF;
        int rc = Sys.Fstatfs(f.Node.Fd, out LinuxStatfs st);
        if (rc < 0) return rc;
        // The real file system type (diod reports V9FS_MAGIC unless told otherwise): Sentry can show it.
        var s = new P9StatFs
        {
            type = (uint)st.f_type, bsize = (uint)st.f_bsize,
            blocks = st.f_blocks, bfree = st.f_bfree, bavail = st.f_bavail, files = st.f_files, ffree = st.f_ffree,
            fsid = (uint)st.f_fsid0 | ((ulong)(uint)st.f_fsid1 << 32),
            namelen = (uint)st.f_namelen,
        };
        return Reply(tag, new Rstatfs(s));
    }

    int Readlink(ushort tag, in Treadlink m)
    {
        if (!_fids.TryGet(m.Fid, out Fid f)) return -Errno.EBADF;
        if (!f.Node.IsSymlink) return -Errno.EINVAL;
        Span<byte> target = stackalloc byte[Linux.PATH_MAX];
        int n = Sys.Readlink(f.Node.Fd, target);
        if (n < 0) return n;
        return Reply(tag, new Rreadlink(target[..n]));
    }
}
