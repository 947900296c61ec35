using System.Buffers.Binary;
using System.Buffers.Text;
using Sentry.Gofer.Abi;
using Sentry.Gofer.Host;
using Sentry.P9;

namespace Sentry.Gofer;

/// <summary>Tlopen, Tlcreate, Tread, Twrite, Tfsync, Treaddir: opened files.</summary>
internal sealed partial class GoferConnection
{
    /// <summary>
    /// open(2) flags a client may ask for. O_CREAT/O_EXCL belong to Tlcreate, O_CLOEXEC and
    /// O_NOFOLLOW are the server's own business, O_PATH and O_TMPFILE are refused, and the
    /// rest (O_NOCTTY, FASYNC) mean nothing here.
    /// </summary>
    const int OpenFlagsAllowed = Linux.O_ACCMODE | Linux.O_TRUNC | Linux.O_APPEND | Linux.O_NONBLOCK | Linux.O_DSYNC
        | Linux.__O_SYNC | Linux.O_DIRECT | Linux.O_LARGEFILE | Linux.O_NOATIME;

    /// <summary>Checks Tlopen/Tlcreate flags: EINVAL for access mode 3, O_PATH or O_TMPFILE; EROFS for writing a read-only export.</summary>
    int CheckOpenFlags(int flags)
    {
        if ((flags & Linux.O_ACCMODE) == Linux.O_ACCMODE) return -Errno.EINVAL;
        if ((flags & (Linux.O_PATH | Linux.__O_TMPFILE)) != 0) return -Errno.EINVAL;
        bool writes = (flags & Linux.O_ACCMODE) != Linux.O_RDONLY || (flags & Linux.O_TRUNC) != 0;
        return writes && _readOnly ? -Errno.EROFS : 0;
    }

    /// <summary>
    /// Opens the file <paramref name="node"/> holds with open(2) <paramref name="flags"/>: a
    /// directory as "." of its own fd; anything else through its /proc/self/fd magic link (the
    /// file itself, wherever it is now) or, without /proc, by name in its parent with O_NOFOLLOW.
    /// Either way the result must be the node's inode (ESTALE otherwise: the name now means
    /// another file). Returns the fd and its stat, or -errno.
    /// </summary>
    int Reopen(Node node, int flags, out LinuxStat st)
    {
        st = default;
        flags = (flags & ~Linux.O_NOFOLLOW) | Linux.O_CLOEXEC;
        int fd;
        if (node.IsDir)
        {
            fd = Sys.OpenAt(node.Fd, "."u8, flags | Linux.O_DIRECTORY);
        }
        else if (_server.ProcFd >= 0)
        {
            Span<byte> number = stackalloc byte[11];
            Utf8Formatter.TryFormat(node.Fd, number, out int digits);
            fd = Sys.OpenAt(_server.ProcFd, number[..digits], flags);
        }
        else if (node.Parent != null)
        {
            // The name may now be anything, a FIFO included: never block on it.
            fd = Sys.OpenAt(node.Parent.Fd, node.Name, flags | Linux.O_NOFOLLOW | Linux.O_NONBLOCK);
            if (fd >= 0 && (flags & Linux.O_NONBLOCK) == 0 && node.IsRegular)
                Sys.Fcntl(fd, Linux.F_SETFL, Sys.Fcntl(fd, Linux.F_GETFL, 0) & ~Linux.O_NONBLOCK);
        }
        else
        {
            return -Errno.ESTALE;
        }
        if (fd < 0) return fd;
        int rc = Sys.Fstat(fd, out st);
        if (rc < 0 || !node.Is(st))
        {
            Sys.Close(fd);
            return rc < 0 ? rc : -Errno.ESTALE;
        }
        return fd;
    }

    int Lopen(ushort tag, in Tlopen m)
    {
        if (!TryGetFile(m.Fid, out Fid f)) return -Errno.EBADF;
        if (f.IsOpen) return -Errno.EBADF;
        int flags = (int)m.Flags;
        int rc = CheckOpenFlags(flags);
        Node node = f.Node;
        if (node.IsSymlink) return -Errno.ELOOP;
        if ((flags & Linux.O_DIRECTORY) != 0 && !node.IsDir) return -Errno.ENOTDIR;
        if (node.IsDir && ((flags & Linux.O_ACCMODE) != Linux.O_RDONLY || (flags & Linux.O_TRUNC) != 0)) return -Errno.EISDIR;
        if (rc < 0) return rc;
        int open = flags & OpenFlagsAllowed;
        switch (node.Type)
        {
            case Linux.S_IFCHR or Linux.S_IFBLK:
                // As on a nodev mount (which the confined Gofer's export also is): no host device is reachable.
                return -Errno.EACCES;
            case Linux.S_IFSOCK:
                return -Errno.ENXIO;
            case Linux.S_IFIFO:
                // One thread serves the connection: opening or reading a FIFO must never wait for a peer.
                open |= Linux.O_NONBLOCK;
                break;
        }
        int fd = Reopen(node, open, out LinuxStat st);
        if (fd < 0) return fd;
        f.OpenFd = fd;
        f.OpenFlags = open;
        f.IsStream = node.Type == Linux.S_IFIFO;
        f.DirPosition = 0;
        // Regular files' fds go to the client too (directories are read with Treaddir, FIFOs through 9P).
        return Reply(tag, new Rlopen(QidOf(st), 0), _donate && node.IsRegular ? fd : -1);
    }

    int Lcreate(ushort tag, in Tlcreate m)
    {
        if (!TryGetFile(m.Fid, out Fid f)) return -Errno.EBADF;
        if (f.IsOpen) return -Errno.EBADF;
        Node dir = f.Node;
        if (!dir.IsDir) return -Errno.ENOTDIR;
        int rc = Names.CheckNew(m.Name);
        if (rc < 0) return rc;
        int flags = (int)m.Flags;
        if ((rc = CheckOpenFlags(flags)) < 0) return rc;
        if (_readOnly) return -Errno.EROFS;
        // O_NONBLOCK: should the name already be a FIFO, opening it must not wait (it is refused below).
        int open = (flags & (OpenFlagsAllowed | Linux.O_EXCL)) | Linux.O_CREAT;
        uint mode = m.Mode & Linux.S_IALLUGO;
        int fd = OpenName(dir.Fd, m.Name, open | Linux.O_NONBLOCK, mode);
        if (fd < 0) return fd;
        if ((rc = Sys.Fstat(fd, out LinuxStat st)) < 0 || !st.IsRegular)
        {
            Sys.Close(fd);
            return rc < 0 ? rc : st.IsDir ? -Errno.EISDIR : -Errno.EEXIST;
        }
        if ((flags & Linux.O_NONBLOCK) == 0) Sys.Fcntl(fd, Linux.F_SETFL, Sys.Fcntl(fd, Linux.F_GETFL, 0) & ~Linux.O_NONBLOCK);
        SetOwnerAndMode(fd, ref st, f.Uid, m.Gid, mode);

        // The fid now refers to the new file: its O_PATH fd, checked to be what we created.
        int pathFd = OpenName(dir.Fd, m.Name, Linux.O_PATH);
        if (pathFd >= 0 && (Sys.Fstat(pathFd, out LinuxStat pst) < 0 || pst.st_dev != st.st_dev || pst.st_ino != st.st_ino))
        {
            Sys.Close(pathFd);
            pathFd = -1;
        }
        if (pathFd < 0) pathFd = Sys.DupCloexec(fd); // renamed already: the open fd pins the same file
        if (pathFd < 0)
        {
            Sys.Close(fd);
            return pathFd;
        }
        var node = new Node(_nodes, pathFd, dir, m.Name.ToArray(), st);
        f.Node = node;
        dir.Release();
        f.OpenFd = fd;
        f.OpenFlags = open;
        f.IsStream = false;
        f.DirPosition = 0;
        return Reply(tag, new Rlcreate(QidOf(st), 0), _donate ? fd : -1);
    }

    /// <summary>
    /// Gives a file the Gofer just created the attaching user and the requested group, and
    /// exactly the requested mode (the process umask, if any, must not change it). Failures are
    /// ignored: an unprivileged Gofer cannot give files away, and the file is usable as it is.
    /// </summary>
    static void SetOwnerAndMode(int fd, ref LinuxStat st, uint uid, uint gid, uint mode)
    {
        if (st.st_uid != uid || st.st_gid != gid)
        {
            if (Sys.Fchown(fd, uid, gid) == 0 && Sys.Fstat(fd, out LinuxStat after) == 0) st = after;
            else if (Sys.Fchown(fd, uint.MaxValue, gid) == 0 && Sys.Fstat(fd, out after) == 0) st = after;
        }
        // chown clears set-id bits, so the mode comes after it.
        if ((st.st_mode & Linux.S_IALLUGO) != mode && st.Type != Linux.S_IFLNK
            && Sys.Fchmod(fd, mode) == 0 && Sys.Fstat(fd, out LinuxStat chmodded) == 0)
            st = chmodded;
    }

    int Read(ushort tag, in Tread m)
    {
        if (!_fids.TryGet(m.Fid, out Fid f)) return -Errno.EBADF;
        const int header = P9Const.HeaderSize + 4;
        int count = (int)Math.Min(m.Count, (uint)(_msize - header));
        Span<byte> data = _reply.AsSpan(header, count);
        long n;
        if (f.Kind == FidKind.XattrRead)
        {
            byte[] value = f.XattrValue!;
            if (m.Offset >= (ulong)value.Length) n = 0;
            else
            {
                n = Math.Min(count, value.Length - (int)m.Offset);
                value.AsSpan((int)m.Offset, (int)n).CopyTo(data);
            }
        }
        else
        {
            if (!f.IsOpen || f.Kind != FidKind.File) return -Errno.EBADF;
            if (m.Offset > long.MaxValue) return -Errno.EINVAL;
            n = f.IsStream ? Sys.Read(f.OpenFd, data) : Sys.Pread(f.OpenFd, data, (long)m.Offset);
            if (n < 0) return (int)n;
        }
        SendCounted(P9MessageType.Rread, tag, (int)n);
        return 0;
    }

    int Write(ushort tag, in Twrite m)
    {
        if (!_fids.TryGet(m.Fid, out Fid f)) return -Errno.EBADF;
        long n;
        if (f.Kind == FidKind.XattrWrite)
        {
            // As QEMU: the value is filled in place; bytes past the announced size are dropped.
            byte[] value = f.XattrValue!;
            if (m.Offset > (ulong)value.Length) return -Errno.ENOSPC;
            n = Math.Min(m.Data.Length, value.Length - (int)m.Offset);
            m.Data[..(int)n].CopyTo(value.AsSpan((int)m.Offset));
            f.XattrWritten += n;
        }
        else
        {
            if (!f.IsOpen || f.Kind != FidKind.File) return -Errno.EBADF;
            if (m.Offset > long.MaxValue) return -Errno.EINVAL;
            n = f.IsStream ? Sys.Write(f.OpenFd, m.Data) : Sys.Pwrite(f.OpenFd, m.Data, (long)m.Offset);
            if (n < 0) return (int)n;
        }
        return Reply(tag, new Rwrite((uint)n));
    }

    int Fsync(ushort tag, in Tfsync m)
    {
        if (!TryGetFile(m.Fid, out Fid f) || !f.IsOpen) return -Errno.EBADF;
        int rc = m.Datasync != 0 ? Sys.Fdatasync(f.OpenFd) : Sys.Fsync(f.OpenFd);
        return rc < 0 ? rc : Reply(tag, new Rfsync());
    }

    /// <summary>
    /// Directory entries from getdents64, each with the d_off cookie as its offset: a Treaddir
    /// at that offset seeks there (when the fd is not already there) and continues after it.
    /// </summary>
    int Readdir(ushort tag, in Treaddir m)
    {
        if (!TryGetFile(m.Fid, out Fid f) || !f.IsOpen) return -Errno.EBADF;
        Node node = f.Node;
        if (!node.IsDir) return -Errno.ENOTDIR;
        const int header = P9Const.HeaderSize + 4;
        int count = (int)Math.Min(m.Count, (uint)(_msize - header));
        if (m.Offset != f.DirPosition)
        {
            if (m.Offset > long.MaxValue) return -Errno.EINVAL;
            long pos = Sys.Lseek(f.OpenFd, (long)m.Offset, Linux.SEEK_SET);
            f.DirPosition = ulong.MaxValue;
            if (pos < 0) return (int)pos;
            f.DirPosition = m.Offset;
        }
        // getdents64 records are about as large as 9P's: ask for as many bytes as the reply may hold.
        byte[] scratch = Scratch(_msize);
        long got = Sys.Getdents64(f.OpenFd, scratch.AsSpan(0, Math.Max(count, 512)));
        if (got < 0)
        {
            f.DirPosition = ulong.MaxValue;
            return (int)got;
        }
        Span<byte> dest = _reply.AsSpan(header, count);
        ReadOnlySpan<byte> records = scratch.AsSpan(0, (int)got);
        int used = 0;
        ulong last = m.Offset;
        bool all = true;
        while (records.Length >= 19)
        {
            // struct linux_dirent64: d_ino[8] d_off[8] d_reclen[2] d_type[1] d_name (NUL-terminated).
            ulong ino = BinaryPrimitives.ReadUInt64LittleEndian(records);
            ulong off = BinaryPrimitives.ReadUInt64LittleEndian(records[8..]);
            int reclen = BinaryPrimitives.ReadUInt16LittleEndian(records[16..]);
            byte type = records[18];
            if (reclen < 19 || reclen > records.Length) break;
            ReadOnlySpan<byte> name = records[19..reclen];
            int nul = name.IndexOf((byte)0);
            if (nul >= 0) name = name[..nul];
            // ".." of the root is the root here, as walking it is.
            P9Qid qid = node.Parent == null && Names.IsDotDot(name)
                ? QidOf(node)
                : new P9Qid(type == Linux.DT_DIR ? P9Const.P9_QTDIR : type == Linux.DT_LNK ? P9Const.P9_QTSYMLINK : P9Const.P9_QTFILE, 0, QidPath(node.Dev, ino));
            int n = new P9Dirent(qid, off, type, name).TryWrite(dest[used..]);
            if (n == 0)
            {
                all = false;
                break;
            }
            used += n;
            last = off;
            records = records[reclen..];
        }
        if (used == 0 && got > 0) return -Errno.EINVAL; // not even one entry fits in count
        // The fd is past everything getdents returned; if some of it did not fit, seek next time.
        f.DirPosition = all ? last : ulong.MaxValue;
        SendCounted(P9MessageType.Rreaddir, tag, used);
        return 0;
    }
}
