using System.Buffers.Binary;
using System.Text;
using Sentry.Kernel.Abi;

namespace Sentry.Kernel.Vfs;

/// <summary>An open directory of Sentry's own (devfs, the placeholder /proc and /sys): lists fixed entries.</summary>
public sealed class SyntheticDirectory : FileDescription
{
    const byte DT_DIR = 4, DT_CHR = 2, DT_LNK = 10;
    readonly VirtualNode _node;
    long _pos;

    public SyntheticDirectory(VirtualNode node, int flags, string path)
    {
        _node = node;
        Flags = flags;
        Path = path;
    }

    public override bool IsDirectory => true;
    public override long Read(Span<byte> buffer) => -Errno.EISDIR;
    public override long Stat(out LinuxStat st) { st = _node.Stat(); return 0; }

    public override long Seek(long offset, int whence)
    {
        if (whence != Linux.SEEK_SET || offset < 0) return -Errno.EINVAL;
        _pos = Math.Min(offset, int.MaxValue);
        return _pos;
    }

    public override long GetDents64(Span<byte> buffer)
    {
        // Entries: ".", "..", then the children, each a struct linux_dirent64.
        var names = new List<(string, byte, ulong)> { (".", DT_DIR, _node.Ino), ("..", DT_DIR, _node.Ino) };
        foreach (var c in _node.Children)
            names.Add((c.Name, c.Type switch { VirtualNode.NodeType.Dir => DT_DIR, VirtualNode.NodeType.Symlink => DT_LNK, _ => DT_CHR }, c.Ino));
        return Dirent64.Fill(buffer, names, ref _pos);
    }
}
