namespace Sentry.P9;

/// <summary>Treadlink: fid[4] of a symlink.</summary>
public readonly record struct Treadlink(uint Fid) : IP9Message<Treadlink>
{
    public static P9MessageType Type => P9MessageType.Treadlink;
    public void Encode(ref P9Writer w) => w.U32(Fid);
    public static bool TryDecode(scoped ref P9Reader r, out Treadlink m) { m = new(r.U32()); return true; }
}

/// <summary>Rreadlink: target[s].</summary>
public readonly ref struct Rreadlink : IP9Message<Rreadlink>
{
    public ReadOnlySpan<byte> Target { get; }

    public Rreadlink(ReadOnlySpan<byte> target) => Target = target;

    public static P9MessageType Type => P9MessageType.Rreadlink;
    public void Encode(ref P9Writer w) => w.String(Target);
    public static bool TryDecode(scoped ref P9Reader r, out Rreadlink m) { m = new(r.String()); return true; }
}
