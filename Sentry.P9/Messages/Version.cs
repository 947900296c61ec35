namespace Sentry.P9;

/// <summary>
/// Tversion: msize[4] version[s]. The first message on a connection, with tag P9_NOTAG: the
/// client proposes the largest frame it handles and the protocol ("9P2000.L").
/// </summary>
public readonly ref struct Tversion : IP9Message<Tversion>
{
    public uint MSize { get; }
    public ReadOnlySpan<byte> Version { get; }

    public Tversion(uint msize, ReadOnlySpan<byte> version) { MSize = msize; Version = version; }

    public static P9MessageType Type => P9MessageType.Tversion;
    public void Encode(ref P9Writer w) { w.U32(MSize); w.String(Version); }
    public static bool TryDecode(scoped ref P9Reader r, out Tversion m) { m = new(r.U32(), r.String()); return true; }
}

/// <summary>Rversion: msize[4] version[s]; msize no larger than proposed, version "unknown" if refused.</summary>
public readonly ref struct Rversion : IP9Message<Rversion>
{
    public uint MSize { get; }
    public ReadOnlySpan<byte> Version { get; }

    public Rversion(uint msize, ReadOnlySpan<byte> version) { MSize = msize; Version = version; }

    public static P9MessageType Type => P9MessageType.Rversion;
    public void Encode(ref P9Writer w) { w.U32(MSize); w.String(Version); }
    public static bool TryDecode(scoped ref P9Reader r, out Rversion m) { m = new(r.U32(), r.String()); return true; }
}
