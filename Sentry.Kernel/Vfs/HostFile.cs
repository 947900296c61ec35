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

    /// <param name="size">The file's size for mappings, or -1 to ask the host each time (a file that may change).</param>
    /// <param name="writable">The host descriptor was opened for writing: write(2) goes to it.</param>
    /// <param name="cache">The file's read-only page cache, for a file nobody changes (the root's lower layer), or null.</param>
    public HostFile(int hostFd, int flags, string path, bool isDir, long size, bool writable = false, SharedMemory? cache = null)
    {
        _cache = cache;
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
        fixed (byte* p = buffer) return HostSyscall.CallRestarting(SYS_read, _fd, (long)p, buffer.Length);
    }

    public override long PRead(Span<byte> buffer, long offset)
    {
        if (_isDir) return -Errno.EISDIR;
        fixed (byte* p = buffer) return HostSyscall.CallRestarting(SYS_pread64, _fd, (long)p, buffer.Length, offset);
    }

    public override long Write(ReadOnlySpan<byte> buffer)
    {
        if (!_writable) return -Errno.EBADF;
        if ((Flags & Linux.O_APPEND) != 0) return Append(buffer);
        fixed (byte* p = buffer) return HostSyscall.CallRestarting(SYS_write, _fd, (long)p, buffer.Length);
    }

    public override long PWrite(ReadOnlySpan<byte> buffer, long offset)
    {
        if (!_writable) return -Errno.EBADF;
        if ((Flags & Linux.O_APPEND) != 0) return Append(buffer); // pwrite(2), BUGS: an O_APPEND file appends
        fixed (byte* p = buffer) return HostSyscall.CallRestarting(SYS_pwrite64, _fd, (long)p, buffer.Length, offset);
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
            if (r >= 0) HostDescriptor.Seek(_fd, 0, Linux.SEEK_END);
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

    long IMappable.ReadPages(long offset, Span<byte> pages)
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
    /// Mappings of this file hold copies of its pages: a shared mapping's stores would never reach
    /// the host file, so a writable one is refused rather than silently lose them.
    /// </summary>
    bool IMappable.SharedWritable => false;

    SharedMemory? IMappable.ReadOnlyCache => _cache;
    /// <summary>A file with a read-only cache cannot be opened for writing: its shared mappings are the cache's pages too.</summary>
    SharedMemory? IMappable.SharedPages => _cache;
    void IMappable.IncRef() => AddRef();
    void IMappable.DecRef() => Release();
    string IMappable.MapName => Path;

    protected override void OnLastClose() => HostSyscall.Call(SYS_close, _fd);
}
