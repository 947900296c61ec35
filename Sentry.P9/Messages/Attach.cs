namespace Sentry.P9;

/// <summary>
/// Tattach: fid[4] afid[4] uname[s] aname[s] n_uname[4]. Makes fid the root of the tree named
/// aname for the user n_uname (or uname when n_uname is P9_NONUNAME); afid is P9_NOFID.
/// </summary>
public readonly ref struct Tattach : IP9Message<Tattach>
{
    public uint Fid { get; }
    public uint Afid { get; }
    public ReadOnlySpan<byte> Uname { get; }
    public ReadOnlySpan<byte> Aname { get; }
    public uint NUname { get; }

    public Tattach(uint fid, uint afid, ReadOnlySpan<byte> uname, ReadOnlySpan<byte> aname, uint nUname)
    { Fid = fid; Afid = afid; Uname = uname; Aname = aname; NUname = nUname; }

    public static P9MessageType Type => P9MessageType.Tattach;
    public void Encode(ref P9Writer w) { w.U32(Fid); w.U32(Afid); w.String(Uname); w.String(Aname); w.U32(NUname); }
    public static bool TryDecode(scoped ref P9Reader r, out Tattach m) { m = new(r.U32(), r.U32(), r.String(), r.String(), r.U32()); return true; }
}

/// <summary>Rattach: qid[13] of the root.</summary>
public readonly record struct Rattach(P9Qid Qid) : IP9Message<Rattach>
{
    public static P9MessageType Type => P9MessageType.Rattach;
    public void Encode(ref P9Writer w) => w.Qid(Qid);
    public static bool TryDecode(scoped ref P9Reader r, out Rattach m) { m = new(r.Qid()); return true; }
}
