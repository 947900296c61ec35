namespace Sentry.P9;

/// <summary>Tgetattr: fid[4] request_mask[8] (P9_GETATTR_* bits wanted; the server may return more).</summary>
public readonly record struct Tgetattr(uint Fid, ulong RequestMask) : IP9Message<Tgetattr>
{
    public static P9MessageType Type => P9MessageType.Tgetattr;
    public void Encode(ref P9Writer w) { w.U32(Fid); w.U64(RequestMask); }
    public static bool TryDecode(scoped ref P9Reader r, out Tgetattr m) { m = new(r.U32(), r.U64()); return true; }
}

/// <summary>Rgetattr: see <see cref="P9StatDotl"/>.</summary>
public readonly record struct Rgetattr(P9StatDotl Stat) : IP9Message<Rgetattr>
{
    public static P9MessageType Type => P9MessageType.Rgetattr;
    public void Encode(ref P9Writer w) => Stat.Encode(ref w);
    public static bool TryDecode(scoped ref P9Reader r, out Rgetattr m) { m = new(P9StatDotl.Decode(ref r)); return true; }
}
