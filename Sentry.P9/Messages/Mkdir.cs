namespace Sentry.P9;

/// <summary>Tmkdir: dfid[4] name[s] mode[4] gid[4]. mkdir(2) of name in directory dfid.</summary>
public readonly ref struct Tmkdir : IP9Message<Tmkdir>
{
    public uint Dfid { get; }
    public ReadOnlySpan<byte> Name { get; }
    public uint Mode { get; }
    public uint Gid { get; }

    public Tmkdir(uint dfid, ReadOnlySpan<byte> name, uint mode, uint gid) { Dfid = dfid; Name = name; Mode = mode; Gid = gid; }

    public static P9MessageType Type => P9MessageType.Tmkdir;
    public void Encode(ref P9Writer w) { w.U32(Dfid); w.String(Name); w.U32(Mode); w.U32(Gid); }
    public static bool TryDecode(scoped ref P9Reader r, out Tmkdir m) { m = new(r.U32(), r.String(), r.U32(), r.U32()); return true; }
}

/// <summary>Rmkdir: qid[13] of the new directory.</summary>
public readonly record struct Rmkdir(P9Qid Qid) : IP9Message<Rmkdir>
{
    public static P9MessageType Type => P9MessageType.Rmkdir;
    public void Encode(ref P9Writer w) => w.Qid(Qid);
    public static bool TryDecode(scoped ref P9Reader r, out Rmkdir m) { m = new(r.Qid()); return true; }
}
