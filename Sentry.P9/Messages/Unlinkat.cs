namespace Sentry.P9;

/// <summary>Tunlinkat: dirfd[4] name[s] flags[4]. unlinkat(2) of name in directory dirfd; flags may hold P9_DOTL_AT_REMOVEDIR.</summary>
public readonly ref struct Tunlinkat : IP9Message<Tunlinkat>
{
    public uint DirFid { get; }
    public ReadOnlySpan<byte> Name { get; }
    public uint Flags { get; }

    public Tunlinkat(uint dirFid, ReadOnlySpan<byte> name, uint flags) { DirFid = dirFid; Name = name; Flags = flags; }

    public static P9MessageType Type => P9MessageType.Tunlinkat;
    public void Encode(ref P9Writer w) { w.U32(DirFid); w.String(Name); w.U32(Flags); }
    public static bool TryDecode(scoped ref P9Reader r, out Tunlinkat m) { m = new(r.U32(), r.String(), r.U32()); return true; }
}

/// <summary>Runlinkat: empty.</summary>
public readonly record struct Runlinkat : IP9Message<Runlinkat>
{
    public static P9MessageType Type => P9MessageType.Runlinkat;
    public void Encode(ref P9Writer w) { }
    public static bool TryDecode(scoped ref P9Reader r, out Runlinkat m) { m = default; return true; }
}
