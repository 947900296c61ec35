namespace Sentry.P9;

/// <summary>Twrite: fid[4] offset[8] count[4] data[count]. count + P9_IOHDRSZ must not exceed msize.</summary>
public readonly ref struct Twrite : IP9Message<Twrite>
{
    public uint Fid { get; }
    public ulong Offset { get; }
    public ReadOnlySpan<byte> Data { get; }

    public Twrite(uint fid, ulong offset, ReadOnlySpan<byte> data) { Fid = fid; Offset = offset; Data = data; }

    public static P9MessageType Type => P9MessageType.Twrite;
    public void Encode(ref P9Writer w) { w.U32(Fid); w.U64(Offset); w.U32((uint)Data.Length); w.Bytes(Data); }
    public static bool TryDecode(scoped ref P9Reader r, out Twrite m) { m = new(r.U32(), r.U64(), r.Bytes(r.U32())); return true; }
}

/// <summary>Rwrite: count[4] bytes written.</summary>
public readonly record struct Rwrite(uint Count) : IP9Message<Rwrite>
{
    public static P9MessageType Type => P9MessageType.Rwrite;
    public void Encode(ref P9Writer w) => w.U32(Count);
    public static bool TryDecode(scoped ref P9Reader r, out Rwrite m) { m = new(r.U32()); return true; }
}
