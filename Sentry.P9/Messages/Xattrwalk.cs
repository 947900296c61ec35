namespace Sentry.P9;

/// <summary>
/// Txattrwalk: fid[4] newfid[4] name[s]. Makes newfid a readable handle on the value of
/// extended attribute name of fid's file, or on the list of names when name is empty.
/// </summary>
public readonly ref struct Txattrwalk : IP9Message<Txattrwalk>
{
    public uint Fid { get; }
    public uint NewFid { get; }
    public ReadOnlySpan<byte> Name { get; }

    public Txattrwalk(uint fid, uint newFid, ReadOnlySpan<byte> name) { Fid = fid; NewFid = newFid; Name = name; }

    public static P9MessageType Type => P9MessageType.Txattrwalk;
    public void Encode(ref P9Writer w) { w.U32(Fid); w.U32(NewFid); w.String(Name); }
    public static bool TryDecode(scoped ref P9Reader r, out Txattrwalk m) { m = new(r.U32(), r.U32(), r.String()); return true; }
}

/// <summary>Rxattrwalk: size[8] of the value (or name list) to read from newfid.</summary>
public readonly record struct Rxattrwalk(ulong Size) : IP9Message<Rxattrwalk>
{
    public static P9MessageType Type => P9MessageType.Rxattrwalk;
    public void Encode(ref P9Writer w) => w.U64(Size);
    public static bool TryDecode(scoped ref P9Reader r, out Rxattrwalk m) { m = new(r.U64()); return true; }
}
