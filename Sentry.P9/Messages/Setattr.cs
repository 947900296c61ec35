namespace Sentry.P9;

/// <summary>Tsetattr: fid[4] then the attributes to change (see <see cref="P9IattrDotl"/>).</summary>
public readonly record struct Tsetattr(uint Fid, P9IattrDotl Attr) : IP9Message<Tsetattr>
{
    public static P9MessageType Type => P9MessageType.Tsetattr;
    public void Encode(ref P9Writer w) { w.U32(Fid); Attr.Encode(ref w); }
    public static bool TryDecode(scoped ref P9Reader r, out Tsetattr m) { m = new(r.U32(), P9IattrDotl.Decode(ref r)); return true; }
}

/// <summary>Rsetattr: empty.</summary>
public readonly record struct Rsetattr : IP9Message<Rsetattr>
{
    public static P9MessageType Type => P9MessageType.Rsetattr;
    public void Encode(ref P9Writer w) { }
    public static bool TryDecode(scoped ref P9Reader r, out Rsetattr m) { m = default; return true; }
}
