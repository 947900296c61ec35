namespace Sentry.P9;

/// <summary>Tlopen: fid[4] flags[4]. Opens the file fid refers to; flags are Linux open(2) flags.</summary>
public readonly record struct Tlopen(uint Fid, uint Flags) : IP9Message<Tlopen>
{
    public static P9MessageType Type => P9MessageType.Tlopen;
    public void Encode(ref P9Writer w) { w.U32(Fid); w.U32(Flags); }
    public static bool TryDecode(scoped ref P9Reader r, out Tlopen m) { m = new(r.U32(), r.U32()); return true; }
}

/// <summary>
/// Rlopen: qid[13] iounit[4]. iounit is the largest transfer the server promises to do in one
/// message (0: limited by msize only). A Gofer may pass the opened host fd along with SCM_RIGHTS.
/// </summary>
public readonly record struct Rlopen(P9Qid Qid, uint IoUnit) : IP9Message<Rlopen>
{
    public static P9MessageType Type => P9MessageType.Rlopen;
    public void Encode(ref P9Writer w) { w.Qid(Qid); w.U32(IoUnit); }
    public static bool TryDecode(scoped ref P9Reader r, out Rlopen m) { m = new(r.Qid(), r.U32()); return true; }
}
