namespace Sentry.P9;

/// <summary>Tstatfs: fid[4]; statfs(2) of the file system holding fid.</summary>
public readonly record struct Tstatfs(uint Fid) : IP9Message<Tstatfs>
{
    public static P9MessageType Type => P9MessageType.Tstatfs;
    public void Encode(ref P9Writer w) => w.U32(Fid);
    public static bool TryDecode(scoped ref P9Reader r, out Tstatfs m) { m = new(r.U32()); return true; }
}

/// <summary>Rstatfs: see <see cref="P9StatFs"/>.</summary>
public readonly record struct Rstatfs(P9StatFs StatFs) : IP9Message<Rstatfs>
{
    public static P9MessageType Type => P9MessageType.Rstatfs;
    public void Encode(ref P9Writer w) => StatFs.Encode(ref w);
    public static bool TryDecode(scoped ref P9Reader r, out Rstatfs m) { m = new(P9StatFs.Decode(ref r)); return true; }
}
