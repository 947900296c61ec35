using Sentry.Platform;
using Sentry.Kernel.Abi;

namespace Sentry.Kernel.Vfs;

/// <summary>The memory character devices of devfs: /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom.</summary>
public sealed class CharDevice : FileDescription
{
    public enum Kind { Null = 3, Zero = 5, Full = 7, Random = 8, URandom = 9 }

    readonly Kind _kind;

    public CharDevice(Kind kind, int flags, string path)
    {
        _kind = kind;
        Flags = flags;
        Path = path;
    }

    public override long Read(Span<byte> buffer)
    {
        switch (_kind)
        {
            case Kind.Null: return 0;
            case Kind.Random or Kind.URandom: HostRandom.Fill(buffer); return buffer.Length;
            default: buffer.Clear(); return buffer.Length;
        }
    }

    public override long Write(ReadOnlySpan<byte> buffer) => _kind == Kind.Full ? -Errno.ENOSPC : buffer.Length;
    public override long PRead(Span<byte> buffer, long offset) => Read(buffer);
    public override long PWrite(ReadOnlySpan<byte> buffer, long offset) => Write(buffer);
    public override long Seek(long offset, int whence) => 0;

    public override long Stat(out LinuxStat st)
    {
        st = new LinuxStat
        {
            st_dev = 5, st_ino = 1000 + (ulong)_kind, st_nlink = 1, st_mode = (uint)(Linux.S_IFCHR | 0x1b6),
            st_rdev = LinuxStatx.MakeDev(1, (uint)_kind), st_blksize = 4096,
        };
        return 0;
    }
}
