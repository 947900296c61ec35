using Sentry.Kernel.Abi;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// An O_PATH description of a node whose real open would do something (a device that makes a
/// pty, a terminal): it only names the node for fstat, *at() calls and magic links.
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

    public override long Stat(out LinuxStat st) => _node.Stat(out st);
}
