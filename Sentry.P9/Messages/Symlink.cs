namespace Sentry.P9;

/// <summary>Tsymlink: fid[4] name[s] symtgt[s] gid[4]. Creates symlink name -> symtgt in directory fid.</summary>
public readonly ref struct Tsymlink : IP9Message<Tsymlink>
{
    public uint Fid { get; }
    public ReadOnlySpan<byte> Name { get; }
    public ReadOnlySpan<byte> Target { get; }
    public uint Gid { get; }

    public Tsymlink(uint fid, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, uint gid)
    { Fid = fid; Name = name; Target = target; Gid = gid; }

    public static P9MessageType Type => P9MessageType.Tsymlink;
    public void Encode(ref P9Writer w) { w.U32(Fid); w.String(Name); w.String(Target); w.U32(Gid); }
    public static bool TryDecode(scoped ref P9Reader r, out Tsymlink m) { m = new(r.U32(), r.String(), r.String(), r.U32()); return true; }
}

/// <summary>Rsymlink: qid[13] of the new link.</summary>
public readonly record struct Rsymlink(P9Qid Qid) : IP9Message<Rsymlink>
{
    public static P9MessageType Type => P9MessageType.Rsymlink;
    public void Encode(ref P9Writer w) => w.Qid(Qid);
    public static bool TryDecode(scoped ref P9Reader r, out Rsymlink m) { m = new(r.Qid()); return true; }
}
