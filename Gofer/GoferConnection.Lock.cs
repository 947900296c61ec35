using Sentry.Gofer.Abi;
using Sentry.Gofer.Host;
using Sentry.P9;

namespace Sentry.Gofer;

/// <summary>
/// Tlock, Tgetlock: POSIX record locks as open file description (OFD) locks on the fid's open
/// fd, so each opened fid is one lock owner: two opens of a file conflict, one open never
/// conflicts with itself, ranges are real, and closing the last fd of the open drops its locks.
/// proc_id and client_id are not owners here (OFD locks have none); Rgetlock reports the
/// holder's type and range.
/// </summary>
internal sealed partial class GoferConnection
{
    int Lock(ushort tag, in Tlock m)
    {
        if (!TryGetFile(m.Fid, out Fid f) || !f.IsOpen) return -Errno.EBADF;
        if (m.LockType > P9Const.P9_LOCK_TYPE_UNLCK) return -Errno.EINVAL;
        // Reclaiming locks after a server restart means nothing to a Gofer (and diod refuses it too).
        if ((m.Flags & ~P9Const.P9_LOCK_FLAGS_BLOCK) != 0) return -Errno.EINVAL;
        if (m.Start > long.MaxValue || m.Length > long.MaxValue) return -Errno.EINVAL;
        var lk = new LinuxFlock { l_type = m.LockType, l_whence = Linux.SEEK_SET, l_start = (long)m.Start, l_len = (long)m.Length };
        // Never F_OFD_SETLKW, even for P9_LOCK_FLAGS_BLOCK: one thread serves the connection, so
        // the client is told BLOCKED and retries (as the protocol and Linux's v9fs expect).
        int rc = Sys.FcntlLock(f.OpenFd, Linux.F_OFD_SETLK, ref lk);
        if (rc == -Errno.EAGAIN || rc == -Errno.EACCES) return Reply(tag, new Rlock(P9Const.P9_LOCK_BLOCKED));
        return rc < 0 ? rc : Reply(tag, new Rlock(P9Const.P9_LOCK_SUCCESS));
    }

    int Getlock(ushort tag, in Tgetlock m)
    {
        if (!TryGetFile(m.Fid, out Fid f) || !f.IsOpen) return -Errno.EBADF;
        if (m.LockType > P9Const.P9_LOCK_TYPE_WRLCK) return -Errno.EINVAL;
        if (m.Start > long.MaxValue || m.Length > long.MaxValue) return -Errno.EINVAL;
        var lk = new LinuxFlock { l_type = m.LockType, l_whence = Linux.SEEK_SET, l_start = (long)m.Start, l_len = (long)m.Length };
        int rc = Sys.FcntlLock(f.OpenFd, Linux.F_OFD_GETLK, ref lk);
        if (rc < 0) return rc;
        if (lk.l_type == Linux.F_UNLCK)
            return Reply(tag, new Rgetlock(P9Const.P9_LOCK_TYPE_UNLCK, m.Start, m.Length, m.ProcId, m.ClientId));
        // The conflicting lock: its type and range; OFD locks have no pid (the kernel says -1).
        return Reply(tag, new Rgetlock((byte)lk.l_type, (ulong)lk.l_start, (ulong)lk.l_len, (uint)lk.l_pid, ""u8));
    }
}
