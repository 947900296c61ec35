namespace Sentry.P9;

/// <summary>
/// Tauth: afid[4] uname[s] aname[s] n_uname[4]. Starts an authentication exchange; Sentry and
/// its Gofer never authenticate (the socket is the credential), so servers answer Rlerror.
/// </summary>
public readonly ref struct Tauth : IP9Message<Tauth>
{
    public uint Afid { get; }
    public ReadOnlySpan<byte> Uname { get; }
    public ReadOnlySpan<byte> Aname { get; }
    public uint NUname { get; }

    public Tauth(uint afid, ReadOnlySpan<byte> uname, ReadOnlySpan<byte> aname, uint nUname)
    { Afid = afid; Uname = uname; Aname = aname; NUname = nUname; }

    public static P9MessageType Type => P9MessageType.Tauth;
    public void Encode(ref P9Writer w) { w.U32(Afid); w.String(Uname); w.String(Aname); w.U32(NUname); }
    public static bool TryDecode(scoped ref P9Reader r, out Tauth m) { m = new(r.U32(), r.String(), r.String(), r.U32()); return true; }
}

/// <summary>Rauth: aqid[13].</summary>
public readonly record struct Rauth(P9Qid Aqid) : IP9Message<Rauth>
{
    public static P9MessageType Type => P9MessageType.Rauth;
    public void Encode(ref P9Writer w) => w.Qid(Aqid);
    public static bool TryDecode(scoped ref P9Reader r, out Rauth m) { m = new(r.Qid()); return true; }
}
