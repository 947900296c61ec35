using Sentry.Gofer.Abi;
using Sentry.P9;

namespace Sentry.Gofer;

/// <summary>Tversion, Tattach, Tclunk: the session and the fids' lifetime.</summary>
internal sealed partial class GoferConnection
{
    int Version(ushort tag, in Tversion m)
    {
        // A new Tversion starts a new session: every fid of the old one is gone.
        _fids.ReleaseAll();
        _msize = 0;
        uint msize = Math.Min(m.MSize, (uint)_socket.MaxFrameSize);
        // Only 9P2000.L is spoken ("9P2000.L" with any suffix means it, as Plan 9 says of versions).
        if (!m.Version.StartsWith(P9Const.Version9P2000L) || (m.Version.Length > 8 && m.Version[8] != (byte)'.'))
            return Reply(tag, new Rversion(msize, "unknown"u8));
        if (msize < GoferServer.MinMessageSize) return -Errno.EINVAL;
        _msize = (int)msize;
        _socket.LimitFrameSize(_msize);
        return Reply(tag, new Rversion(msize, P9Const.Version9P2000L));
    }

    int Attach(ushort tag, in Tattach m)
    {
        // No authentication: afid is ignored (the socketpair is the credential).
        int rc = CheckNewFid(m.Fid);
        if (rc < 0) return rc;
        // aname selects a directory under the export root ("" and "/" are the root itself);
        // it is walked one name at a time like a Twalk, so it cannot leave the export either.
        Node cur = _root.AddRef();
        ReadOnlySpan<byte> rest = m.Aname;
        while (!rest.IsEmpty)
        {
            int slash = rest.IndexOf((byte)'/');
            ReadOnlySpan<byte> name = slash < 0 ? rest : rest[..slash];
            rest = slash < 0 ? default : rest[(slash + 1)..];
            if (name.IsEmpty) continue;
            rc = Step(cur, name, out Node next);
            cur.Release();
            if (rc < 0) return rc;
            cur = next;
        }
        if (!cur.IsDir)
        {
            cur.Release();
            return -Errno.ENOTDIR;
        }
        uint uid = m.NUname == P9Const.P9_NONUNAME ? _euid : m.NUname;
        _fids.Set(m.Fid, new Fid(cur, uid));
        return Reply(tag, new Rattach(QidOf(cur)));
    }

    int Clunk(ushort tag, in Tclunk m)
    {
        if (!_fids.Remove(m.Fid, out Fid f)) return -Errno.EBADF;
        // The fid is gone whatever happens; only setting a written xattr can still fail.
        int rc = 0;
        try
        {
            if (f.Kind == FidKind.XattrWrite) rc = CommitXattr(f);
        }
        finally
        {
            f.Release();
        }
        return rc < 0 ? rc : Reply(tag, new Rclunk());
    }
}
