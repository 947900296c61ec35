namespace Sentry.P9;

/// <summary>Tremove: fid[4]. Removes the file and clunks fid (even if the removal fails).</summary>
public readonly record struct Tremove(uint Fid) : IP9Message<Tremove>
{
    public static P9MessageType Type => P9MessageType.Tremove;
    public void Encode(ref P9Writer w) => w.U32(Fid);
    public static bool TryDecode(scoped ref P9Reader r, out Tremove m) { m = new(r.U32()); return true; }
}

/// <summary>Rremove: empty.</summary>
public readonly record struct Rremove : IP9Message<Rremove>
{
    public static P9MessageType Type => P9MessageType.Rremove;
    public void Encode(ref P9Writer w) { }
    public static bool TryDecode(scoped ref P9Reader r, out Rremove m) { m = default; return true; }
}
