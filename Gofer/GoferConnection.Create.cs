using Sentry.Gofer.Abi;
using Sentry.Gofer.Host;
using Sentry.P9;

namespace Sentry.Gofer;

/// <summary>Tmkdir, Tsymlink, Tmknod, Tlink: new names in a directory fid.</summary>
internal sealed partial class GoferConnection
{
    /// <summary>The directory node of <paramref name="dfid"/> for making <paramref name="name"/> in it, or -errno (EROFS on a read-only export).</summary>
    int NewNameIn(uint dfid, ReadOnlySpan<byte> name, out Fid dir)
    {
        if (!TryGetFile(dfid, out dir)) return -Errno.EBADF;
        if (!dir.Node.IsDir) return -Errno.ENOTDIR;
        int rc = Names.CheckNew(name);
        if (rc < 0) return rc;
        return _readOnly ? -Errno.EROFS : 0;
    }

    /// <summary>
    /// After mkdir/symlink/mknod: opens the new name (O_PATH, nothing followed), checks it is of
    /// the type made, sets owner and mode, and returns its qid. If the name was replaced in the
    /// meantime the reply still describes what it is now.
    /// </summary>
    int Created(Node dir, ReadOnlySpan<byte> name, uint type, uint uid, uint gid, uint mode, out P9Qid qid)
    {
        qid = default;
        int fd = OpenName(dir.Fd, name, Linux.O_PATH);
        if (fd < 0) return fd;
        int rc = Sys.Fstat(fd, out LinuxStat st);
        if (rc == 0)
        {
            if (st.Type == type) SetOwnerAndMode(fd, ref st, uid, gid, mode);
            qid = QidOf(st);
        }
        Sys.Close(fd);
        return rc;
    }

    int Mkdir(ushort tag, in Tmkdir m)
    {
        int rc = NewNameIn(m.Dfid, m.Name, out Fid dir);
        if (rc < 0) return rc;
        uint mode = m.Mode & Linux.S_IALLUGO;
        if ((rc = Sys.MkdirAt(dir.Node.Fd, m.Name, mode)) < 0) return rc;
        if ((rc = Created(dir.Node, m.Name, Linux.S_IFDIR, dir.Uid, m.Gid, mode, out P9Qid qid)) < 0) return rc;
        return Reply(tag, new Rmkdir(qid));
    }

    int Symlink(ushort tag, in Tsymlink m)
    {
        int rc = NewNameIn(m.Fid, m.Name, out Fid dir);
        if (rc < 0) return rc;
        // As symlink(2): an empty target is ENOENT. The target is stored, never resolved here.
        if (m.Target.IsEmpty) return -Errno.ENOENT;
        if (m.Target.Length >= Linux.PATH_MAX) return -Errno.ENAMETOOLONG;
        if ((rc = Sys.SymlinkAt(m.Target, dir.Node.Fd, m.Name)) < 0) return rc;
        if ((rc = Created(dir.Node, m.Name, Linux.S_IFLNK, dir.Uid, m.Gid, 0x1ff, out P9Qid qid)) < 0) return rc;
        return Reply(tag, new Rsymlink(qid));
    }

    /// <summary>
    /// mknod(2) of FIFOs, sockets and regular files. Device nodes are refused (EPERM, as for an
    /// unprivileged container): a device made in the export would open the host's device.
    /// </summary>
    int Mknod(ushort tag, in Tmknod m)
    {
        int rc = NewNameIn(m.Dfid, m.Name, out Fid dir);
        if (rc < 0) return rc;
        uint type = m.Mode & Linux.S_IFMT;
        if (type == 0) type = Linux.S_IFREG;
        switch (type)
        {
            case Linux.S_IFIFO or Linux.S_IFSOCK or Linux.S_IFREG: break;
            case Linux.S_IFCHR or Linux.S_IFBLK: return -Errno.EPERM;
            default: return -Errno.EINVAL;
        }
        uint mode = m.Mode & Linux.S_IALLUGO;
        if ((rc = Sys.MknodAt(dir.Node.Fd, m.Name, type | mode, 0)) < 0) return rc;
        if ((rc = Created(dir.Node, m.Name, type, dir.Uid, m.Gid, mode, out P9Qid qid)) < 0) return rc;
        return Reply(tag, new Rmknod(qid));
    }

    /// <summary>
    /// Hard link of the file fid holds: linkat(fd, "", AT_EMPTY_PATH) links exactly that file
    /// (it needs CAP_DAC_READ_SEARCH); without it, by name in its parent once the name is checked
    /// to still be that file.
    /// </summary>
    int Link(ushort tag, in Tlink m)
    {
        int rc = NewNameIn(m.Dfid, m.Name, out Fid dir);
        if (rc < 0) return rc;
        if (!TryGetFile(m.Fid, out Fid f)) return -Errno.EBADF;
        Node node = f.Node;
        if (node.IsDir) return -Errno.EPERM;
        rc = Sys.LinkAt(node.Fd, ""u8, dir.Node.Fd, m.Name, Linux.AT_EMPTY_PATH);
        if (rc == -Errno.ENOENT && node.Parent != null)
        {
            if ((rc = CheckStillNamed(node)) < 0) return rc;
            rc = Sys.LinkAt(node.Parent.Fd, node.Name, dir.Node.Fd, m.Name, 0);
        }
        return rc < 0 ? rc : Reply(tag, new Rlink());
    }

    /// <summary>0 if <paramref name="node"/>'s name in its parent still means its file; ENOENT if gone, ESTALE if another file took the name.</summary>
    static int CheckStillNamed(Node node)
    {
        if (node.Parent == null) return -Errno.EBUSY;
        int rc = Sys.FstatAt(node.Parent.Fd, node.Name, Linux.AT_SYMLINK_NOFOLLOW, out LinuxStat st);
        if (rc < 0) return rc;
        return node.Is(st) ? 0 : -Errno.ESTALE;
    }
}
