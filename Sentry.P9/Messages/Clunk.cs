namespace Sentry.P9;

/// <summary>Tclunk: fid[4]. Forgets fid (closing it if open); the fid is free afterwards even if this fails.</summary>
public readonly record struct Tclunk(uint Fid) : IP9Message<Tclunk>
{
    public static P9MessageType Type => P9MessageType.Tclunk;
    public void Encode(ref P9Writer w) => w.U32(Fid);
    public static bool TryDecode(scoped ref P9Reader r, out Tclunk m) { m = new(r.U32()); return true; }
}

/// <summary>Rclunk: empty.</summary>
public readonly record struct Rclunk : IP9Message<Rclunk>
{
    public static P9MessageType Type => P9MessageType.Rclunk;
    public void Encode(ref P9Writer w) { }
    public static bool TryDecode(scoped ref P9Reader r, out Rclunk m) { m = default; return true; }
}
