namespace Sentry.P9;

/// <summary>
/// Tlcreate: fid[4] name[s] flags[4] mode[4] gid[4]. Creates regular file name in directory fid
/// and opens it; afterwards fid refers to the new, open file (not the directory).
/// </summary>
public readonly ref struct Tlcreate : IP9Message<Tlcreate>
{
    public uint Fid { get; }
    public ReadOnlySpan<byte> Name { get; }
    public uint Flags { get; }
    public uint Mode { get; }
    public uint Gid { get; }

    public Tlcreate(uint fid, ReadOnlySpan<byte> name, uint flags, uint mode, uint gid)
    { Fid = fid; Name = name; Flags = flags; Mode = mode; Gid = gid; }

    public static P9MessageType Type => P9MessageType.Tlcreate;
    public void Encode(ref P9Writer w) { w.U32(Fid); w.String(Name); w.U32(Flags); w.U32(Mode); w.U32(Gid); }
    public static bool TryDecode(scoped ref P9Reader r, out Tlcreate m) { m = new(r.U32(), r.String(), r.U32(), r.U32(), r.U32()); return true; }
}

/// <summary>Rlcreate: qid[13] iounit[4], as Rlopen (and may likewise carry the host fd).</summary>
public readonly record struct Rlcreate(P9Qid Qid, uint IoUnit) : IP9Message<Rlcreate>
{
    public static P9MessageType Type => P9MessageType.Rlcreate;
    public void Encode(ref P9Writer w) { w.Qid(Qid); w.U32(IoUnit); }
    public static bool TryDecode(scoped ref P9Reader r, out Rlcreate m) { m = new(r.Qid(), r.U32()); return true; }
}
