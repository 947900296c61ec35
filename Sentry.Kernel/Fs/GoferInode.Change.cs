using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using P9Const = Sentry.P9.P9;

namespace Sentry.Kernel.Fs;

// Changes to a writable volume, each one 9P request to the Gofer (which makes it on the host with
// the names resolved beneath the volume). On the read-only lower layer and read-only volumes the
// base class answers EROFS. Permission checks were made by the VFS with the sandbox's credentials.
public sealed partial class GoferInode
{
    /// <summary>A regular file opened for writing: the Gofer's host fd, opened with the access mode asked for.</summary>
    long OpenForWriting(int flags, string path, out FileDescription? file)
    {
        file = null;
        // O_TRUNC was applied by the VFS (SetAttr) already; O_APPEND is the description's, which
        // fcntl may change: the host fd is opened without it (HostFile appends itself).
        long r = DonatedFd(flags & Linux.O_ACCMODE, out int hostFd);
        if (r < 0) return r;
        // Only a server that donates host fds can back a writable file (Sentry's Gofer always does).
        if (hostFd < 0) return -Errno.EIO;
        file = new HostFile(hostFd, flags, path, false, -1, writable: true, volume: _fs.VolumeFileFor(_st.st_ino));
        return 0;
    }

    /// <summary>The new entry <paramref name="name"/> of this directory, owned by the task as Linux makes it.</summary>
    long Made(Task task, string name, long r, out Inode? node)
    {
        node = null;
        if (r < 0) return r;
        r = Lookup(task, name, out node);
        if (r < 0) return r;
        // The Gofer creates as the attaching user (root); the owner is the task's, as on Linux.
        if (task.Uid != node!.Uid)
        {
            var attr = new P9.P9IattrDotl { valid = P9Const.P9_SETATTR_UID, uid = task.Uid };
            r = _fs.Check(Client.SetAttr(((GoferInode)node)._fid, attr));
            if (r < 0) return r;
            ((GoferInode)node).Refresh();
        }
        return 0;
    }

    /// <summary>Group of a new entry: the directory's when it is set-group-ID, else the task's.</summary>
    uint NewGid(Task task) => (Mode & Linux.S_ISGID) != 0 ? Gid : task.Gid;

    public override long Create(Task task, string name, uint mode, out Inode? node)
    {
        node = null;
        if (!_fs.Writable || !IsDir) return base.Create(task, name, mode, out node);
        var c = Client;
        long r = _fs.Check(c.Walk(_fid, ""u8, out uint fid));
        if (r < 0) return r;
        r = _fs.Check(c.Lcreate(fid, GoferFs.Name(name), Linux.O_RDONLY, mode & 0xfff, NewGid(task), out _, out _, out int hostFd));
        if (hostFd >= 0) Sentry.Platform.HostSyscall.Call(3 /* close */, hostFd);
        c.Clunk(fid);
        return Made(task, name, r, out node);
    }

    public override long MakeDir(Task task, string name, uint mode)
    {
        if (!_fs.Writable || !IsDir) return base.MakeDir(task, name, mode);
        long r = _fs.Check(Client.Mkdir(_fid, GoferFs.Name(name), mode & 0xfff | (Mode & Linux.S_ISGID), NewGid(task), out _));
        return Made(task, name, r, out _);
    }

    public override long MakeSymlink(Task task, string name, string target)
    {
        if (!_fs.Writable || !IsDir) return base.MakeSymlink(task, name, target);
        long r = _fs.Check(Client.Symlink(_fid, GoferFs.Name(name), GoferFs.Name(target), NewGid(task), out _));
        return Made(task, name, r, out _);
    }

    public override long MakeNode(Task task, string name, uint mode, ulong dev)
    {
        if (!_fs.Writable || !IsDir) return base.MakeNode(task, name, mode, dev);
        long r = _fs.Check(Client.Mknod(_fid, GoferFs.Name(name), mode, LinuxStatx.Major(dev), LinuxStatx.Minor(dev), NewGid(task), out _));
        return Made(task, name, r, out _);
    }

    public override long Link(Task task, string name, Inode target)
    {
        if (!_fs.Writable || !IsDir) return base.Link(task, name, target);
        if (DeferredInode.Unwrap(target) is not GoferInode t || t._fs != _fs) return -Errno.EXDEV;
        return _fs.Check(Client.Link(_fid, t._fid, GoferFs.Name(name)));
    }

    public override long Remove(Task task, string name, bool dir)
    {
        if (!_fs.Writable || !IsDir) return base.Remove(task, name, dir);
        return _fs.Check(Client.Unlinkat(_fid, GoferFs.Name(name), dir ? (uint)Linux.AT_REMOVEDIR : 0));
    }

    public override long Rename(Task task, string oldName, Inode newDir, string newName, uint flags)
    {
        if (!_fs.Writable || !IsDir) return base.Rename(task, oldName, newDir, newName, flags);
        if (DeferredInode.Unwrap(newDir) is not GoferInode to || to._fs != _fs) return -Errno.EXDEV;
        // Trenameat has no flags: RENAME_NOREPLACE and RENAME_EXCHANGE are EINVAL, as on a Linux 9p mount.
        if (flags != 0) return -Errno.EINVAL;
        return _fs.Check(Client.Renameat(_fid, GoferFs.Name(oldName), to._fid, GoferFs.Name(newName)));
    }

    public override long SetAttr(Task task, in SetAttr attr)
    {
        if (!_fs.Writable) return base.SetAttr(task, attr);
        var a = new P9.P9IattrDotl { valid = P9Const.P9_SETATTR_CTIME };
        if (attr.Has(Vfs.SetAttr.Fields.Mode)) { a.valid |= P9Const.P9_SETATTR_MODE; a.mode = attr.Mode & 0xfff; }
        if (attr.Has(Vfs.SetAttr.Fields.Uid)) { a.valid |= P9Const.P9_SETATTR_UID; a.uid = attr.Uid; }
        if (attr.Has(Vfs.SetAttr.Fields.Gid)) { a.valid |= P9Const.P9_SETATTR_GID; a.gid = attr.Gid; }
        if (attr.Has(Vfs.SetAttr.Fields.Size))
        {
            if (IsDir) return -Errno.EISDIR;
            if (!IsRegular) return -Errno.EINVAL;
            a.valid |= P9Const.P9_SETATTR_SIZE;
            a.size = (ulong)attr.Size;
        }
        // The VFS has turned UTIME_NOW into a time already: the times are always set explicitly.
        if (attr.Has(Vfs.SetAttr.Fields.Atime))
        {
            a.valid |= P9Const.P9_SETATTR_ATIME | P9Const.P9_SETATTR_ATIME_SET;
            (a.atime_sec, a.atime_nsec) = ((ulong)attr.Atime.Sec, (ulong)attr.Atime.Nsec);
        }
        if (attr.Has(Vfs.SetAttr.Fields.Mtime))
        {
            a.valid |= P9Const.P9_SETATTR_MTIME | P9Const.P9_SETATTR_MTIME_SET;
            (a.mtime_sec, a.mtime_nsec) = ((ulong)attr.Mtime.Sec, (ulong)attr.Mtime.Nsec);
        }
        long r = _fs.Check(Client.SetAttr(_fid, a));
        if (r < 0) return r;
        if (attr.Has(Vfs.SetAttr.Fields.Size)) _fs.VolumeFileIfAny(_st.st_ino)?.Cut(attr.Size, long.MaxValue);
        return Refresh();
    }

    public override bool IsRemoved => IsDir && !_fs.Caches && Stat(out var st) == 0 && st.st_nlink == 0;

    public override long Allocate(Task task, long offset, long length, bool keepSize) =>
        !_fs.Writable ? base.Allocate(task, offset, length, keepSize)
        : OnHostFd(keepSize ? Linux.FALLOC_FL_KEEP_SIZE : 0, offset, length);

    public override long PunchHole(Task task, long offset, long length)
    {
        if (!_fs.Writable) return base.PunchHole(task, offset, length);
        long r = OnHostFd(Linux.FALLOC_FL_PUNCH_HOLE | Linux.FALLOC_FL_KEEP_SIZE, offset, length);
        if (r == 0) _fs.VolumeFileIfAny(_st.st_ino)?.Cut(offset, offset + Math.Min(length, long.MaxValue - offset));
        return r;
    }

    /// <summary>fallocate(2) with <paramref name="mode"/> on a host fd of this file the Gofer opens for writing (9P has no message for it).</summary>
    long OnHostFd(int mode, long offset, long length)
    {
        long r = DonatedFd(Linux.O_WRONLY, out int hostFd);
        if (r < 0) return r;
        if (hostFd < 0) return -Errno.EOPNOTSUPP;
        r = Sentry.Platform.HostSyscall.CallRestarting(285 /* fallocate */, hostFd, mode, offset, length);
        Sentry.Platform.HostSyscall.Call(3 /* close */, hostFd);
        return r;
    }

    public override long SetXattr(Task task, string name, ReadOnlySpan<byte> value, int flags)
    {
        if (!_fs.Writable) return base.SetXattr(task, name, value, flags);
        var c = Client;
        long r = _fs.Check(c.Walk(_fid, ""u8, out uint fid));
        if (r < 0) return r;
        r = _fs.Check(c.XattrCreate(fid, GoferFs.Name(name), (ulong)value.Length, (uint)flags));
        if (r >= 0 && value.Length > 0) r = _fs.Check(c.Write(fid, 0, value));
        // The attribute is set when the fid is clunked: that answer is the call's.
        long clunked = _fs.Check(c.Clunk(fid));
        return r < 0 ? r : clunked < 0 ? clunked : 0;
    }

    public override long RemoveXattr(Task task, string name)
    {
        if (!_fs.Writable) return base.RemoveXattr(task, name);
        // A value of size 0 removes the attribute (as a Linux 9p client asks): it must exist.
        Span<byte> probe = stackalloc byte[1];
        long r = GetXattr(task, name, default);
        return r < 0 ? r : SetXattr(task, name, probe[..0], Linux.XATTR_REPLACE);
    }
}
