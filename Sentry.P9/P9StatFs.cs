namespace Sentry.P9;

/// <summary>
/// An Rstatfs (Linux's struct p9_rstatfs), the fields of statfs(2): type[4] bsize[4] blocks[8]
/// bfree[8] bavail[8] files[8] ffree[8] fsid[8] namelen[4].
/// </summary>
public record struct P9StatFs
{
    public uint type, bsize;
    public ulong blocks, bfree, bavail, files, ffree, fsid;
    public uint namelen;

    internal readonly void Encode(ref P9Writer w)
    {
        w.U32(type); w.U32(bsize);
        w.U64(blocks); w.U64(bfree); w.U64(bavail); w.U64(files); w.U64(ffree); w.U64(fsid);
        w.U32(namelen);
    }

    internal static P9StatFs Decode(scoped ref P9Reader r) => new()
    {
        type = r.U32(), bsize = r.U32(),
        blocks = r.U64(), bfree = r.U64(), bavail = r.U64(), files = r.U64(), ffree = r.U64(), fsid = r.U64(),
        namelen = r.U32(),
    };
}
