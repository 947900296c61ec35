namespace Sentry.P9;

/// <summary>Tflush: oldtag[2]. Abandons the request with that tag; its reply (if any) comes before Rflush.</summary>
public readonly record struct Tflush(ushort OldTag) : IP9Message<Tflush>
{
    public static P9MessageType Type => P9MessageType.Tflush;
    public void Encode(ref P9Writer w) => w.U16(OldTag);
    public static bool TryDecode(scoped ref P9Reader r, out Tflush m) { m = new(r.U16()); return true; }
}

/// <summary>Rflush: empty.</summary>
public readonly record struct Rflush : IP9Message<Rflush>
{
    public static P9MessageType Type => P9MessageType.Rflush;
    public void Encode(ref P9Writer w) { }
    public static bool TryDecode(scoped ref P9Reader r, out Rflush m) { m = default; return true; }
}
