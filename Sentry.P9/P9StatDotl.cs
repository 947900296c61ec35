namespace Sentry.P9;

/// <summary>
/// Attributes in an Rgetattr (Linux's struct p9_stat_dotl): struct stat with the inode number in
/// qid.path, nanosecond times and a mask of the fields the server filled in. On the wire:
/// valid[8] qid[13] mode[4] uid[4] gid[4] nlink[8] rdev[8] size[8] blksize[8] blocks[8]
/// atime_sec[8] atime_nsec[8] mtime_sec[8] mtime_nsec[8] ctime_sec[8] ctime_nsec[8]
/// btime_sec[8] btime_nsec[8] gen[8] data_version[8].
/// </summary>
public record struct P9StatDotl
{
    public const int WireSize = 8 + P9Qid.WireSize + 3 * 4 + 15 * 8;

    /// <summary>P9_GETATTR_* bits of the fields that are valid.</summary>
    public ulong st_result_mask;
    public P9Qid qid;
    public uint st_mode, st_uid, st_gid;
    public ulong st_nlink, st_rdev, st_size, st_blksize, st_blocks;
    public ulong st_atime_sec, st_atime_nsec, st_mtime_sec, st_mtime_nsec, st_ctime_sec, st_ctime_nsec;
    public ulong st_btime_sec, st_btime_nsec, st_gen, st_data_version;

    internal readonly void Encode(ref P9Writer w)
    {
        w.U64(st_result_mask); w.Qid(qid);
        w.U32(st_mode); w.U32(st_uid); w.U32(st_gid);
        w.U64(st_nlink); w.U64(st_rdev); w.U64(st_size); w.U64(st_blksize); w.U64(st_blocks);
        w.U64(st_atime_sec); w.U64(st_atime_nsec); w.U64(st_mtime_sec); w.U64(st_mtime_nsec);
        w.U64(st_ctime_sec); w.U64(st_ctime_nsec); w.U64(st_btime_sec); w.U64(st_btime_nsec);
        w.U64(st_gen); w.U64(st_data_version);
    }

    internal static P9StatDotl Decode(scoped ref P9Reader r) => new()
    {
        st_result_mask = r.U64(), qid = r.Qid(),
        st_mode = r.U32(), st_uid = r.U32(), st_gid = r.U32(),
        st_nlink = r.U64(), st_rdev = r.U64(), st_size = r.U64(), st_blksize = r.U64(), st_blocks = r.U64(),
        st_atime_sec = r.U64(), st_atime_nsec = r.U64(), st_mtime_sec = r.U64(), st_mtime_nsec = r.U64(),
        st_ctime_sec = r.U64(), st_ctime_nsec = r.U64(), st_btime_sec = r.U64(), st_btime_nsec = r.U64(),
        st_gen = r.U64(), st_data_version = r.U64(),
    };
}
