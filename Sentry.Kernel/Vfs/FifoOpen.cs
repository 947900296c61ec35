using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// open(2) of a named pipe: a reader waits for a writer and a writer for a reader (fifo(7));
/// O_NONBLOCK readers return at once, O_NONBLOCK writers with no reader fail with ENXIO, and
/// O_RDWR never waits.
/// </summary>
public static class FifoOpen
{
    public static long Open(Task task, Pipe pipe, int flags, string path, out FileDescription? file)
    {
        file = null;
        bool nonblock = (flags & Linux.O_NONBLOCK) != 0;
        switch (flags & Linux.O_ACCMODE)
        {
            case Linux.O_RDWR:
                file = new FifoReadWrite(pipe, flags, path);
                pipe.Queue.NotifyAll();
                return 0;
            case Linux.O_WRONLY:
                if (nonblock && pipe.Readers == 0) return -Errno.ENXIO;
                return Wait(task, new PipeEnd(pipe, true, flags) { Path = path }, () => pipe.Readers > 0, nonblock, out file);
            default:
                return Wait(task, new PipeEnd(pipe, false, flags) { Path = path }, () => pipe.Writers > 0, nonblock, out file);
        }
    }

    static long Wait(Task task, PipeEnd end, Func<bool> otherSide, bool nonblock, out FileDescription? file)
    {
        file = null;
        end.Pipe.Queue.NotifyAll(); // an opener on the other side may be waiting for us
        if (!nonblock && task.WaitOn(end.Pipe.Queue, otherSide) == -Errno.EINTR)
        {
            end.Release();
            return -SignalDelivery.ERESTARTSYS;
        }
        file = end;
        return 0;
    }
}

/// <summary>A FIFO opened O_RDWR: one description that is both a reader and a writer of the pipe.</summary>
public sealed class FifoReadWrite : FileDescription
{
    readonly Pipe _pipe;

    public FifoReadWrite(Pipe pipe, int flags, string path)
    {
        _pipe = pipe;
        Flags = flags;
        Path = path;
        pipe.Open(false);
        pipe.Open(true);
    }

    bool NonBlock => (Flags & Linux.O_NONBLOCK) != 0;
    public override long Read(Span<byte> buffer) => _pipe.Read(buffer, NonBlock);
    public override long Write(ReadOnlySpan<byte> buffer) => _pipe.Write(buffer, NonBlock);

    public override long Stat(out LinuxStat st)
    {
        st = new LinuxStat { st_dev = 12, st_ino = _pipe.Ino, st_nlink = 1, st_mode = (uint)(Linux.S_IFIFO | 0x1a4), st_blksize = 4096 };
        return 0;
    }

    public override int Poll(int events) =>
        (_pipe.Available > 0 ? PollEvents.POLLIN : 0) | (Pipe.Capacity - _pipe.Available >= Pipe.PIPE_BUF ? PollEvents.POLLOUT : 0);
    public override WaitQueue? PollQueue => _pipe.Queue;

    protected override void OnLastClose()
    {
        _pipe.Close(false);
        _pipe.Close(true);
    }
}
