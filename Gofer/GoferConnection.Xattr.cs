using System.Buffers.Text;
using Sentry.Gofer.Abi;
using Sentry.Gofer.Host;
using Sentry.P9;

namespace Sentry.Gofer;

/// <summary>
/// Txattrwalk, Txattrcreate: extended attributes, read whole into the new fid and written whole
/// when the fid is clunked, through the *xattrat calls (Linux 6.13; EOPNOTSUPP before). Only
/// "user." attributes and POSIX ACLs may be written: security.* and trusted.* would let the
/// sandbox label or privilege host files (file capabilities, SELinux labels).
/// </summary>
internal sealed partial class GoferConnection
{
    /// <summary>
    /// Where the *xattrat calls find the node's file: its /proc/self/fd magic link (the file
    /// itself, symlinks included), "." of a directory, or its name in its parent, checked first.
    /// </summary>
    int XattrTarget(Node node, Span<byte> path, out int dirFd, out int pathLength, out int atFlags)
    {
        dirFd = -1;
        pathLength = 0;
        atFlags = 0;
        if (_server.ProcFd >= 0)
        {
            dirFd = _server.ProcFd;
            Utf8Formatter.TryFormat(node.Fd, path, out pathLength);
            return 0;
        }
        if (node.IsDir)
        {
            dirFd = node.Fd;
            path[0] = (byte)'.';
            pathLength = 1;
            return 0;
        }
        int rc = CheckStillNamed(node);
        if (rc < 0) return rc;
        dirFd = node.Parent!.Fd;
        node.Name.CopyTo(path);
        pathLength = node.Name.Length;
        atFlags = Linux.AT_SYMLINK_NOFOLLOW;
        return 0;
    }

    int Xattrwalk(ushort tag, in Txattrwalk m)
    {
        if (!TryGetFile(m.Fid, out Fid f)) return -Errno.EBADF;
        bool inPlace = m.NewFid == m.Fid;
        if (inPlace && f.IsOpen) return -Errno.EBADF;
        int rc = inPlace ? 0 : CheckNewFid(m.NewFid);
        if (rc < 0) return rc;
        if (m.Name.Length > Linux.XATTR_NAME_MAX) return -Errno.ERANGE;

        Span<byte> path = stackalloc byte[Linux.NAME_MAX + 1];
        if ((rc = XattrTarget(f.Node, path, out int dirFd, out int pathLength, out int atFlags)) < 0) return rc;
        byte[] buf = Scratch(Linux.XATTR_SIZE_MAX);
        Span<byte> value = buf.AsSpan(0, Linux.XATTR_SIZE_MAX);
        long n = m.Name.IsEmpty
            ? Sys.ListxattrAt(dirFd, path[..pathLength], atFlags, value)
            : Sys.GetxattrAt(dirFd, path[..pathLength], atFlags, m.Name, value);
        if (n == -Errno.ENOSYS) return -Errno.EOPNOTSUPP;
        if (n < 0) return (int)n;

        byte[] copy = value[..(int)n].ToArray();
        if (inPlace)
        {
            f.Kind = FidKind.XattrRead;
            f.XattrValue = copy;
        }
        else
        {
            _fids.Set(m.NewFid, new Fid(f.Node.AddRef(), f.Uid) { Kind = FidKind.XattrRead, XattrValue = copy });
        }
        return Reply(tag, new Rxattrwalk((ulong)n));
    }

    int Xattrcreate(ushort tag, in Txattrcreate m)
    {
        if (!TryGetFile(m.Fid, out Fid f) || f.IsOpen) return -Errno.EBADF;
        if (_readOnly) return -Errno.EROFS;
        if (m.Name.IsEmpty || m.Name.Length > Linux.XATTR_NAME_MAX) return -Errno.ERANGE;
        if (m.Name.Contains((byte)0)) return -Errno.EINVAL;
        if (!m.Name.StartsWith("user."u8) && !m.Name.SequenceEqual("system.posix_acl_access"u8)
            && !m.Name.SequenceEqual("system.posix_acl_default"u8))
            return m.Name.StartsWith("security."u8) || m.Name.StartsWith("trusted."u8) ? -Errno.EPERM : -Errno.EOPNOTSUPP;
        if ((m.Flags & ~(Linux.XATTR_CREATE | Linux.XATTR_REPLACE)) != 0) return -Errno.EINVAL;
        if (m.AttrSize > Linux.XATTR_SIZE_MAX) return -Errno.E2BIG;
        f.Kind = FidKind.XattrWrite;
        f.XattrName = m.Name.ToArray();
        f.XattrValue = new byte[m.AttrSize];
        f.XattrFlags = m.Flags;
        f.XattrWritten = 0;
        return Reply(tag, new Rxattrcreate());
    }

    /// <summary>
    /// At Tclunk of a Txattrcreate fid: sets the attribute once exactly the announced size was
    /// written (EINVAL otherwise). Size 0 removes it, as QEMU does: Linux's v9fs sends removexattr
    /// that way (and so an empty value cannot be set).
    /// </summary>
    int CommitXattr(Fid f)
    {
        byte[] value = f.XattrValue!;
        if (f.XattrWritten != value.Length) return -Errno.EINVAL;
        if (_readOnly) return -Errno.EROFS;
        Span<byte> path = stackalloc byte[Linux.NAME_MAX + 1];
        int rc = XattrTarget(f.Node, path, out int dirFd, out int pathLength, out int atFlags);
        if (rc < 0) return rc;
        rc = value.Length == 0
            ? Sys.RemovexattrAt(dirFd, path[..pathLength], atFlags, f.XattrName)
            : Sys.SetxattrAt(dirFd, path[..pathLength], atFlags, f.XattrName, value, f.XattrFlags);
        return rc == -Errno.ENOSYS ? -Errno.EOPNOTSUPP : rc;
    }
}
