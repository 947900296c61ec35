using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs.Proc;

/// <summary>
/// An open procfs/sysfs file: its contents are generated once, when it is opened, for the opening
/// task; read, pread and lseek then work on that snapshot (as a Linux seq file reads one consistent
/// record set), so reading in small pieces never generates again. fstat reports size 0 like procfs.
/// </summary>
public sealed class GeneratedFile : FileDescription
{
    readonly VirtualNode _node;
    readonly byte[] _data;
    readonly int _length;
    long _pos;

    GeneratedFile(VirtualNode node, byte[] data, int length, int flags, string path)
    {
        _node = node;
        _data = data;
        _length = length;
        Flags = flags;
        Path = path;
    }

    /// <summary>Opens <paramref name="node"/>: generates its contents for <paramref name="task"/> (not for O_PATH). Null with -errno in <paramref name="error"/>.</summary>
    public static GeneratedFile? Open(VirtualNode node, Task task, int flags, string path, out int error)
    {
        error = 0;
        if ((flags & Linux.O_PATH) != 0 || node.Content == null) return new GeneratedFile(node, [], 0, flags, path);
        var buf = new SeqBuffer();
        int r = node.Content(task, buf);
        if (r < 0) { error = r; return null; }
        var (bytes, length) = buf.Detach();
        return new GeneratedFile(node, bytes, length, flags, path);
    }

    public override long Read(Span<byte> buffer)
    {
        lock (this)
        {
            int n = Copy(buffer, _pos);
            _pos += n;
            return n;
        }
    }

    public override long PRead(Span<byte> buffer, long offset) => offset < 0 ? -Errno.EINVAL : Copy(buffer, offset);

    int Copy(Span<byte> buffer, long offset)
    {
        if (offset >= _length) return 0;
        int n = (int)Math.Min(buffer.Length, _length - offset);
        _data.AsSpan((int)offset, n).CopyTo(buffer);
        return n;
    }

    /// <summary>seq_lseek: SEEK_SET and SEEK_CUR only (the size is unknown to the caller, as in Linux).</summary>
    public override long Seek(long offset, int whence)
    {
        lock (this)
        {
            long to = whence switch { Linux.SEEK_SET => offset, Linux.SEEK_CUR => _pos + offset, _ => -1 };
            if (to < 0 || (whence == Linux.SEEK_CUR && offset > 0 && to < _pos)) return -Errno.EINVAL;
            _pos = to;
            return to;
        }
    }

    public override long Write(ReadOnlySpan<byte> buffer) => _node.WriteError != 0 ? _node.WriteError : -Errno.EBADF;
    public override long PWrite(ReadOnlySpan<byte> buffer, long offset) => Write(buffer);

    public override long Stat(out LinuxStat st)
    {
        st = _node.Stat();
        return 0;
    }
}
