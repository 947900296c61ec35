using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// Sentry's own trees (/dev, /proc, /sys) as inodes: a <see cref="VirtualNode"/> seen through the
/// VFS. Nothing in them can be created, removed or renamed by the application (EACCES, as Linux
/// answers an unprivileged write to procfs or sysfs).
/// </summary>
/// <param name="magic">statfs f_type of the tree (PROC_SUPER_MAGIC, SYSFS_MAGIC, TMPFS_MAGIC for /dev).</param>
public sealed class SyntheticInode(VirtualNode node, long magic) : Inode
{
    public const long TMPFS_MAGIC = 0x01021994, PROC_SUPER_MAGIC = 0x9fa0, SYSFS_MAGIC = 0x62656572;

    public VirtualNode Node { get; } = node;

    public override uint Mode => Node.Stat().st_mode;
    public override uint Uid => Node.Uid;
    public override uint Gid => Node.Gid;
    protected override int ReadOnlyErrno => Errno.EACCES;

    public override long Stat(out LinuxStat st) { st = Node.Stat(); return 0; }

    public override long Lookup(Task task, string name, out Inode? child)
    {
        child = null;
        if (Node.Type != VirtualNode.NodeType.Dir) return -Errno.ENOTDIR;
        var c = Node.Child(name, task);
        if (c == null) return -Errno.ENOENT;
        child = new SyntheticInode(c, magic);
        return 0;
    }

    public override long ReadDir(Task task, List<DirEntry> entries)
    {
        if (Node.Type != VirtualNode.NodeType.Dir) return -Errno.ENOTDIR;
        foreach (var c in Node.Entries(task)) entries.Add(new DirEntry(c.Name, DirEntry.TypeOf(c.Stat().st_mode), c.Ino));
        return 0;
    }

    public override long ReadLink(Task task, out string target)
    {
        target = Node.Type == VirtualNode.NodeType.Symlink ? Node.Target!(task) : "";
        return Node.Type == VirtualNode.NodeType.Symlink ? 0 : -Errno.EINVAL;
    }

    public override long Open(Task task, int flags, string path, out FileDescription? file)
    {
        // O_PATH names a terminal or ptmx node without opening it (no pty is made, no terminal needed).
        if ((flags & Linux.O_PATH) != 0 && Node.Special != null) { file = new PathFile(this, flags, path); return 0; }
        bool wantsWrite = (flags & Linux.O_PATH) == 0 && ((flags & Linux.O_ACCMODE) != Linux.O_RDONLY || (flags & Linux.O_TRUNC) != 0);
        file = Node.Open(task, flags, wantsWrite, path, out int error);
        return file == null ? error : 0;
    }

    public override long StatFs(Span<long> st)
    {
        base.StatFs(st);
        st[0] = magic;
        return 0;
    }
}
