using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// What a magic link (/proc/self/fd/N, /dev/stdin) leads to when the open file has no node of its
/// own (a pipe, the host's stdio): opening it opens that file again, as Linux does, with the new
/// access mode — a new end of the same pipe, or a new host description of the same stdio file.
/// </summary>
public sealed class ReopenInode(FileDescription file) : Inode
{
    public override uint Mode { get { Stat(out var st); return st.st_mode; } }
    public override uint Uid => 0;
    public override uint Gid => 0;

    public override long Stat(out LinuxStat st) => file.Stat(out st);

    public override long Open(Task task, int flags, string path, out FileDescription? opened)
    {
        opened = file.Reopen(task, flags);
        return opened == null ? -Errno.ENXIO : 0;
    }
}
