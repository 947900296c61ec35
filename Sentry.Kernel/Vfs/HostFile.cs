using Sentry.Kernel.Abi;
using Sentry.Kernel.Memory;
using Sentry.Platform;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// A file of the host root, opened read-only by Sentry on the application's behalf. This is the
/// foundation's passthrough; the Gofer replaces it so that Sentry never opens container files itself.
/// </summary>
public sealed unsafe class HostFile : FileDescription, IMappable
{
    const int SYS_read = 0, SYS_close = 3, SYS_fstat = 5, SYS_lseek = 8, SYS_pread64 = 17, SYS_getdents64 = 217, SYS_statx = 332;

    readonly int _fd;
    readonly bool _isDir;
    readonly long _size;

    public HostFile(int hostFd, int flags, string path, bool isDir, long size)
    {
        _fd = hostFd;
        Flags = flags;
        Path = path;
        _isDir = isDir;
        _size = size;
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

    public override long Write(ReadOnlySpan<byte> buffer) => -Errno.EBADF;
    public override long PWrite(ReadOnlySpan<byte> buffer, long offset) => -Errno.EBADF;

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

    long IMappable.Size => _size;
    void IMappable.IncRef() => AddRef();
    void IMappable.DecRef() => Release();
    string IMappable.MapName => Path;

    protected override void OnLastClose() => HostSyscall.Call(SYS_close, _fd);
}
