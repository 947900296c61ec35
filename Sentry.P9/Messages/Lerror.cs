namespace Sentry.P9;

/// <summary>Rlerror: ecode[4], a Linux errno; the reply to any request that failed.</summary>
public readonly record struct Rlerror(uint Ecode) : IP9Message<Rlerror>
{
    public static P9MessageType Type => P9MessageType.Rlerror;
    public void Encode(ref P9Writer w) => w.U32(Ecode);
    public static bool TryDecode(scoped ref P9Reader r, out Rlerror m) { m = new(r.U32()); return true; }
}
