using System.Runtime.InteropServices;
using System.Text;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using Sentry.Platform;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// System information and file system queries: sysinfo, prctl, statfs, fadvise64, copy_file_range.
public static unsafe partial class Sys
{
    internal static void RegisterSystem(SyscallHandler?[] t)
    {
        t[99] = SysInfo; t[157] = Prctl; t[137] = StatFs; t[138] = FStatFs; t[221] = Fadvise64; t[326] = CopyFileRange;
    }

    static long SysInfo(Task t, in SyscallArgs a)
    {
        // struct sysinfo is 112 bytes; memory and load are the host's, the process count is the sandbox's.
        byte* buf = stackalloc byte[112];
        long r = HostSyscall.Call(99, (long)buf);
        if (r < 0) return r;
        *(ushort*)(buf + 80) = 1;
        return t.Mm.CopyOut(a.A0, new ReadOnlySpan<byte>(buf, 112)) < 0 ? -Errno.EFAULT : 0;
    }

    const int PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4, PR_SET_NAME = 15,
        PR_GET_NAME = 16, PR_CAPBSET_READ = 23, PR_SET_CHILD_SUBREAPER = 36, PR_GET_CHILD_SUBREAPER = 37,
        PR_SET_NO_NEW_PRIVS = 38, PR_GET_NO_NEW_PRIVS = 39;

    static long Prctl(Task t, in SyscallArgs a)
    {
        switch ((int)a.A0)
        {
            case PR_SET_NAME:
            {
                Span<byte> name = stackalloc byte[16];
                int n = t.Mm.ReadCString(a.A1, name);
                if (n == -Errno.EFAULT) return n;
                t.Comm = Encoding.UTF8.GetString(name[..(n < 0 ? 15 : Math.Min(n, 15))]);
                return 0;
            }
            case PR_GET_NAME:
            {
                Span<byte> name = stackalloc byte[16];
                name.Clear();
                Encoding.UTF8.GetBytes(t.Comm.AsSpan(0, Math.Min(t.Comm.Length, 15)), name);
                return t.Mm.CopyOut(a.A1, name) < 0 ? -Errno.EFAULT : 0;
            }
            case PR_SET_PDEATHSIG:
                if (a.A1 > _NSIG) return -Errno.EINVAL;
                t.ParentDeathSignal = (int)a.A1;
                return 0;
            case PR_GET_PDEATHSIG: return Put(t, a.A1, t.ParentDeathSignal);
            case PR_GET_DUMPABLE: return t.Dumpable ? 1 : 0;
            case PR_SET_DUMPABLE:
                if (a.A1 > 1) return -Errno.EINVAL;
                t.Dumpable = a.A1 == 1;
                return 0;
            case PR_SET_NO_NEW_PRIVS:
                if (a.A1 != 1 || a.A2 != 0 || a.A3 != 0 || a.A4 != 0) return -Errno.EINVAL;
                t.NoNewPrivs = true;
                return 0;
            case PR_GET_NO_NEW_PRIVS:
                if (a.A1 != 0 || a.A2 != 0 || a.A3 != 0 || a.A4 != 0) return -Errno.EINVAL;
                return t.NoNewPrivs ? 1 : 0;
            case PR_SET_CHILD_SUBREAPER: t.ChildSubreaper = a.A1 != 0; return 0;
            case PR_GET_CHILD_SUBREAPER: return Put(t, a.A1, t.ChildSubreaper ? 1 : 0);
            case PR_CAPBSET_READ: return a.A1 <= 40 ? 1 : -Errno.EINVAL;
            default: return -Errno.EINVAL;
        }
    }

    static long StatFs(Task t, in SyscallArgs a)
    {
        long r = Walk(t, AT_FDCWD, a.A0, true, false, out var l, out _);
        if (r < 0) return r;
        return l.Node == null ? -Errno.ENOENT : StatFsOf(t, l.Node, a.A1);
    }

    static long FStatFs(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null) return -Errno.EBADF;
        if (f.Inode == null)
        {
            // Pipes, sockets and stdio: Linux reports their pseudo file systems; Sentry's are in memory.
            Span<long> mem = stackalloc long[15];
            mem.Clear();
            mem[0] = f is PipeEnd ? PIPEFS_MAGIC : SyntheticInode.TMPFS_MAGIC;
            mem[1] = mem[10] = 4096; mem[8] = 255;
            return t.Mm.CopyOut(a.A1, MemoryMarshal.AsBytes(mem)) < 0 ? -Errno.EFAULT : 0;
        }
        return StatFsOf(t, f.Inode, a.A1);
    }

    const long PIPEFS_MAGIC = 0x50495045;

    static long StatFsOf(Task t, Inode node, ulong buf)
    {
        // struct statfs: 15 longs, 120 bytes.
        Span<long> s = stackalloc long[15];
        s.Clear();
        long r = node.StatFs(s);
        if (r < 0) return r;
        return t.Mm.CopyOut(buf, MemoryMarshal.AsBytes(s)) < 0 ? -Errno.EFAULT : 0;
    }

    static long Fadvise64(Task t, in SyscallArgs a)
    {
        var f = t.Fds.Get(Fd(a.A0));
        if (f == null) return -Errno.EBADF;
        if (f is HostStdio && f.Seek(0, SEEK_CUR) == -Errno.ESPIPE) return -Errno.ESPIPE;
        if ((long)a.A2 < 0 || a.A3 > 5) return -Errno.EINVAL;
        return 0; // advice only: the host's page cache behind the file does its own readahead
    }

    static long CopyFileRange(Task t, in SyscallArgs a)
    {
        var fin = t.Fds.Get(Fd(a.A0));
        var fout = t.Fds.Get(Fd(a.A2));
        if (fin == null || fout == null || !fin.Readable || !fout.Writable) return -Errno.EBADF;
        if (a.A5 != 0) return -Errno.EINVAL;
        if (!IsRegular(fin) || !IsRegular(fout)) return -Errno.EINVAL;
        if ((fout.Flags & O_APPEND) != 0) return -Errno.EBADF;
        long inOff = -1, outOff = -1;
        if (a.A1 != 0) { if (t.Mm.Read(a.A1, out inOff) < 0) return -Errno.EFAULT; if (inOff < 0) return -Errno.EINVAL; }
        if (a.A3 != 0) { if (t.Mm.Read(a.A3, out outOff) < 0) return -Errno.EFAULT; if (outOff < 0) return -Errno.EINVAL; }
        long count = (long)Math.Min(a.A4, (ulong)MAX_RW_COUNT), done = 0;
        var buf = t.Bounce;
        while (done < count)
        {
            int chunk = (int)Math.Min(count - done, buf.Length);
            long n = inOff < 0 ? fin.Read(buf.AsSpan(0, chunk)) : fin.PRead(buf.AsSpan(0, chunk), inOff + done);
            if (n <= 0) { if (n < 0 && done == 0) return n; break; }
            long w = outOff < 0 ? fout.Write(buf.AsSpan(0, (int)n)) : fout.PWrite(buf.AsSpan(0, (int)n), outOff + done);
            if (w < 0) { if (done == 0) return w; break; }
            done += w;
            if (w < n) break;
        }
        if (a.A1 != 0) Put(t, a.A1, inOff + done);
        if (a.A3 != 0) Put(t, a.A3, outOff + done);
        return done;
    }

    static bool IsRegular(FileDescription f) => f.Stat(out var st) == 0 && (st.st_mode & S_IFMT) == S_IFREG;
}
