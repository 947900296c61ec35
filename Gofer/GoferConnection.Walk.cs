using Sentry.Gofer.Abi;
using Sentry.Gofer.Host;
using Sentry.P9;

namespace Sentry.Gofer;

/// <summary>Twalk and the one-name step every path operation is built on.</summary>
internal sealed partial class GoferConnection
{
    /// <summary>openat2 is missing (Linux before 5.6): plain openat with O_NOFOLLOW on single names is just as tight.</summary>
    static volatile bool s_noOpenat2;

    /// <summary>How every name is opened: the file itself (a symlink is not followed), nothing but a path reference.</summary>
    const int PathFlags = Linux.O_PATH | Linux.O_NOFOLLOW | Linux.O_CLOEXEC;
    /// <summary>The name must resolve beneath the directory fd without following any symlink or magic link.</summary>
    const ulong Beneath = Linux.RESOLVE_BENEATH | Linux.RESOLVE_NO_SYMLINKS | Linux.RESOLVE_NO_MAGICLINKS;

    /// <summary>
    /// Opens one checked name in directory <paramref name="dirFd"/> without following anything:
    /// openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, so even a name the
    /// checks let through could not leave the directory. Returns the fd or -errno.
    /// </summary>
    static int OpenName(int dirFd, ReadOnlySpan<byte> name, int flags, uint mode = 0)
    {
        if (!s_noOpenat2)
        {
            int fd = Sys.OpenAt2(dirFd, name, (ulong)(flags | Linux.O_NOFOLLOW | Linux.O_CLOEXEC), mode, Beneath);
            if (fd != -Errno.ENOSYS) return fd;
            s_noOpenat2 = true;
        }
        return Sys.OpenAt(dirFd, name, flags | Linux.O_NOFOLLOW | Linux.O_CLOEXEC, mode);
    }

    /// <summary>
    /// Walks one name from directory node <paramref name="dir"/>: "." is the directory itself,
    /// ".." its parent node (the root's is the root), anything else one O_PATH open beneath it.
    /// Returns 0 and a new reference, or -errno (ENOTDIR when <paramref name="dir"/> is not a
    /// directory, a symlink included: the Gofer never walks through one; EACCES onto a mount of
    /// one of the <see cref="KernelFileSystems"/>).
    /// </summary>
    int Step(Node dir, ReadOnlySpan<byte> name, out Node next)
    {
        next = null!;
        if (!dir.IsDir) return -Errno.ENOTDIR;
        int rc = Names.Check(name);
        if (rc < 0) return rc;
        if (Names.IsDot(name))
        {
            next = dir.AddRef();
            return 0;
        }
        if (Names.IsDotDot(name))
        {
            next = (dir.Parent ?? dir).AddRef();
            return 0;
        }
        int fd = OpenName(dir.Fd, name, Linux.O_PATH);
        if (fd < 0) return fd;
        rc = Sys.Fstat(fd, out LinuxStat st);
        // A new device is a mount point: one of the host kernel's own file systems is not served.
        if (rc == 0 && st.st_dev != dir.Dev && Sys.Fstatfs(fd, out LinuxStatfs fs) == 0 && KernelFileSystems.IsRefused(fs.f_type))
            rc = -Errno.EACCES;
        if (rc < 0)
        {
            Sys.Close(fd);
            return rc;
        }
        next = new Node(_nodes, fd, dir, name.ToArray(), st);
        return 0;
    }

    int Walk(ushort tag, in Twalk m)
    {
        if (!TryGetFile(m.Fid, out Fid from)) return -Errno.EBADF;
        bool inPlace = m.NewFid == m.Fid;
        if (inPlace)
        {
            // An open fid keeps referring to what it opened.
            if (from.IsOpen && m.Names.Count > 0) return -Errno.EBADF;
        }
        else
        {
            int check = CheckNewFid(m.NewFid);
            if (check < 0) return check;
        }

        Span<P9Qid> qids = stackalloc P9Qid[P9Const.P9_MAXWELEM];
        Node cur = from.Node.AddRef();
        int walked = 0, rc = 0;
        foreach (ReadOnlySpan<byte> name in m.Names)
        {
            rc = Step(cur, name, out Node next);
            if (rc < 0) break;
            cur.Release();
            cur = next;
            qids[walked++] = QidOf(cur);
        }
        if (rc < 0)
        {
            // Failure at the first name is an error; later, the names that were found (and no newfid).
            cur.Release();
            return walked == 0 ? rc : Reply(tag, new Rwalk(qids[..walked]));
        }
        if (inPlace)
        {
            from.Node.Release();
            from.Node = cur;
        }
        else
        {
            _fids.Set(m.NewFid, new Fid(cur, from.Uid));
        }
        return Reply(tag, new Rwalk(qids[..walked]));
    }
}
