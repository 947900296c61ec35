using Sentry.Kernel.Abi;
using Sentry.Kernel.Memory;
using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Fs;

/// <summary>An open tmpfs file (or symlink, with O_PATH); directories open as <see cref="DirectoryFile"/>.</summary>
public sealed class TmpfsFile : FileDescription, IMappable
{
    readonly TmpfsNode _node;
    long _pos;

    public TmpfsFile(TmpfsNode node, int flags, string path)
    {
        _node = node;
        Inode = node;
        Flags = flags;
        Path = path;
        node.Opened();
    }

    protected override void OnLastClose() => _node.Closed();

    public TmpfsNode Node => _node;
    public override bool IsDirectory => _node.IsDir;
    object Lock => _node.Fs.Lock;

    public override long Read(Span<byte> buffer)
    {
        lock (Lock)
        {
            long n = PReadLocked(buffer, _pos);
            if (n > 0) _pos += n;
            return n;
        }
    }

    public override long PRead(Span<byte> buffer, long offset) { lock (Lock) return PReadLocked(buffer, offset); }

    long PReadLocked(Span<byte> buffer, long offset)
    {
        if (_node.IsDir) return -Errno.EISDIR;
        if (offset >= _node.Size) return 0;
        int n = (int)Math.Min(buffer.Length, _node.Size - offset);
        var pages = _node.PagesIfAny;
        if (pages == null) buffer[..n].Clear();
        else pages.Read(offset, buffer[..n]);
        return n;
    }

    public override long Write(ReadOnlySpan<byte> buffer)
    {
        lock (Lock)
        {
            if ((Flags & Linux.O_APPEND) != 0) _pos = _node.Size;
            long n = PWriteLocked(buffer, _pos);
            if (n > 0) _pos += n;
            return n;
        }
    }

    /// <summary>pwrite: on an O_APPEND file Linux appends whatever the offset (pwrite(2), BUGS).</summary>
    public override long PWrite(ReadOnlySpan<byte> buffer, long offset)
    {
        lock (Lock) return PWriteLocked(buffer, (Flags & Linux.O_APPEND) != 0 ? _node.Size : offset);
    }

    long PWriteLocked(ReadOnlySpan<byte> buffer, long offset)
    {
        // As generic_write_check_limits: nothing at or past the largest size, a short write up to it.
        if (offset >= Tmpfs.MaxFileSize) return -Errno.EFBIG;
        if (buffer.Length > Tmpfs.MaxFileSize - offset) buffer = buffer[..(int)(Tmpfs.MaxFileSize - offset)];
        if (_node.SealsForbidWrite(offset + buffer.Length)) return -Errno.EPERM;
        long fit = _node.ChargeWrite(offset, buffer.Length);
        if (fit == 0 && buffer.Length > 0) return -Errno.ENOSPC;
        buffer = buffer[..(int)fit];
        long end = offset + buffer.Length;
        if (!_node.Pages.Write(offset, buffer))
        {
            _node.UnchargeWrite(offset, buffer.Length);
            return -Errno.ENOSPC;
        }
        if (end > _node.Size) _node.Truncate(end);
        _node.MarkWritten(offset, buffer.Length);
        _node.Touch(true);
        return buffer.Length;
    }

    public override long Seek(long offset, int whence)
    {
        lock (Lock)
        {
            long basePos = whence switch { Linux.SEEK_SET => 0, Linux.SEEK_CUR => _pos, Linux.SEEK_END => _node.IsDir ? 0 : _node.Size, _ => -1 };
            if (whence == Linux.SEEK_DATA || whence == Linux.SEEK_HOLE)
            {
                if (offset < 0 || offset >= _node.Size) return -Errno.ENXIO;
                if (_node.IsDir) return -Errno.EINVAL;
                // As shmem_file_llseek: pages that hold data are data, the rest (also fallocated,
                // never written pages) are holes, and the end of the file is a hole.
                bool data = whence == Linux.SEEK_DATA;
                var pages = _node.PagesIfAny;
                long found = pages != null ? pages.Seek(offset, _node.Size, data) : data ? -1 : offset;
                if (found < 0) return -Errno.ENXIO;
                return _pos = found;
            }
            if (basePos < 0) return -Errno.EINVAL;
            long p = basePos + offset;
            if (p < 0) return -Errno.EINVAL;
            return _pos = p;
        }
    }

    public override long Stat(out LinuxStat st) => _node.Stat(out st);

    public override IMappable? Mappable => _node.IsFile ? this : null;

    long IPageSource.ReadPages(long offset, Span<byte> pages)
    {
        pages.Clear();
        return PRead(pages, offset);
    }

    long IMappable.Size { get { lock (Lock) return _node.Size; } }
    void IMappable.IncRef() => AddRef();
    void IMappable.DecRef() => Release();
    string IMappable.MapName => Path;
    SharedMemory? IMappable.SharedPages { get { lock (Lock) return _node.IsFile ? _node.Pages : null; } }
    bool IMappable.SealedAgainstWrite { get { lock (Lock) return (_node.Seals & (Linux.F_SEAL_WRITE | Linux.F_SEAL_FUTURE_WRITE)) != 0; } }
}
