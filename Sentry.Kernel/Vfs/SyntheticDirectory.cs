using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// An open directory of Sentry's own trees (devfs, procfs, sysfs). The entries are taken by the
/// first getdents and again after a rewind, as the opening task sees them: /proc/self/fd lists
/// the fd of the directory itself, as on Linux, and offsets stay stable between getdents calls.
/// </summary>
public sealed class SyntheticDirectory : FileDescription
{
    readonly VirtualNode _node;
    readonly Task _task;
    List<(string Name, byte Type, ulong Ino)>? _entries;
    long _pos;

    public SyntheticDirectory(VirtualNode node, Task task, int flags, string path)
    {
        _node = node;
        _task = task;
        Flags = flags;
        Path = path;
    }

    public override bool IsDirectory => true;
    public override long Read(Span<byte> buffer) => -Errno.EISDIR;
    public override long Stat(out LinuxStat st) { st = _node.Stat(); return 0; }

    public override long Seek(long offset, int whence)
    {
        if (whence != Linux.SEEK_SET || offset < 0) return -Errno.EINVAL;
        lock (this)
        {
            // rewinddir: list what exists now.
            if (offset == 0) _entries = null;
            _pos = Math.Min(offset, int.MaxValue);
            return _pos;
        }
    }

    public override long GetDents64(Span<byte> buffer)
    {
        lock (this) return Dirent64.Fill(buffer, _entries ??= Snapshot(), ref _pos);
    }

    // ".", "..", then the children.
    List<(string, byte, ulong)> Snapshot()
    {
        var names = new List<(string, byte, ulong)> { (".", Dirent64.DT_DIR, _node.Ino), ("..", Dirent64.DT_DIR, _node.Ino) };
        foreach (var c in _node.Entries(_task))
            names.Add((c.Name, c.Type switch
            {
                VirtualNode.NodeType.Dir => Dirent64.DT_DIR,
                VirtualNode.NodeType.Symlink => Dirent64.DT_LNK,
                VirtualNode.NodeType.File => Dirent64.DT_REG,
                _ => Dirent64.DT_CHR,
            }, c.Ino));
        return names;
    }
}
