namespace Sentry.P9;

/// <summary>Tfsync: fid[4] datasync[4]. fsync(2) (fdatasync(2) when datasync is non-zero) of the open fid.</summary>
public readonly record struct Tfsync(uint Fid, uint Datasync) : IP9Message<Tfsync>
{
    public static P9MessageType Type => P9MessageType.Tfsync;
    public void Encode(ref P9Writer w) { w.U32(Fid); w.U32(Datasync); }
    public static bool TryDecode(scoped ref P9Reader r, out Tfsync m) { m = new(r.U32(), r.U32()); return true; }
}

/// <summary>Rfsync: empty.</summary>
public readonly record struct Rfsync : IP9Message<Rfsync>
{
    public static P9MessageType Type => P9MessageType.Rfsync;
    public void Encode(ref P9Writer w) { }
    public static bool TryDecode(scoped ref P9Reader r, out Rfsync m) { m = default; return true; }
}
