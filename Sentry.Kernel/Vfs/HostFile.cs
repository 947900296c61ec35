using Sentry.Kernel.Abi;
using Sentry.Kernel.Memory;
using Sentry.Platform;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// A host descriptor of a file: one the Gofer donated (read-only for the root's lower layer,
/// also writable for a volume the sandbox may change), or one of the host root opened by Sentry
/// itself (the foundation's passthrough, kept for embedders and tests without a Gofer).
/// </summary>
public sealed unsafe class HostFile : FileDescription, IMappable
{
    const int SYS_read = 0, SYS_write = 1, SYS_close = 3, SYS_fstat = 5, SYS_lseek = 8, SYS_pread64 = 17, SYS_pwrite64 = 18, SYS_getdents64 = 217, SYS_statx = 332;

    readonly int _fd;
    readonly bool _isDir;
    readonly long _size;
    readonly bool _writable;
    readonly SharedMemory? _cache;
    /// <summary>The file's shared state when it is on a writable volume (its page cache, once a shared mapping made one).</summary>
    readonly Fs.VolumeFile? _volume;

    /// <param name="size">The file's size for mappings, or -1 to ask the host each time (a file that may change).</param>
    /// <param name="writable">The host descriptor was opened for writing: write(2) goes to it.</param>
    /// <param name="cache">The file's read-only page cache, for a file nobody changes (the root's lower layer), or null.</param>
    /// <param name="volume">The file's shared state, for a file of a writable volume.</param>
    public HostFile(int hostFd, int flags, string path, bool isDir, long size, bool writable = false, SharedMemory? cache = null, Fs.VolumeFile? volume = null)
    {
        _cache = cache;
        _volume = volume;
        volume?.Opened();
        _fd = hostFd;
        Flags = flags;
        Path = path;
        _isDir = isDir;
        _size = size;
        _writable = writable;
    }

    public int HostFd => _fd;
    public override bool IsDirectory => _isDir;

    public override long Read(Span<byte> buffer)
    {
        if (_isDir) return -Errno.EISDIR;
        if (_volume?.Cache != null)
        {
            long pos = Offset;
            return Advance(pos, PRead(buffer, pos));
        }
        fixed (byte* p = buffer) return HostSyscall.CallRestarting(SYS_read, _fd, (long)p, buffer.Length);
    }

    public override long PRead(Span<byte> buffer, long offset)
    {
        if (_isDir) return -Errno.EISDIR;
        long r;
        fixed (byte* p = buffer) r = HostSyscall.CallRestarting(SYS_pread64, _fd, (long)p, buffer.Length, offset);
        // Stores through a shared mapping not yet written back are newer than the host file.
        if (r > 0 && _volume?.Cache is { } cache) cache.OverlayCached(offset, buffer[..(int)r]);
        return r;
    }

    public override long Write(ReadOnlySpan<byte> buffer)
    {
        if (!_writable) return -Errno.EBADF;
        if ((Flags & Linux.O_APPEND) != 0) return Append(buffer);
        if (_volume?.Cache != null)
        {
            long pos = Offset;
            return Advance(pos, PWrite(buffer, pos));
        }
        fixed (byte* p = buffer) return HostSyscall.CallRestarting(SYS_write, _fd, (long)p, buffer.Length);
    }

    /// <summary>
    /// The host description's file offset. While a volume file has a page cache, read(2) and
    /// write(2) go through it positioned at this offset, then <see cref="Advance"/> it.
    /// </summary>
    long Offset => HostDescriptor.Seek(_fd, 0, Linux.SEEK_CUR);

    /// <summary>Moves the file offset past the <paramref name="moved"/> bytes a positioned read or write at <paramref name="pos"/> moved; returns <paramref name="moved"/>.</summary>
    long Advance(long pos, long moved)
    {
        if (moved > 0) HostDescriptor.Seek(_fd, pos + moved, Linux.SEEK_SET);
        return moved;
    }

    public override long PWrite(ReadOnlySpan<byte> buffer, long offset)
    {
        if (!_writable) return -Errno.EBADF;
        if ((Flags & Linux.O_APPEND) != 0) return Append(buffer); // pwrite(2), BUGS: an O_APPEND file appends
        long r;
        fixed (byte* p = buffer) r = HostSyscall.CallRestarting(SYS_pwrite64, _fd, (long)p, buffer.Length, offset);
        if (r > 0) _volume?.Cache?.UpdateCached(offset, buffer[..(int)r]);
        return r;
    }

    /// <summary>
    /// An append, atomic as with O_APPEND, on a host fd opened without it (fcntl may set or clear
    /// O_APPEND on the description at any time): pwritev2 with RWF_APPEND, which also moves the
    /// file offset to the new end, as write(2) on an O_APPEND file does.
    /// </summary>
    long Append(ReadOnlySpan<byte> buffer)
    {
        const int SYS_pwritev2 = 328, RWF_APPEND = 0x10;
        fixed (byte* p = buffer)
        {
            long* iov = stackalloc long[2] { (long)p, buffer.Length };
            long r = HostSyscall.CallRestarting(SYS_pwritev2, _fd, (long)iov, 1, -1, -1, RWF_APPEND);
            if (r >= 0)
            {
                long end = HostDescriptor.Seek(_fd, 0, Linux.SEEK_END);
                if (r > 0 && end >= r) _volume?.Cache?.UpdateCached(end - r, buffer[..(int)r]);
            }
            return r;
        }
    }

    public override long Seek(long offset, int whence) => HostDescriptor.Seek(_fd, offset, whence);

    public override long Stat(out LinuxStat st) => HostDescriptor.Stat(_fd, out st);

    public override long Statx(uint mask, out LinuxStatx stx)
    {
        LinuxStatx x;
        byte empty = 0;
        long r = HostSyscall.Call(SYS_statx, _fd, (long)&empty, Linux.AT_EMPTY_PATH, mask, (long)&x);
        stx = x;
        return r;
    }

    public override long GetDents64(Span<byte> buffer)
    {
        if (!_isDir) return -Errno.ENOTDIR;
        fixed (byte* p = buffer) return HostSyscall.CallRestarting(SYS_getdents64, _fd, (long)p, buffer.Length);
    }

    public override IMappable? Mappable => _isDir || (Flags & Linux.O_PATH) != 0 ? null : this;

    long IPageSource.ReadPages(long offset, Span<byte> pages)
    {
        pages.Clear();
        long done = 0;
        while (done < pages.Length)
        {
            long r = PRead(pages[(int)done..], offset + done);
            if (r < 0) return r;
            if (r == 0) break;
            done += r;
        }
        return done;
    }

    long IMappable.Size
    {
        get
        {
            if (_size >= 0) return _size;
            return HostDescriptor.Stat(_fd, out var st) < 0 ? 0 : st.st_size;
        }
    }

    /// <summary>
    /// A writable shared mapping needs a page cache that writes back: a volume file's. Any other
    /// host file's mappings would hold copies, and their stores would be lost, so it is refused.
    /// </summary>
    bool IMappable.SharedWritable => _volume != null;

    SharedMemory? IMappable.ReadOnlyCache => _cache;
    /// <summary>
    /// Shared mappings map a page cache: the read-only lower layer's (such a file cannot be opened
    /// for writing), or a writable volume file's, which writes stores back to the host file.
    /// </summary>
    SharedMemory? IMappable.SharedPages =>
        _volume != null ? _volume.CacheFor(_fd, _writable, Tasks.Task.Current!.Sandbox.Platform.Memory) : _cache;
    void IMappable.IncRef() => AddRef();
    void IMappable.DecRef() => Release();
    string IMappable.MapName => Path;

    protected override void OnLastClose()
    {
        HostSyscall.Call(SYS_close, _fd);
        _volume?.Closed();
    }
}
