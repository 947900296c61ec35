using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// An in-kernel pipe: a 64 KiB ring buffer with reader and writer counts. Reads block while it is
/// empty and a writer exists; writes block while it is full and a reader exists; writes of at
/// most PIPE_BUF bytes are atomic; writing with no reader raises SIGPIPE and fails with EPIPE.
/// </summary>
public sealed class Pipe
{
    public const int Capacity = 65536, PIPE_BUF = 4096;
    static long s_nextIno = 0x7e000;

    readonly byte[] _buf = new byte[Capacity];
    int _head, _count;
    public int Readers, Writers;
    public readonly ulong Ino = (ulong)Interlocked.Increment(ref s_nextIno);
    /// <summary>Tasks waiting for the pipe's state to change (data, space, a side closing).</summary>
    public WaitQueue Queue { get; } = new();

    public int Available { get { lock (_buf) return _count; } }

    public long Read(Span<byte> dst, bool nonblock)
    {
        if (dst.Length == 0) return 0;
        var task = Task.Current;
        while (true)
        {
            int got = 0;
            bool wasFull = false;
            lock (_buf)
            {
                if (_count > 0)
                {
                    wasFull = Capacity - _count < PIPE_BUF;
                    int n = Math.Min(dst.Length, _count);
                    int first = Math.Min(n, Capacity - _head);
                    _buf.AsSpan(_head, first).CopyTo(dst);
                    _buf.AsSpan(0, n - first).CopyTo(dst[first..]);
                    _head = (_head + n) % Capacity;
                    _count -= n;
                    got = n;
                }
                else if (Writers == 0) return 0;
                else if (nonblock) return -Errno.EAGAIN;
            }
            // Wake writers outside the pipe lock: a waiter checks its condition under its own
            // lock and then takes ours, so notifying while holding ours could deadlock.
            // As pipe_read, writers hear of room only when the pipe was full (not writable): a
            // blocked writer or a POLLOUT waiter waits for exactly that, and an EPOLLET writer
            // sees no new edge from reads of a pipe it could write to all along.
            if (got > 0) { if (wasFull) Queue.Notify(PollEvents.POLLOUT); return got; }
            if (task == null) return -Errno.EAGAIN;
            if (task.WaitOn(Queue, () => { lock (_buf) return _count > 0 || Writers == 0; }) == -Errno.EINTR)
                return -SignalDelivery.ERESTARTSYS;
        }
    }

    public long Write(ReadOnlySpan<byte> src, bool nonblock)
    {
        var task = Task.Current;
        int done = 0;
        bool atomic = src.Length <= PIPE_BUF;
        while (true)
        {
            bool wrote = false;
            lock (_buf)
            {
                if (Readers == 0)
                {
                    task?.PostSignal(SigInfo.FromKill(Linux.SIGPIPE, SigInfo.SI_USER, task.Pid, task.Uid));
                    return done > 0 ? done : -Errno.EPIPE;
                }
                int space = Capacity - _count;
                if (space > 0 && (!atomic || space >= src.Length - done))
                {
                    int n = Math.Min(space, src.Length - done);
                    int tail = (_head + _count) % Capacity;
                    int first = Math.Min(n, Capacity - tail);
                    src.Slice(done, first).CopyTo(_buf.AsSpan(tail));
                    src.Slice(done + first, n - first).CopyTo(_buf);
                    _count += n;
                    done += n;
                    wrote = true;
                }
            }
            if (wrote) Queue.Notify(PollEvents.POLLIN); // outside the lock, as in Read; every write is a new edge for EPOLLET
            if (done == src.Length) return done;
            if (nonblock) return done > 0 ? done : -Errno.EAGAIN;
            if (task == null) return done > 0 ? done : -Errno.EAGAIN;
            int need = atomic ? src.Length - done : 1;
            if (task.WaitOn(Queue, () => { lock (_buf) return Capacity - _count >= need || Readers == 0; }) == -Errno.EINTR)
                return done > 0 ? done : -SignalDelivery.ERESTARTSYS;
        }
    }

    public void Open(bool writer)
    {
        lock (_buf) { if (writer) Writers++; else Readers++; }
    }

    public void Close(bool writer)
    {
        lock (_buf)
        {
            if (writer) Writers--; else Readers--;
        }
        Queue.NotifyAll();
    }
}

/// <summary>One end of a <see cref="Pipe"/> as an open file description.</summary>
public sealed class PipeEnd : FileDescription
{
    public Pipe Pipe { get; }
    public bool IsWriter { get; }

    public PipeEnd(Pipe pipe, bool writer, int flags)
    {
        Pipe = pipe;
        IsWriter = writer;
        Flags = (writer ? Linux.O_WRONLY : Linux.O_RDONLY) | (flags & Linux.O_NONBLOCK);
        Path = $"pipe:[{pipe.Ino}]";
        pipe.Open(writer);
    }

    bool NonBlock => (Flags & Linux.O_NONBLOCK) != 0;
    public override long Read(Span<byte> buffer) => IsWriter ? -Errno.EBADF : Pipe.Read(buffer, NonBlock);
    public override long Write(ReadOnlySpan<byte> buffer) => IsWriter ? Pipe.Write(buffer, NonBlock) : -Errno.EBADF;

    public override long Stat(out LinuxStat st)
    {
        st = new LinuxStat { st_dev = 12, st_ino = Pipe.Ino, st_nlink = 1, st_mode = (uint)(Linux.S_IFIFO | 0x180), st_blksize = 4096 };
        return 0;
    }

    public override long Ioctl(Task task, uint cmd, ulong arg)
    {
        if (cmd == Linux.FIONREAD) return task.Mm.Write(arg, Pipe.Available) < 0 ? -Errno.EFAULT : 0;
        return -Errno.ENOTTY;
    }

    public override int Poll(int events)
    {
        int r = 0;
        if (IsWriter)
        {
            if (Pipe.Readers == 0) r |= PollEvents.POLLOUT | PollEvents.POLLERR;
            else if (Pipe.Capacity - Pipe.Available >= Pipe.PIPE_BUF) r |= PollEvents.POLLOUT;
        }
        else
        {
            if (Pipe.Available > 0) r |= PollEvents.POLLIN;
            if (Pipe.Writers == 0) r |= PollEvents.POLLHUP;
        }
        return r;
    }

    public override WaitQueue? PollQueue => Pipe.Queue;

    /// <summary>Reopening an anonymous pipe never waits for the other side (unlike a named FIFO).</summary>
    public override FileDescription? Reopen(Task task, int flags) => (flags & Linux.O_ACCMODE) switch
    {
        Linux.O_RDWR => new FifoReadWrite(Pipe, flags, Path),
        Linux.O_WRONLY => new PipeEnd(Pipe, true, flags),
        _ => new PipeEnd(Pipe, false, flags),
    };

    protected override void OnLastClose() => Pipe.Close(IsWriter);
}
