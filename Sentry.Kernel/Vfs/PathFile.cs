using Sentry.Kernel.Abi;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// An O_PATH description of a node: it only names the node for fstat, *at() calls and magic
/// links, and cannot do I/O. File systems whose real open would do something (a device that makes
/// a pty, a Gofer file that would cost a 9P open) give this instead.
/// </summary>
public sealed class PathFile : FileDescription
{
    readonly Inode _node;

    public PathFile(Inode node, int flags, string path)
    {
        _node = node;
        Inode = node;
        Flags = flags;
        Path = path;
    }

    public override bool IsDirectory => _node.IsDir;
    public override long Read(Span<byte> buffer) => -Errno.EBADF;
    public override long Write(ReadOnlySpan<byte> buffer) => -Errno.EBADF;
    public override long Stat(out LinuxStat st) => _node.Stat(out st);
}
