using System.Buffers.Binary;

namespace Sentry.P9;

/// <summary>
/// Twalk: fid[4] newfid[4] nwname[2] nwname*(wname[s]). Walks from fid through up to
/// P9_MAXWELEM names and, if every name is found, makes newfid refer to the result (newfid may
/// equal fid; no names clones fid).
/// </summary>
public readonly ref struct Twalk : IP9Message<Twalk>
{
    public uint Fid { get; }
    public uint NewFid { get; }
    public P9WalkNames Names { get; }

    public Twalk(uint fid, uint newFid, P9WalkNames names) { Fid = fid; NewFid = newFid; Names = names; }

    public static P9MessageType Type => P9MessageType.Twalk;
    public void Encode(ref P9Writer w) { w.U32(Fid); w.U32(NewFid); Names.Encode(ref w); }
    public static bool TryDecode(scoped ref P9Reader r, out Twalk m) { m = new(r.U32(), r.U32(), P9WalkNames.Decode(ref r)); return true; }
}

/// <summary>
/// Rwalk: nwqid[2] nwqid*(qid[13]), one qid per name walked. Fewer qids than names means the
/// walk stopped early and newfid was not created; a failure at the first name is an Rlerror.
/// </summary>
public readonly ref struct Rwalk : IP9Message<Rwalk>
{
    // Built for sending from qids; decoded ones stay the 13-byte wire records.
    readonly ReadOnlySpan<P9Qid> _qids;
    readonly ReadOnlySpan<byte> _wire;

    public int Count { get; }

    public Rwalk(ReadOnlySpan<P9Qid> qids) { _qids = qids; Count = qids.Length; }

    Rwalk(ReadOnlySpan<byte> wire, int count) { _wire = wire; Count = count; }

    public P9Qid this[int i]
    {
        get
        {
            if ((uint)i >= (uint)Count) throw new IndexOutOfRangeException();
            if (_wire.IsEmpty) return _qids[i];
            ReadOnlySpan<byte> q = _wire.Slice(i * P9Qid.WireSize, P9Qid.WireSize);
            return new P9Qid(q[0], BinaryPrimitives.ReadUInt32LittleEndian(q[1..]), BinaryPrimitives.ReadUInt64LittleEndian(q[5..]));
        }
    }

    public static P9MessageType Type => P9MessageType.Rwalk;

    public void Encode(ref P9Writer w)
    {
        if (Count > P9.P9_MAXWELEM) { w.Fail(); return; }
        w.U16((ushort)Count);
        for (int i = 0; i < Count; i++) w.Qid(this[i]);
    }

    public static bool TryDecode(scoped ref P9Reader r, out Rwalk m)
    {
        int count = r.U16();
        m = default;
        if (count > P9.P9_MAXWELEM) return false;
        m = new Rwalk(r.Bytes(count * P9Qid.WireSize), count);
        return true;
    }
}
