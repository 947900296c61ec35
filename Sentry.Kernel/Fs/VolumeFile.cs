using Sentry.Kernel.Abi;
using Sentry.Kernel.Memory;
using Sentry.Platform;
using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Fs;

/// <summary>
/// One regular file of a volume as every open description and MAP_SHARED mapping of it in the
/// sandbox share it (found by inode number, since a volume's nodes are looked up afresh each time).
/// The first shared mapping makes its page cache, which fills from the host file and writes
/// stores back to it (msync, munmap, exit); while the cache exists, read(2) sees the mapped
/// stores and write(2) updates the cached pages, so the sandbox's own processes always agree.
/// Processes on the host see mapped stores once they are written back.
/// </summary>
public sealed class VolumeFile : IBackingFile
{
    const int SYS_close = 3, SYS_pwrite64 = 18, SYS_dup = 32;

    readonly object _lock = new();
    int _opens;
    /// <summary>A host fd of the file for filling and writing back (writable once a writable description made the cache).</summary>
    int _fd = -1;
    bool _fdWritable;
    SharedMemory? _cache;

    /// <summary>The page cache if a shared mapping made one.</summary>
    public SharedMemory? Cache { get { lock (_lock) return _cache; } }

    internal void Opened() { lock (_lock) _opens++; }

    /// <summary>The last description closing lets the cache go: written back, then freed when no mapping holds it.</summary>
    internal void Closed()
    {
        SharedMemory? cache = null;
        int fd = -1;
        lock (_lock)
        {
            if (--_opens > 0) return;
            (cache, _cache, fd, _fd) = (_cache, null, _fd, -1);
        }
        cache?.DecRef();
        if (fd >= 0) HostSyscall.Call(SYS_close, fd);
    }

    /// <summary>The page cache for a shared mapping through host fd <paramref name="hostFd"/>, made on first use.</summary>
    internal SharedMemory CacheFor(int hostFd, bool writable, MemoryFile memory)
    {
        lock (_lock)
        {
            if (_fd < 0 || (writable && !_fdWritable))
            {
                long dup = HostSyscall.Call(SYS_dup, hostFd);
                if (dup >= 0)
                {
                    if (_fd >= 0) HostSyscall.Call(SYS_close, _fd);
                    (_fd, _fdWritable) = ((int)dup, writable);
                }
            }
            return _cache ??= new SharedMemory(memory) { Source = this };
        }
    }

    /// <summary>The file was cut to <paramref name="size"/> (or a hole punched): the cached pages go too.</summary>
    internal void Cut(long from, long to) => Cache?.Remove(from, to).Complete();

    long IPageSource.ReadPages(long offset, Span<byte> pages)
    {
        int fd;
        lock (_lock) fd = _fd;
        return HostDescriptor.ReadPages(fd, offset, pages);
    }

    unsafe long IBackingFile.WritePages(long offset, ReadOnlySpan<byte> data)
    {
        int fd;
        lock (_lock)
        {
            if (!_fdWritable) return 0; // only read-only descriptions mapped it: nothing can have been stored
            fd = _fd;
        }
        fixed (byte* p = data)
            for (long done = 0; done < data.Length;)
            {
                long r = HostSyscall.CallRestarting(SYS_pwrite64, fd, (long)(p + done), data.Length - done, offset + done);
                if (r < 0) return r;
                done += r;
            }
        return 0;
    }

    long IBackingFile.Size
    {
        get
        {
            int fd;
            lock (_lock) fd = _fd;
            return fd < 0 || Vfs.HostDescriptor.Stat(fd, out var st) < 0 ? 0 : st.st_size;
        }
    }
}
