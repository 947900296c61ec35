using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// Files: I/O on descriptors.
public static partial class Sys
{
    internal const long MAX_RW_COUNT = 0x7ffff000;

    internal static void RegisterFile(SyscallHandler?[] t)
    {
        t[0] = Read; t[1] = Write; t[17] = PRead64; t[18] = PWrite64; t[19] = ReadV; t[20] = WriteV;
        t[295] = PReadV; t[296] = PWriteV; t[8] = LSeek; t[3] = Close;
        t[2] = OpenPath; t[257] = OpenAt; t[85] = Creat;
        t[5] = FStat; t[4] = StatPath; t[6] = LStatPath; t[262] = NewFStatAt; t[332] = Statx;
        t[217] = GetDents64; t[89] = ReadLink; t[267] = ReadLinkAt;
        t[21] = AccessPath; t[269] = FAccessAt; t[439] = FAccessAt2;
        t[79] = GetCwd; t[80] = ChDir; t[81] = FChDir;
        t[16] = Ioctl; t[72] = Fcntl; t[32] = Dup; t[33] = Dup2; t[292] = Dup3; t[95] = Umask;
        t[436] = CloseRange;
        RegisterXattr(t);
    }

    static long Read(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null || !f.Readable) return -Errno.EBADF;
        if (!AccessOk(a.A1, a.A2)) return -Errno.EFAULT;
        return ReadInto(t, f, a.A1, (long)Math.Min(a.A2, (ulong)MAX_RW_COUNT), -1);
    }

    /// <summary>As rw_verify_area: a positional transfer whose end (with the count asked for) is past the largest offset is EINVAL.</summary>
    static bool EndOverflows(long offset, ulong count) => count > (ulong)(long.MaxValue - offset);

    static long PRead64(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null || !f.Readable) return -Errno.EBADF;
        if ((long)a.A3 < 0) return -Errno.EINVAL;
        if (!AccessOk(a.A1, a.A2)) return -Errno.EFAULT;
        if (EndOverflows((long)a.A3, a.A2)) return -Errno.EINVAL;
        return ReadInto(t, f, a.A1, (long)Math.Min(a.A2, (ulong)MAX_RW_COUNT), (long)a.A3);
    }

    /// <summary>
    /// Reads up to <paramref name="count"/> bytes from <paramref name="f"/> into application memory
    /// through the task's bounce buffer. <paramref name="offset"/> &lt; 0 means the file position.
    /// Regular files and devices are read until the count is met or a short read; streams return
    /// after one read so a terminal or pipe never blocks for more than it has.
    /// </summary>
    static long ReadInto(Task t, FileDescription f, ulong buf, long count, long offset)
    {
        if (f.IsDirectory) return -Errno.EISDIR;
        long done = 0;
        // Regular files (anything with pages to map: tmpfs, the overlay, the Gofer's files) give
        // all that is there, as Linux does; Java's FileChannel reads 1 MiB with one call.
        bool loop = f is HostFile or CharDevice || f.Mappable != null;
        var bounce = t.Bounce;
        while (done < count)
        {
            int chunk = (int)Math.Min(count - done, bounce.Length);
            long r = offset < 0 ? f.Read(bounce.AsSpan(0, chunk)) : f.PRead(bounce.AsSpan(0, chunk), offset + done);
            if (r < 0) return done > 0 ? done : r;
            if (r == 0) break;
            if (t.Mm.CopyOut(buf + (ulong)done, bounce.AsSpan(0, (int)r)) < 0)
            {
                if (offset < 0) f.Seek(-r, SEEK_CUR); // give back what could not be delivered
                return done > 0 ? done : -Errno.EFAULT;
            }
            done += r;
            if (r < chunk || !loop) break;
        }
        return done;
    }

    static long Write(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null || !f.Writable) return -Errno.EBADF;
        if (!AccessOk(a.A1, a.A2)) return -Errno.EFAULT;
        return WriteFrom(t, f, a.A1, (long)Math.Min(a.A2, (ulong)MAX_RW_COUNT), -1);
    }

    static long PWrite64(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null || !f.Writable) return -Errno.EBADF;
        if ((long)a.A3 < 0) return -Errno.EINVAL;
        if (!AccessOk(a.A1, a.A2)) return -Errno.EFAULT;
        if (EndOverflows((long)a.A3, a.A2)) return -Errno.EINVAL;
        return WriteFrom(t, f, a.A1, (long)Math.Min(a.A2, (ulong)MAX_RW_COUNT), (long)a.A3);
    }

    static long WriteFrom(Task t, FileDescription f, ulong buf, long count, long offset)
    {
        long done = 0;
        var bounce = t.Bounce;
        while (done < count || count == 0)
        {
            int chunk = (int)Math.Min(count - done, bounce.Length);
            if (t.Mm.CopyIn(buf + (ulong)done, bounce.AsSpan(0, chunk)) < 0) return done > 0 ? done : -Errno.EFAULT;
            long r = offset < 0 ? f.Write(bounce.AsSpan(0, chunk)) : f.PWrite(bounce.AsSpan(0, chunk), offset + done);
            if (r < 0) return done > 0 ? done : r;
            done += r;
            if (r < chunk || count == 0) break;
        }
        return done;
    }

    /// <summary>struct iovec array: validated as Linux does (count ≤ UIO_MAXIOV, total ≤ SSIZE_MAX).</summary>
    static long ReadIovecs(Task t, ulong iov, ulong cnt, out (ulong Base, ulong Len)[] vecs)
    {
        vecs = [];
        if (cnt > 1024) return -Errno.EINVAL;
        vecs = new (ulong, ulong)[cnt];
        ulong total = 0;
        for (int i = 0; i < (int)cnt; i++)
        {
            if (t.Mm.Read(iov + (ulong)i * 16, out ulong b) < 0 || t.Mm.Read(iov + (ulong)i * 16 + 8, out ulong l) < 0) return -Errno.EFAULT;
            if ((long)l < 0) return -Errno.EINVAL;
            total += l;
            if ((long)total < 0) return -Errno.EINVAL;
            vecs[i] = (b, l);
        }
        return 0;
    }

    static long VectorIo(Task t, in SyscallArgs a, bool write, long offset)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null || (write ? !f.Writable : !f.Readable)) return -Errno.EBADF;
        long r = ReadIovecs(t, a.A1, a.A2, out var vecs);
        if (r < 0) return r;
        long done = 0;
        foreach (var (b, l) in vecs)
        {
            if (l == 0) continue;
            long len = (long)Math.Min(l, (ulong)(MAX_RW_COUNT - done));
            long n = write ? WriteFrom(t, f, b, len, offset < 0 ? -1 : offset + done) : ReadInto(t, f, b, len, offset < 0 ? -1 : offset + done);
            if (n < 0) return done > 0 ? done : n;
            done += n;
            if (n < len || done >= MAX_RW_COUNT) break;
        }
        return done;
    }

    static long ReadV(Task t, in SyscallArgs a) => VectorIo(t, a, false, -1);
    static long WriteV(Task t, in SyscallArgs a) => VectorIo(t, a, true, -1);
    static long PReadV(Task t, in SyscallArgs a) => (long)a.A3 < 0 ? -Errno.EINVAL : VectorIo(t, a, false, (long)a.A3);
    static long PWriteV(Task t, in SyscallArgs a) => (long)a.A3 < 0 ? -Errno.EINVAL : VectorIo(t, a, true, (long)a.A3);

    static long LSeek(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null || (f.Flags & O_PATH) != 0) return -Errno.EBADF;
        if (a.A2 > SEEK_HOLE) return -Errno.EINVAL;
        return f.Seek((long)a.A1, (int)a.A2);
    }

    static long Close(Task t, in SyscallArgs a)
    {
        // Closing any fd of a file drops the process's POSIX record locks on it (fcntl(2)).
        if (t.Fds.Get(Fd(a.A0)) is { Inode: not null } f) t.Sandbox.Locks.ProcessClosed(t.Group, f);
        return t.Fds.Close(Fd(a.A0));
    }

    static long CloseRange(Task t, in SyscallArgs a)
    {
        const uint CLOSE_RANGE_UNSHARE = 2, CLOSE_RANGE_CLOEXEC = 4;
        uint first = (uint)a.A0, last = (uint)a.A1, flags = (uint)a.A2;
        if ((flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) != 0 || first > last) return -Errno.EINVAL;
        if ((flags & CLOSE_RANGE_UNSHARE) != 0 && t.Fds.Users > 1)
        {
            var own = t.Fds.Clone();
            t.Fds.ReleaseUser();
            t.Fds = own;
        }
        int hi = (int)Math.Min(last, (uint)Math.Max(0, t.Fds.Limit - 1));
        for (int fd = (int)first; fd <= hi && fd >= 0; fd++)
        {
            if (t.Fds.Get(fd) == null) continue;
            if ((flags & CLOSE_RANGE_CLOEXEC) != 0) t.Fds.SetCloseOnExec(fd, true);
            else t.Fds.Close(fd);
        }
        return 0;
    }

    static long OpenAt(Task t, in SyscallArgs a) => DoOpen(t, (int)a.A0, a.A1, (int)a.A2, (int)a.A3);
    static long OpenPath(Task t, in SyscallArgs a) => DoOpen(t, AT_FDCWD, a.A0, (int)a.A1, (int)a.A2);
    static long Creat(Task t, in SyscallArgs a) => DoOpen(t, AT_FDCWD, a.A0, O_CREAT | O_WRONLY | O_TRUNC, (int)a.A1);

    static long DoOpen(Task t, int dirfd, ulong pathAddr, int flags, int mode)
    {
        bool follow = (flags & O_NOFOLLOW) == 0 && (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL);
        long r = Walk(t, dirfd, pathAddr, follow, false, out var l, out _);
        if (r < 0) return r;
        if ((flags & O_TMPFILE) == O_TMPFILE) return OpenUnnamed(t, l, flags, mode);
        var f = Open.File(t, l, flags | O_LARGEFILE, out int err, mode);
        if (f == null) return err;
        return t.Fds.Install(f, (flags & O_CLOEXEC) != 0);
    }

    /// <summary>open(dir, O_TMPFILE): an unnamed regular file in the directory's file system, linkable later unless O_EXCL.</summary>
    static long OpenUnnamed(Task t, in Lookup l, int flags, int mode)
    {
        int acc = flags & O_ACCMODE;
        if (acc == O_RDONLY || acc == O_ACCMODE) return -Errno.EINVAL;
        if (l.Node == null) return -Errno.ENOENT;
        if (!l.Node.IsDir) return -Errno.ENOTDIR;
        if (!Permission.May(t, l.Node, W_OK | X_OK)) return -Errno.EACCES;
        long r = l.Node.CreateUnnamed(t, (uint)(mode & ~t.Fs.Umask & 0xfff), (flags & O_EXCL) == 0, out var node);
        if (r < 0) return r;
        node!.Stat(out var st);
        r = node.Open(t, flags & ~(O_TMPFILE & ~O_DIRECTORY) & ~O_DIRECTORY, $"{(l.Path == "/" ? "" : l.Path)}/#{st.st_ino} (deleted)", out var f);
        if (r < 0) return r;
        f!.Flags = flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_LARGEFILE);
        f.Inode = node;
        return t.Fds.Install(f, (flags & O_CLOEXEC) != 0);
    }

    /// <summary>
    /// fstat: the attributes of the file's node when it has one, so fstat and stat of the path
    /// agree (a file of the lower layer is open as the host fd the Gofer donated, whose host
    /// device and inode numbers are not the ones the sandbox sees).
    /// </summary>
    static long StatOf(FileDescription f, out LinuxStat st) => f.Inode?.Stat(out st) ?? f.Stat(out st);

    static long FStat(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null) return -Errno.EBADF;
        long r = StatOf(f, out var st);
        return r < 0 ? r : Put(t, a.A1, st);
    }

    static long StatPath(Task t, in SyscallArgs a) => StatAt(t, AT_FDCWD, a.A0, a.A1, 0);
    static long LStatPath(Task t, in SyscallArgs a) => StatAt(t, AT_FDCWD, a.A0, a.A1, AT_SYMLINK_NOFOLLOW);
    static long NewFStatAt(Task t, in SyscallArgs a) => StatAt(t, (int)a.A0, a.A1, a.A2, (int)a.A3);

    static long StatAt(Task t, int dirfd, ulong path, ulong buf, int flags)
    {
        if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) != 0) return -Errno.EINVAL;
        long r = Walk(t, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) == 0, (flags & AT_EMPTY_PATH) != 0, out var l, out var file);
        if (r < 0) return r;
        LinuxStat st;
        r = file != null ? StatOf(file, out st) : Open.Stat(l, out st);
        return r < 0 ? r : Put(t, buf, st);
    }

    static long Statx(Task t, in SyscallArgs a)
    {
        int flags = (int)a.A2;
        uint mask = (uint)a.A3;
        if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)) != 0) return -Errno.EINVAL;
        if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE) return -Errno.EINVAL;
        if ((mask & 0x80000000u) != 0) return -Errno.EINVAL;
        long r = Walk(t, (int)a.A0, a.A1, (flags & AT_SYMLINK_NOFOLLOW) == 0, (flags & AT_EMPTY_PATH) != 0, out var l, out var file);
        if (r < 0) return r;
        LinuxStatx stx;
        r = file != null ? (file.Inode?.Statx(mask, out stx) ?? file.Statx(mask, out stx)) : Open.Statx(l, mask, out stx);
        return r < 0 ? r : Put(t, a.A4, stx);
    }

    static long GetDents64(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null) return -Errno.EBADF;
        if ((f.Flags & O_PATH) != 0) return -Errno.EBADF;
        int count = (int)Math.Min(a.A2, (ulong)t.Bounce.Length);
        if (!t.Mm.IsWritable(a.A1, (ulong)Math.Max(count, 1))) return -Errno.EFAULT;
        long r = f.GetDents64(t.Bounce.AsSpan(0, count));
        if (r <= 0) return r;
        return t.Mm.CopyOut(a.A1, t.Bounce.AsSpan(0, (int)r)) < 0 ? -Errno.EFAULT : r;
    }

    static long ReadLink(Task t, in SyscallArgs a) => DoReadLink(t, AT_FDCWD, a.A0, a.A1, (long)a.A2);
    static long ReadLinkAt(Task t, in SyscallArgs a) => DoReadLink(t, (int)a.A0, a.A1, a.A2, (long)a.A3);

    static long DoReadLink(Task t, int dirfd, ulong path, ulong buf, long size)
    {
        if ((int)size <= 0) return -Errno.EINVAL;
        // An empty path reads the link an O_PATH fd refers to.
        long r = Walk(t, dirfd, path, false, dirfd != AT_FDCWD, out var l, out var file);
        if (r < 0) return r;
        string target = "";
        if (file != null) r = file.Inode == null ? -Errno.ENOENT : file.Inode.ReadLink(t, out target);
        else r = PathWalker.ReadLink(t, l, out target);
        if (r < 0) return r;
        var bytes = Encoding.UTF8.GetBytes(target);
        int n = (int)Math.Min(bytes.Length, (int)size);
        return t.Mm.CopyOut(buf, bytes.AsSpan(0, n)) < 0 ? -Errno.EFAULT : n;
    }

    static long AccessPath(Task t, in SyscallArgs a) => DoAccess(t, AT_FDCWD, a.A0, (int)a.A1, 0);
    static long FAccessAt(Task t, in SyscallArgs a) => DoAccess(t, (int)a.A0, a.A1, (int)a.A2, 0);
    static long FAccessAt2(Task t, in SyscallArgs a) => DoAccess(t, (int)a.A0, a.A1, (int)a.A2, (int)a.A3);

    static long DoAccess(Task t, int dirfd, ulong path, int mode, int flags)
    {
        if ((mode & ~7) != 0) return -Errno.EINVAL;
        if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -Errno.EINVAL;
        long r = Walk(t, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) == 0, (flags & AT_EMPTY_PATH) != 0, out var l, out var file);
        if (r < 0) return r;
        return Open.Access(t, file != null ? file.Inode : l.Node, mode);
    }

    static long GetCwd(Task t, in SyscallArgs a)
    {
        if (t.Fs.CwdNode is { IsRemoved: true }) return -Errno.ENOENT;
        var bytes = Encoding.UTF8.GetBytes(t.Fs.Cwd + "\0");
        if (a.A1 < (ulong)bytes.Length) return -Errno.ERANGE;
        return t.Mm.CopyOut(a.A0, bytes) < 0 ? -Errno.EFAULT : bytes.Length;
    }

    static long ChDir(Task t, in SyscallArgs a)
    {
        long r = Walk(t, AT_FDCWD, a.A0, true, false, out var l, out _);
        if (r < 0) return r;
        if (!l.Exists) return -Errno.ENOENT;
        if (!l.IsDir) return -Errno.ENOTDIR;
        t.Fs.SetCwd(l.Path, l.Node);
        return 0;
    }

    static long FChDir(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null) return -Errno.EBADF;
        if (!f.IsDirectory) return -Errno.ENOTDIR;
        t.Fs.SetCwd(f.Path, f.Inode);
        return 0;
    }

    static long Ioctl(Task t, in SyscallArgs a)
    {
        int fd = Fd(a.A0);
        var f = t.Fds.Get(fd);
        if (f == null || (f.Flags & O_PATH) != 0) return -Errno.EBADF;
        switch ((uint)a.A1)
        {
            case FIOCLEX: return t.Fds.SetCloseOnExec(fd, true);
            case FIONCLEX: return t.Fds.SetCloseOnExec(fd, false);
            case FIONBIO:
                if (t.Mm.Read(a.A2, out int on) < 0) return -Errno.EFAULT;
                f.Flags = on != 0 ? f.Flags | O_NONBLOCK : f.Flags & ~O_NONBLOCK;
                return 0;
            case 0x5452 /* FIOASYNC */:
                if (t.Mm.Read(a.A2, out int async) < 0) return -Errno.EFAULT;
                f.Flags = async != 0 ? f.Flags | O_ASYNC : f.Flags & ~O_ASYNC;
                f.AsyncFor(t.Sandbox)?.Update();
                return 0;
        }
        return f.Ioctl(t, (uint)a.A1, a.A2);
    }

    static long Fcntl(Task t, in SyscallArgs a)
    {
        int fd = Fd(a.A0);
        var f = t.Fds.Get(fd);
        if (f == null) return -Errno.EBADF;
        switch ((int)a.A1)
        {
            case F_DUPFD:
            case F_DUPFD_CLOEXEC:
                if (a.A2 >= (ulong)t.Fds.Limit) return -Errno.EINVAL;
                f.AddRef();
                return t.Fds.Install(f, (int)a.A1 == F_DUPFD_CLOEXEC, (int)a.A2);
            case F_GETFD: return t.Fds.GetCloseOnExec(fd) ? FD_CLOEXEC : 0;
            case F_SETFD: return t.Fds.SetCloseOnExec(fd, (a.A2 & FD_CLOEXEC) != 0);
            case F_GETFL: return f.Flags;
            case F_SETFL:
                if ((f.Flags & O_PATH) != 0) return -Errno.EBADF;
                const int settable = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
                f.Flags = (f.Flags & ~settable) | ((int)a.A2 & settable);
                f.AsyncFor(t.Sandbox)?.Update();
                return 0;
            case F_GETLK: case F_SETLK: case F_SETLKW: case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW:
                return RecordLock(t, f, (int)a.A1, a.A2);
            // Signal-driven I/O: the owner and signal are kept even for a file that cannot raise it
            // (no poll queue), as Linux keeps them on any file.
            case F_SETOWN:
                if (f.AsyncFor(t.Sandbox) is { } setOwn) setOwn.Owner = (int)a.A2;
                return 0;
            case F_GETOWN: return f.AsyncFor(t.Sandbox)?.Owner ?? 0;
            case 10 /* F_SETSIG */:
                if ((int)a.A2 is < 0 or > 64) return -Errno.EINVAL;
                if (f.AsyncFor(t.Sandbox) is { } setSig) setSig.Signal = (int)a.A2;
                return 0;
            case 11 /* F_GETSIG */: return f.AsyncFor(t.Sandbox)?.Signal ?? 0;
            // struct f_owner_ex { int type; pid_t pid; }: glibc's F_GETOWN is this call.
            case 15 /* F_SETOWN_EX */:
            {
                if (t.Mm.Read(a.A2, out (int Type, int Pid) ex) < 0) return -Errno.EFAULT;
                if (ex.Type is < 0 or > 2 || ex.Pid < 0) return -Errno.EINVAL;
                if (f.AsyncFor(t.Sandbox) is { } setEx) setEx.Owner = ex.Type == 2 /* F_OWNER_PGRP */ ? -ex.Pid : ex.Pid;
                return 0;
            }
            case 16 /* F_GETOWN_EX */:
            {
                int owner = f.AsyncFor(t.Sandbox)?.Owner ?? 0;
                return Put(t, a.A2, (owner < 0 ? 2 : 1, Math.Abs(owner))) < 0 ? -Errno.EFAULT : 0;
            }
            case F_GET_SEALS: return f.Inode is Fs.TmpfsNode sn && f is Fs.TmpfsFile ? sn.GetSeals() : -Errno.EINVAL;
            case F_ADD_SEALS:
                if (!f.Writable) return -Errno.EPERM;
                if (((int)a.A2 & ~F_ALL_SEALS) != 0) return -Errno.EINVAL;
                return f.Inode is Fs.TmpfsNode an && f is Fs.TmpfsFile ? an.AddSeals((int)a.A2) : -Errno.EINVAL;
            default: return -Errno.EINVAL;
        }
    }

    static long Dup(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null) return -Errno.EBADF;
        f.AddRef();
        return t.Fds.Install(f, false);
    }

    static long Dup2(Task t, in SyscallArgs a)
    {
        int oldFd = Fd(a.A0), newFd = Fd(a.A1);
        var f = t.Fds.Get(oldFd);
        if (f == null) return -Errno.EBADF;
        if (oldFd == newFd) return newFd;
        f.AddRef();
        return t.Fds.InstallAt(newFd, f, false);
    }

    static long Dup3(Task t, in SyscallArgs a)
    {
        int oldFd = Fd(a.A0), newFd = Fd(a.A1);
        if (((int)a.A2 & ~O_CLOEXEC) != 0) return -Errno.EINVAL;
        if (oldFd == newFd) return -Errno.EINVAL;
        var f = t.Fds.Get(oldFd);
        if (f == null) return -Errno.EBADF;
        f.AddRef();
        return t.Fds.InstallAt(newFd, f, ((int)a.A2 & O_CLOEXEC) != 0);
    }

    static long Umask(Task t, in SyscallArgs a)
    {
        int old = t.Fs.Umask;
        t.Fs.Umask = (int)a.A0 & 0x1ff;
        return old;
    }
}
