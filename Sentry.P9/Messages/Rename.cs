namespace Sentry.P9;

/// <summary>Trename: fid[4] dfid[4] name[s]. Moves the file fid refers to to name in directory dfid (older form of Trenameat).</summary>
public readonly ref struct Trename : IP9Message<Trename>
{
    public uint Fid { get; }
    public uint Dfid { get; }
    public ReadOnlySpan<byte> Name { get; }

    public Trename(uint fid, uint dfid, ReadOnlySpan<byte> name) { Fid = fid; Dfid = dfid; Name = name; }

    public static P9MessageType Type => P9MessageType.Trename;
    public void Encode(ref P9Writer w) { w.U32(Fid); w.U32(Dfid); w.String(Name); }
    public static bool TryDecode(scoped ref P9Reader r, out Trename m) { m = new(r.U32(), r.U32(), r.String()); return true; }
}

/// <summary>Rrename: empty.</summary>
public readonly record struct Rrename : IP9Message<Rrename>
{
    public static P9MessageType Type => P9MessageType.Rrename;
    public void Encode(ref P9Writer w) { }
    public static bool TryDecode(scoped ref P9Reader r, out Rrename m) { m = default; return true; }
}
