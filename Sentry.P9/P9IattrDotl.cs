namespace Sentry.P9;

/// <summary>
/// Attributes to change in a Tsetattr (Linux's struct p9_iattr_dotl): valid[4] mode[4] uid[4]
/// gid[4] size[8] atime_sec[8] atime_nsec[8] mtime_sec[8] mtime_nsec[8]. Only the fields whose
/// P9_SETATTR_* bit is in <see cref="valid"/> are applied; a time bit without its _SET bit means
/// "now" on the server.
/// </summary>
public record struct P9IattrDotl
{
    public uint valid, mode, uid, gid;
    public ulong size, atime_sec, atime_nsec, mtime_sec, mtime_nsec;

    internal readonly void Encode(ref P9Writer w)
    {
        w.U32(valid); w.U32(mode); w.U32(uid); w.U32(gid);
        w.U64(size); w.U64(atime_sec); w.U64(atime_nsec); w.U64(mtime_sec); w.U64(mtime_nsec);
    }

    internal static P9IattrDotl Decode(scoped ref P9Reader r) => new()
    {
        valid = r.U32(), mode = r.U32(), uid = r.U32(), gid = r.U32(),
        size = r.U64(), atime_sec = r.U64(), atime_nsec = r.U64(), mtime_sec = r.U64(), mtime_nsec = r.U64(),
    };
}
