using Sentry.Kernel.Abi;
using Sentry.Kernel.Memory;
using Sentry.Kernel.Vfs;

namespace Sentry.Kernel.Fs;

/// <summary>
/// A regular file of the lower layer read with Tread on an open fid: used when the server did not
/// donate a host fd (a third-party 9P server such as diod). Sentry's own Gofer always donates one.
/// </summary>
internal sealed class GoferFile : FileDescription, IMappable
{
    readonly GoferFs _fs;
    readonly GoferInode _node;
    readonly uint _fid;
    long _pos;

    public GoferFile(GoferFs fs, GoferInode node, uint fid, int flags, string path)
    {
        _fs = fs;
        _node = node;
        _fid = fid;
        Inode = node;
        Flags = flags;
        Path = path;
    }

    long Size { get { _node.Stat(out var st); return st.st_size; } }

    public override long Read(Span<byte> buffer)
    {
        lock (this)
        {
            long n = PRead(buffer, _pos);
            if (n > 0) _pos += n;
            return n;
        }
    }

    public override long PRead(Span<byte> buffer, long offset)
    {
        long done = 0;
        while (done < buffer.Length)
        {
            var chunk = buffer[(int)done..];
            if (chunk.Length > _fs.Client.MaxIoSize) chunk = chunk[.._fs.Client.MaxIoSize];
            long r = _fs.Check(_fs.Client.Read(_fid, (ulong)(offset + done), chunk));
            if (r < 0) return done > 0 ? done : r;
            if (r == 0) break;
            done += r;
        }
        return done;
    }

    public override long Write(ReadOnlySpan<byte> buffer) => -Errno.EBADF;
    public override long PWrite(ReadOnlySpan<byte> buffer, long offset) => -Errno.EBADF;

    public override long Seek(long offset, int whence)
    {
        lock (this)
        {
            long basePos = whence switch { Linux.SEEK_SET => 0, Linux.SEEK_CUR => _pos, Linux.SEEK_END => Size, _ => -1 };
            if (basePos < 0 || basePos + offset < 0) return -Errno.EINVAL;
            return _pos = basePos + offset;
        }
    }

    public override long Stat(out LinuxStat st) => _node.Stat(out st);

    public override IMappable? Mappable => this;

    long IPageSource.ReadPages(long offset, Span<byte> pages)
    {
        pages.Clear();
        return PRead(pages, offset);
    }

    long IMappable.Size => Size;
    void IMappable.IncRef() => AddRef();
    void IMappable.DecRef() => Release();
    string IMappable.MapName => Path;

    protected override void OnLastClose() => _fs.Client.Clunk(_fid);
}
