using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// An open directory of any file system: getdents64 lists the inode's entries. The listing is
/// taken when reading starts at offset 0 (open, rewinddir), so entries made or removed after that
/// show up after a rewind, as POSIX allows.
/// </summary>
public sealed class DirectoryFile : FileDescription
{
    readonly Inode _dir;
    readonly List<(string, byte, ulong)> _entries = new();
    long _pos;

    public DirectoryFile(Inode dir, int flags, string path)
    {
        _dir = dir;
        Inode = dir;
        Flags = flags;
        Path = path;
    }

    public override bool IsDirectory => true;
    public override long Read(Span<byte> buffer) => -Errno.EISDIR;
    public override long PRead(Span<byte> buffer, long offset) => -Errno.EISDIR;
    public override long Stat(out LinuxStat st) => _dir.Stat(out st);
    public override long Statx(uint mask, out LinuxStatx stx) => _dir.Statx(mask, out stx);

    public override long Seek(long offset, int whence)
    {
        lock (_entries)
        {
            long p = whence switch { Linux.SEEK_SET => offset, Linux.SEEK_CUR => _pos + offset, _ => -1 };
            if (p < 0) return -Errno.EINVAL;
            return _pos = p;
        }
    }

    public override long GetDents64(Span<byte> buffer)
    {
        lock (_entries)
        {
            if (_pos == 0 || _entries.Count == 0)
            {
                var list = new List<DirEntry>();
                long r = _dir.ReadDir(Task.Current!, list);
                if (r < 0) return r;
                _dir.Stat(out var st);
                _entries.Clear();
                _entries.Add((".", Dirent64.DT_DIR, st.st_ino));
                _entries.Add(("..", Dirent64.DT_DIR, st.st_ino));
                foreach (var e in list) _entries.Add((e.Name, e.Type, e.Ino));
            }
            return Dirent64.Fill(buffer, _entries, ref _pos);
        }
    }
}
