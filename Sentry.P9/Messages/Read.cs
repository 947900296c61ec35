namespace Sentry.P9;

/// <summary>Tread: fid[4] offset[8] count[4]. count + P9_IOHDRSZ must not exceed msize.</summary>
public readonly record struct Tread(uint Fid, ulong Offset, uint Count) : IP9Message<Tread>
{
    public static P9MessageType Type => P9MessageType.Tread;
    public void Encode(ref P9Writer w) { w.U32(Fid); w.U64(Offset); w.U32(Count); }
    public static bool TryDecode(scoped ref P9Reader r, out Tread m) { m = new(r.U32(), r.U64(), r.U32()); return true; }
}

/// <summary>Rread: count[4] data[count]; fewer bytes than asked is a short read, none is end of file.</summary>
public readonly ref struct Rread : IP9Message<Rread>
{
    public ReadOnlySpan<byte> Data { get; }

    public Rread(ReadOnlySpan<byte> data) => Data = data;

    public static P9MessageType Type => P9MessageType.Rread;
    public void Encode(ref P9Writer w) { w.U32((uint)Data.Length); w.Bytes(Data); }
    public static bool TryDecode(scoped ref P9Reader r, out Rread m) { m = new(r.Bytes(r.U32())); return true; }
}
