using Sentry.Gofer.Abi;
using Sentry.Gofer.Host;
using Sentry.P9;

namespace Sentry.Gofer;

/// <summary>Tremove, Tunlinkat, Trename, Trenameat: names that go away or move.</summary>
internal sealed partial class GoferConnection
{
    /// <summary>Removes the file fid holds (by its name in its parent, checked to still be it) and clunks the fid whatever happens.</summary>
    int Remove(ushort tag, in Tremove m)
    {
        if (!_fids.Remove(m.Fid, out Fid f)) return -Errno.EBADF;
        int rc;
        try
        {
            rc = f.Kind != FidKind.File ? -Errno.EBADF : RemoveNode(f.Node);
        }
        finally
        {
            f.Release();
        }
        return rc < 0 ? rc : Reply(tag, new Rremove());
    }

    int RemoveNode(Node node)
    {
        if (_readOnly) return -Errno.EROFS;
        if (node.Parent == null) return -Errno.EBUSY; // the export root, as rmdir("/")
        int rc = CheckStillNamed(node);
        if (rc < 0) return rc;
        return Sys.UnlinkAt(node.Parent.Fd, node.Name, node.IsDir ? Linux.AT_REMOVEDIR : 0);
    }

    int Unlinkat(ushort tag, in Tunlinkat m)
    {
        if (!TryGetFile(m.DirFid, out Fid dir)) return -Errno.EBADF;
        if (!dir.Node.IsDir) return -Errno.ENOTDIR;
        if ((m.Flags & ~P9Const.P9_DOTL_AT_REMOVEDIR) != 0) return -Errno.EINVAL;
        bool rmdir = (m.Flags & P9Const.P9_DOTL_AT_REMOVEDIR) != 0;
        int rc = Names.Check(m.Name);
        if (rc < 0) return rc;
        // Linux's answers for the dot names (rmdir "." EINVAL, ".." ENOTEMPTY; unlink either EISDIR), without asking the host.
        if (Names.IsDot(m.Name)) return rmdir ? -Errno.EINVAL : -Errno.EISDIR;
        if (Names.IsDotDot(m.Name)) return rmdir ? -Errno.ENOTEMPTY : -Errno.EISDIR;
        if (_readOnly) return -Errno.EROFS;
        rc = Sys.UnlinkAt(dir.Node.Fd, m.Name, rmdir ? Linux.AT_REMOVEDIR : 0);
        return rc < 0 ? rc : Reply(tag, new Runlinkat());
    }

    /// <summary>Checks a rename's name: EBUSY for "." and ".." (Linux's answer), the usual ones otherwise.</summary>
    static int CheckRenameName(ReadOnlySpan<byte> name)
    {
        int rc = Names.Check(name);
        if (rc < 0) return rc;
        return Names.IsDotOrDotDot(name) ? -Errno.EBUSY : 0;
    }

    int Renameat(ushort tag, in Trenameat m)
    {
        if (!TryGetFile(m.OldDirFid, out Fid from) || !TryGetFile(m.NewDirFid, out Fid to)) return -Errno.EBADF;
        if (!from.Node.IsDir || !to.Node.IsDir) return -Errno.ENOTDIR;
        int rc = CheckRenameName(m.OldName);
        if (rc < 0 || (rc = CheckRenameName(m.NewName)) < 0) return rc;
        if (_readOnly) return -Errno.EROFS;
        rc = Sys.RenameAt(from.Node.Fd, m.OldName, to.Node.Fd, m.NewName);
        return rc < 0 ? rc : Reply(tag, new Rrenameat());
    }

    /// <summary>Moves the file fid holds into directory dfid as name; the fid (and every fid sharing its node) follows it.</summary>
    int Rename(ushort tag, in Trename m)
    {
        if (!TryGetFile(m.Fid, out Fid f) || !TryGetFile(m.Dfid, out Fid dir)) return -Errno.EBADF;
        if (!dir.Node.IsDir) return -Errno.ENOTDIR;
        int rc = CheckRenameName(m.Name);
        if (rc < 0) return rc;
        if (_readOnly) return -Errno.EROFS;
        Node node = f.Node;
        if ((rc = CheckStillNamed(node)) < 0) return rc;
        if ((rc = Sys.RenameAt(node.Parent!.Fd, node.Name, dir.Node.Fd, m.Name)) < 0) return rc;
        node.MoveTo(dir.Node, m.Name.ToArray());
        return Reply(tag, new Rrename());
    }
}
