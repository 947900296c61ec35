namespace Sentry.P9;

/// <summary>
/// Txattrcreate: fid[4] name[s] attr_size[8] flags[4]. Turns fid into a writable handle for the
/// value of extended attribute name (setxattr flags); the attribute is set when fid is clunked
/// after exactly attr_size bytes were written.
/// </summary>
public readonly ref struct Txattrcreate : IP9Message<Txattrcreate>
{
    public uint Fid { get; }
    public ReadOnlySpan<byte> Name { get; }
    public ulong AttrSize { get; }
    public uint Flags { get; }

    public Txattrcreate(uint fid, ReadOnlySpan<byte> name, ulong attrSize, uint flags)
    { Fid = fid; Name = name; AttrSize = attrSize; Flags = flags; }

    public static P9MessageType Type => P9MessageType.Txattrcreate;
    public void Encode(ref P9Writer w) { w.U32(Fid); w.String(Name); w.U64(AttrSize); w.U32(Flags); }
    public static bool TryDecode(scoped ref P9Reader r, out Txattrcreate m) { m = new(r.U32(), r.String(), r.U64(), r.U32()); return true; }
}

/// <summary>Rxattrcreate: empty.</summary>
public readonly record struct Rxattrcreate : IP9Message<Rxattrcreate>
{
    public static P9MessageType Type => P9MessageType.Rxattrcreate;
    public void Encode(ref P9Writer w) { }
    public static bool TryDecode(scoped ref P9Reader r, out Rxattrcreate m) { m = default; return true; }
}
