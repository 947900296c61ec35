using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;
using Sentry.Kernel.Vfs;
using static Sentry.Kernel.Abi.Linux;

namespace Sentry.Kernel.Syscalls;

// sendfile(2) and splice(2) by copying through the task's bounce buffer: any readable file to any
// writable one (sockets, pipes, regular files), with the offsets, the pipe rule of splice and the
// errnos of Linux. No pages are moved: the cost is one copy more than Linux's.
public static partial class Sys
{
    internal static void RegisterSplice(SyscallHandler?[] t)
    {
        t[40] = SendFile; t[275] = Splice;
    }

    static bool IsPipe(FileDescription f) => f is PipeEnd || (f.Stat(out var st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO);

    /// <summary>sendfile(out_fd, in_fd, offset, count): from the offset (the file's position when null) of in_fd.</summary>
    static long SendFile(Task t, in SyscallArgs a)
    {
        var fout = t.Fds.Get(Fd(a.A0));
        var fin = t.Fds.Get(Fd(a.A1));
        if (fin == null || fout == null || !fin.Readable || !fout.Writable) return -Errno.EBADF;
        if ((fout.Flags & O_APPEND) != 0) return -Errno.EINVAL;
        long offset = -1;
        if (a.A2 != 0)
        {
            if (t.Mm.Read(a.A2, out offset) < 0) return -Errno.EFAULT;
            if (offset < 0) return -Errno.EINVAL;
        }
        long count = (long)Math.Min(a.A3, (ulong)MAX_RW_COUNT), done = 0;
        var buf = t.Bounce;
        bool seekable = fin.Seek(0, SEEK_CUR) >= 0;
        if (offset >= 0 && !seekable) return -Errno.ESPIPE;
        while (done < count)
        {
            int chunk = (int)Math.Min(count - done, buf.Length);
            long n = offset >= 0 ? fin.PRead(buf.AsSpan(0, chunk), offset + done) : fin.Read(buf.AsSpan(0, chunk));
            if (n <= 0) { if (n < 0 && done == 0) return n; break; }
            long w = fout.Write(buf.AsSpan(0, (int)n));
            if (w < 0)
            {
                if (offset < 0 && seekable) fin.Seek(-n, SEEK_CUR);
                if (done == 0) return w;
                break;
            }
            done += w;
            if (w < n)
            {
                // What did not go out is not consumed: the position goes back to it.
                if (offset < 0 && seekable) fin.Seek(w - n, SEEK_CUR);
                break;
            }
            if (n < chunk || t.SignalPending) break;
        }
        if (a.A2 != 0 && Put(t, a.A2, offset + done) < 0) return -Errno.EFAULT;
        return done;
    }

    /// <summary>
    /// splice(fd_in, off_in, fd_out, off_out, len, flags): one side must be a pipe (EINVAL), a
    /// pipe takes no offset (ESPIPE). Moves what one read of the input gives, at most what the
    /// output pipe has room for.
    /// </summary>
    static long Splice(Task t, in SyscallArgs a)
    {
        const int SPLICE_F_NONBLOCK = 2, SPLICE_F_ALL = 0xf;
        var fin = t.Fds.Get(Fd(a.A0));
        var fout = t.Fds.Get(Fd(a.A2));
        if (fin == null || fout == null) return -Errno.EBADF;
        if (((int)a.A5 & ~SPLICE_F_ALL) != 0) return -Errno.EINVAL;
        if (!fin.Readable || !fout.Writable) return -Errno.EBADF;
        bool inPipe = IsPipe(fin), outPipe = IsPipe(fout);
        if (!inPipe && !outPipe) return -Errno.EINVAL;
        if ((inPipe && a.A1 != 0) || (outPipe && a.A3 != 0)) return -Errno.ESPIPE;
        if (fin is PipeEnd pi && fout is PipeEnd po && pi.Pipe == po.Pipe) return -Errno.EINVAL;
        if ((fout.Flags & O_APPEND) != 0 && !outPipe) return -Errno.EINVAL;
        long inOff = -1, outOff = -1;
        if (a.A1 != 0) { if (t.Mm.Read(a.A1, out inOff) < 0) return -Errno.EFAULT; if (inOff < 0) return -Errno.EINVAL; }
        if (a.A3 != 0) { if (t.Mm.Read(a.A3, out outOff) < 0) return -Errno.EFAULT; if (outOff < 0) return -Errno.EINVAL; }
        bool nonblock = ((int)a.A5 & SPLICE_F_NONBLOCK) != 0;
        long len = (long)Math.Min(a.A4, (ulong)MAX_RW_COUNT);
        if (len == 0) return 0;
        int chunk = (int)Math.Min(len, t.Bounce.Length);
        if (fout is PipeEnd target)
        {
            // No more than the pipe takes now: what is read must all be written.
            while (true)
            {
                int room = Pipe.Capacity - target.Pipe.Available;
                if (target.Pipe.Readers == 0) return fout.Write(t.Bounce.AsSpan(0, 1)); // EPIPE and SIGPIPE, as a write
                if (room > 0) { chunk = Math.Min(chunk, room); break; }
                if (nonblock || (fout.Flags & O_NONBLOCK) != 0) return -Errno.EAGAIN;
                if (t.WaitOn(target.Pipe.Queue, () => target.Pipe.Available < Pipe.Capacity || target.Pipe.Readers == 0) == -Errno.EINTR)
                    return -SignalDelivery.ERESTARTSYS;
            }
        }
        var buf = t.Bounce.AsSpan(0, chunk);
        long n;
        if (fin is PipeEnd source) n = source.Pipe.Read(buf, nonblock || (fin.Flags & O_NONBLOCK) != 0);
        else n = inOff >= 0 ? fin.PRead(buf, inOff) : fin.Read(buf);
        if (n <= 0) return n;
        long w = outOff >= 0 ? fout.PWrite(buf[..(int)n], outOff) : fout.Write(buf[..(int)n]);
        if (w < 0) return w;
        if (a.A1 != 0) Put(t, a.A1, inOff + n);
        if (a.A3 != 0) Put(t, a.A3, outOff + w);
        return w;
    }
}
