namespace Sentry.P9;

/// <summary>
/// One directory entry in Rreaddir data: qid[13] offset[8] type[1] name[s]. Offset is the
/// cookie to pass in the next Treaddir to continue after this entry; type is a Linux DT_* value.
/// </summary>
public readonly ref struct P9Dirent
{
    public P9Qid Qid { get; }
    public ulong Offset { get; }
    public byte Type { get; }
    public ReadOnlySpan<byte> Name { get; }

    public P9Dirent(P9Qid qid, ulong offset, byte type, ReadOnlySpan<byte> name)
    {
        Qid = qid;
        Offset = offset;
        Type = type;
        Name = name;
    }

    /// <summary>Bytes this entry takes in Rreaddir data.</summary>
    public int WireSize => P9Qid.WireSize + 8 + 1 + 2 + Name.Length;

    /// <summary>
    /// Appends this entry at the start of <paramref name="dest"/>: returns the bytes written, or 0
    /// when it does not fit (the reply is then full) or the name is longer than a string can be.
    /// </summary>
    public int TryWrite(Span<byte> dest)
    {
        var w = new P9Writer(dest);
        w.Qid(Qid);
        w.U64(Offset);
        w.U8(Type);
        w.String(Name);
        return w.Failed ? 0 : w.Position;
    }
}
