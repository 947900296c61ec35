namespace Sentry.P9;

/// <summary>Tmknod: dfid[4] name[s] mode[4] major[4] minor[4] gid[4]. mknod(2) of name in directory dfid.</summary>
public readonly ref struct Tmknod : IP9Message<Tmknod>
{
    public uint Dfid { get; }
    public ReadOnlySpan<byte> Name { get; }
    public uint Mode { get; }
    public uint Major { get; }
    public uint Minor { get; }
    public uint Gid { get; }

    public Tmknod(uint dfid, ReadOnlySpan<byte> name, uint mode, uint major, uint minor, uint gid)
    { Dfid = dfid; Name = name; Mode = mode; Major = major; Minor = minor; Gid = gid; }

    public static P9MessageType Type => P9MessageType.Tmknod;
    public void Encode(ref P9Writer w) { w.U32(Dfid); w.String(Name); w.U32(Mode); w.U32(Major); w.U32(Minor); w.U32(Gid); }
    public static bool TryDecode(scoped ref P9Reader r, out Tmknod m) { m = new(r.U32(), r.String(), r.U32(), r.U32(), r.U32(), r.U32()); return true; }
}

/// <summary>Rmknod: qid[13] of the new node.</summary>
public readonly record struct Rmknod(P9Qid Qid) : IP9Message<Rmknod>
{
    public static P9MessageType Type => P9MessageType.Rmknod;
    public void Encode(ref P9Writer w) => w.Qid(Qid);
    public static bool TryDecode(scoped ref P9Reader r, out Rmknod m) { m = new(r.Qid()); return true; }
}
