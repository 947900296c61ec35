namespace Sentry.P9;

/// <summary>Tlink: dfid[4] fid[4] name[s]. Hard link to fid's file as name in directory dfid.</summary>
public readonly ref struct Tlink : IP9Message<Tlink>
{
    public uint Dfid { get; }
    public uint Fid { get; }
    public ReadOnlySpan<byte> Name { get; }

    public Tlink(uint dfid, uint fid, ReadOnlySpan<byte> name) { Dfid = dfid; Fid = fid; Name = name; }

    public static P9MessageType Type => P9MessageType.Tlink;
    public void Encode(ref P9Writer w) { w.U32(Dfid); w.U32(Fid); w.String(Name); }
    public static bool TryDecode(scoped ref P9Reader r, out Tlink m) { m = new(r.U32(), r.U32(), r.String()); return true; }
}

/// <summary>Rlink: empty.</summary>
public readonly record struct Rlink : IP9Message<Rlink>
{
    public static P9MessageType Type => P9MessageType.Rlink;
    public void Encode(ref P9Writer w) { }
    public static bool TryDecode(scoped ref P9Reader r, out Rlink m) { m = default; return true; }
}
