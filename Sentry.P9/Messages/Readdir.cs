namespace Sentry.P9;

/// <summary>
/// Treaddir: fid[4] offset[8] count[4]. Reads entries of the open directory fid from offset (0,
/// or the offset of the last entry received); count + P9_READDIRHDRSZ must not exceed msize.
/// </summary>
public readonly record struct Treaddir(uint Fid, ulong Offset, uint Count) : IP9Message<Treaddir>
{
    public static P9MessageType Type => P9MessageType.Treaddir;
    public void Encode(ref P9Writer w) { w.U32(Fid); w.U64(Offset); w.U32(Count); }
    public static bool TryDecode(scoped ref P9Reader r, out Treaddir m) { m = new(r.U32(), r.U64(), r.U32()); return true; }
}

/// <summary>
/// Rreaddir: count[4] data[count], whole <see cref="P9Dirent"/> records (read them with
/// <see cref="P9DirentReader"/>); no data means the end of the directory.
/// </summary>
public readonly ref struct Rreaddir : IP9Message<Rreaddir>
{
    public ReadOnlySpan<byte> Data { get; }

    public Rreaddir(ReadOnlySpan<byte> data) => Data = data;

    public static P9MessageType Type => P9MessageType.Rreaddir;
    public void Encode(ref P9Writer w) { w.U32((uint)Data.Length); w.Bytes(Data); }
    public static bool TryDecode(scoped ref P9Reader r, out Rreaddir m) { m = new(r.Bytes(r.U32())); return true; }
}
