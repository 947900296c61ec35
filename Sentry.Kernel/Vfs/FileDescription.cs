using Sentry.Kernel.Abi;
using Sentry.Kernel.Memory;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// An open file description: shared by every fd that dup() makes of it, holds the offset and the
/// status flags. Each operation returns a count or -errno; the defaults are what Linux answers for
/// a file that does not support the operation.
/// </summary>
/// <summary>poll(2) event bits.</summary>
public static class PollEvents
{
    public const int POLLIN = 1, POLLPRI = 2, POLLOUT = 4, POLLERR = 8, POLLHUP = 0x10, POLLNVAL = 0x20, POLLRDNORM = 0x40, POLLWRNORM = 0x100;
}

public abstract class FileDescription
{
    int _refs = 1;

    /// <summary>O_ACCMODE bits and status flags (O_APPEND, O_NONBLOCK, ...).</summary>
    public int Flags { get; set; }

    /// <summary>Path this description was opened by (readlink of /proc/self/fd, getcwd of a dirfd).</summary>
    public string Path { get; init; } = "";

    /// <summary>The node this description was opened from (null for pipes, sockets, stdio and other anonymous files).</summary>
    public Inode? Inode { get; set; }

    public bool Readable => (Flags & Linux.O_ACCMODE) != Linux.O_WRONLY && (Flags & Linux.O_PATH) == 0;
    public bool Writable => (Flags & Linux.O_ACCMODE) != Linux.O_RDONLY && (Flags & Linux.O_PATH) == 0;
    public virtual bool IsDirectory => false;

    public virtual long Read(Span<byte> buffer) => -Errno.EINVAL;
    public virtual long Write(ReadOnlySpan<byte> buffer) => -Errno.EINVAL;
    public virtual long PRead(Span<byte> buffer, long offset) => -Errno.ESPIPE;
    public virtual long PWrite(ReadOnlySpan<byte> buffer, long offset) => -Errno.ESPIPE;
    public virtual long Seek(long offset, int whence) => -Errno.ESPIPE;
    public abstract long Stat(out LinuxStat st);
    public virtual long Statx(uint mask, out LinuxStatx stx)
    {
        long r = Stat(out var st);
        stx = r < 0 ? default : LinuxStatx.FromStat(st);
        return r;
    }
    public virtual long GetDents64(Span<byte> buffer) => -Errno.ENOTDIR;
    public virtual long Ioctl(Task task, uint cmd, ulong arg) => -Errno.ENOTTY;
    /// <summary>Readiness for poll/select: the POLL* bits of <paramref name="events"/> (plus POLLERR/POLLHUP) that hold now.</summary>
    public virtual int Poll(int events) => PollEvents.POLLIN | PollEvents.POLLOUT;
    /// <summary>Where to wait for readiness changes; null when readiness never changes (regular files).</summary>
    public virtual Tasks.WaitQueue? PollQueue => null;

    /// <summary>Signal-driven I/O (O_ASYNC, F_SETOWN, F_SETSIG), made on the first fcntl or ioctl that asks; null for a file without a poll queue.</summary>
    public AsyncNotify? AsyncFor(Sandbox sandbox)
    {
        if (_async != null || PollQueue is not { } queue) return _async;
        Interlocked.CompareExchange(ref _async, new AsyncNotify(sandbox, this, queue), null);
        return _async;
    }
    AsyncNotify? _async;
    /// <summary>Host fd whose readiness the host must be asked about (stdio), or -1.</summary>
    public virtual int HostPollFd => -1;

    /// <summary>
    /// open(2) of this file again through a magic link when it has no <see cref="Inode"/>: a new
    /// description with <paramref name="flags"/>, or null when the file cannot be reopened (ENXIO,
    /// as for sockets and anonymous inodes on Linux).
    /// </summary>
    public virtual FileDescription? Reopen(Task task, int flags) => null;

    /// <summary>Backing for mmap, or null when the file cannot be mapped (mmap answers ENODEV).</summary>
    public virtual IMappable? Mappable => null;

    /// <summary>Set once this description holds flock or OFD locks: they go with its last reference.</summary>
    internal FileLocks? LockTable { get; set; }

    /// <summary>The epoll items that watch this description: they go with its last reference, as on Linux.</summary>
    List<EventPoll.Item>? _epollItems;
    /// <summary>Guards every description's item list: epoll_ctl and last closes of watched files are rare enough to share one.</summary>
    static readonly object s_epollItemsLock = new();

    internal void AddEpollItem(EventPoll.Item item)
    {
        lock (s_epollItemsLock) (_epollItems ??= new()).Add(item);
    }

    internal void RemoveEpollItem(EventPoll.Item item)
    {
        lock (s_epollItemsLock) _epollItems?.Remove(item);
    }

    public void AddRef() => Interlocked.Increment(ref _refs);
    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) != 0) return;
        LockTable?.DescriptionClosed(this);
        _async?.Detach();
        EventPoll.Item[]? items = null;
        lock (s_epollItemsLock)
        {
            if (_epollItems is { Count: > 0 }) items = [.. _epollItems];
            _epollItems = null;
        }
        if (items != null) foreach (var item in items) item.Owner.FileReleased(item);
        OnLastClose();
    }
    protected virtual void OnLastClose() { }
}
