using System.Runtime.InteropServices;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// Advisory file locks: flock(2) and fcntl(2) record locks (POSIX and OFD), kept in the sandbox's FileLocks.
public static partial class Sys
{
    /// <summary><c>struct flock</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    struct Flock
    {
        public short l_type, l_whence;
        public long l_start, l_len;
        public int l_pid;
        int _pad;
    }

    internal static void RegisterLock(SyscallHandler?[] t) => t[73] = FlockCall;

    static long FlockCall(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null || (f.Flags & O_PATH) != 0) return -Errno.EBADF;
        if (f.Inode == null) return -Errno.EINVAL; // Linux allows flock on pipes too, but Sentry's have no inode to key on
        return t.Sandbox.Locks.Flock(t, f, (int)a.A1);
    }

    static long RecordLock(Task t, FileDescription f, int cmd, ulong addr)
    {
        if (t.Mm.Read(addr, out Flock fl) < 0) return -Errno.EFAULT;
        bool ofd = cmd is F_OFD_GETLK or F_OFD_SETLK or F_OFD_SETLKW;
        if (ofd && fl.l_pid != 0) return -Errno.EINVAL;
        if (f.Inode == null || (f.Flags & O_PATH) != 0) return -Errno.EBADF;
        if (fl.l_type is not (FileLocks.F_RDLCK or FileLocks.F_WRLCK or FileLocks.F_UNLCK)) return -Errno.EINVAL;
        long r = LockRange(f, fl, out long start, out long end);
        if (r < 0) return r;
        var locks = t.Sandbox.Locks;
        if (cmd is F_GETLK or F_OFD_GETLK)
        {
            if (fl.l_type == FileLocks.F_UNLCK) return -Errno.EINVAL;
            var c = locks.FindConflict(t, f, ofd, fl.l_type, start, end);
            if (c is { } k)
            {
                fl.l_type = k.Type;
                fl.l_whence = SEEK_SET;
                fl.l_start = k.Start;
                fl.l_len = k.End == long.MaxValue ? 0 : k.End - k.Start;
                fl.l_pid = k.Pid;
            }
            else fl.l_type = FileLocks.F_UNLCK;
            return Put(t, addr, fl);
        }
        // A read lock needs the file open for reading, a write lock for writing.
        if (fl.l_type == FileLocks.F_RDLCK && !f.Readable) return -Errno.EBADF;
        if (fl.l_type == FileLocks.F_WRLCK && !f.Writable) return -Errno.EBADF;
        return locks.SetRecord(t, f, ofd, fl.l_type, start, end, cmd is F_SETLKW or F_OFD_SETLKW);
    }

    /// <summary>The byte range [start, end) a struct flock names; a zero length runs to the end of the file, growing.</summary>
    static long LockRange(FileDescription f, in Flock fl, out long start, out long end)
    {
        start = end = 0;
        long origin;
        switch (fl.l_whence)
        {
            case SEEK_SET: origin = 0; break;
            case SEEK_CUR: origin = f.Seek(0, SEEK_CUR); if (origin < 0) return origin; break;
            case SEEK_END: f.Inode!.Stat(out var st); origin = st.st_size; break;
            default: return -Errno.EINVAL;
        }
        start = origin + fl.l_start;
        if (fl.l_len > 0) end = start + fl.l_len;
        else if (fl.l_len == 0) end = long.MaxValue;
        else { end = start; start += fl.l_len; }
        if (start < 0) return -Errno.EINVAL;
        if (end < start) return -Errno.EOVERFLOW;
        return 0;
    }
}
