using System.Buffers.Binary;
using Sentry.Kernel.Abi;
using Sentry.Kernel.Signals;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>eventfd(2): a 64-bit counter; read takes it (or 1 in semaphore mode), write adds.</summary>
public sealed class EventFd : FileDescription
{
    public const int EFD_SEMAPHORE = 1;
    readonly bool _semaphore;
    ulong _count;
    readonly WaitQueue _queue = new();

    public EventFd(uint initial, int flags)
    {
        _count = initial;
        _semaphore = (flags & EFD_SEMAPHORE) != 0;
        Flags = Linux.O_RDWR | (flags & Linux.O_NONBLOCK);
        Path = "anon_inode:[eventfd]";
    }

    public override long Read(Span<byte> buffer)
    {
        if (buffer.Length < 8) return -Errno.EINVAL;
        while (true)
        {
            bool done = false;
            lock (_queue)
            {
                if (_count > 0)
                {
                    ulong v = _semaphore ? 1 : _count;
                    _count -= v;
                    BinaryPrimitives.WriteUInt64LittleEndian(buffer, v);
                    done = true;
                }
            }
            if (done) { _queue.Notify(PollEvents.POLLOUT); return 8; } // notify outside the lock (waiters take it in their condition)
            if ((Flags & Linux.O_NONBLOCK) != 0 || Task.Current is not { } t) return -Errno.EAGAIN;
            if (t.WaitOn(_queue, () => { lock (_queue) return _count > 0; }) == -Errno.EINTR) return -SignalDelivery.ERESTARTSYS;
        }
    }

    public override long Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < 8) return -Errno.EINVAL;
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(buffer);
        if (v == ulong.MaxValue) return -Errno.EINVAL;
        while (true)
        {
            bool added = false;
            lock (_queue)
            {
                if (ulong.MaxValue - 1 - _count >= v)
                {
                    _count += v;
                    added = true;
                }
            }
            if (added) { _queue.Notify(PollEvents.POLLIN); return 8; }
            if ((Flags & Linux.O_NONBLOCK) != 0 || Task.Current is not { } t) return -Errno.EAGAIN;
            if (t.WaitOn(_queue, () => { lock (_queue) return ulong.MaxValue - 1 - _count >= v; }) == -Errno.EINTR) return -SignalDelivery.ERESTARTSYS;
        }
    }

    public override int Poll(int events)
    {
        lock (_queue) return (_count > 0 ? PollEvents.POLLIN : 0) | (_count < ulong.MaxValue - 1 ? PollEvents.POLLOUT : 0);
    }

    public override WaitQueue? PollQueue => _queue;

    public override long Stat(out LinuxStat st)
    {
        st = new LinuxStat { st_dev = 14, st_ino = 1, st_nlink = 1, st_mode = 0x180, st_blksize = 4096 };
        return 0;
    }
}
