using Sentry.Kernel.Abi;
using Sentry.Kernel.Tasks;

namespace Sentry.Kernel.Vfs;

/// <summary>
/// The classic Unix permission check (no ACLs): owner, group or other bits against the task's
/// credentials. Root passes read and write checks always, and execute checks when any execute
/// bit is set or the node is a directory — as Linux's generic_permission does with CAP_DAC_OVERRIDE.
/// </summary>
public static class Permission
{
    /// <summary>Whether <paramref name="task"/> may access <paramref name="node"/> for <paramref name="mask"/> (R_OK|W_OK|X_OK).</summary>
    public static bool May(Task task, Inode node, int mask)
    {
        uint mode = node.Mode;
        if (task.Uid == 0)
            return (mask & Linux.X_OK) == 0 || (mode & Linux.S_IFMT) == Linux.S_IFDIR || (mode & 0x49) != 0;
        uint bits = task.Uid == node.Uid ? (mode >> 6) & 7 : task.Gid == node.Gid ? (mode >> 3) & 7 : mode & 7;
        return ((uint)mask & ~bits) == 0;
    }

    /// <summary>The errno for creating or removing entries in <paramref name="dir"/>: 0 when allowed.</summary>
    public static int ForDirChange(Task task, Inode dir) =>
        dir.OnReadOnlyFs ? Errno.EROFS : May(task, dir, Linux.W_OK | Linux.X_OK) ? 0 : Errno.EACCES;

    /// <summary>Whether the sticky bit of <paramref name="dir"/> forbids <paramref name="task"/> removing or renaming <paramref name="victim"/>.</summary>
    public static bool StickyForbids(Task task, Inode dir, Inode victim) =>
        (dir.Mode & Linux.S_ISVTX) != 0 && task.Uid != 0 && task.Uid != victim.Uid && task.Uid != dir.Uid;

    /// <summary>Whether the task owns <paramref name="node"/> (or is root): needed for chmod, utimes with explicit times.</summary>
    public static bool Owns(Task task, Inode node) => task.Uid == 0 || task.Uid == node.Uid;
}
