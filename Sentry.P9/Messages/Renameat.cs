namespace Sentry.P9;

/// <summary>Trenameat: olddirfid[4] oldname[s] newdirfid[4] newname[s]. renameat(2) between two directories.</summary>
public readonly ref struct Trenameat : IP9Message<Trenameat>
{
    public uint OldDirFid { get; }
    public ReadOnlySpan<byte> OldName { get; }
    public uint NewDirFid { get; }
    public ReadOnlySpan<byte> NewName { get; }

    public Trenameat(uint oldDirFid, ReadOnlySpan<byte> oldName, uint newDirFid, ReadOnlySpan<byte> newName)
    { OldDirFid = oldDirFid; OldName = oldName; NewDirFid = newDirFid; NewName = newName; }

    public static P9MessageType Type => P9MessageType.Trenameat;
    public void Encode(ref P9Writer w) { w.U32(OldDirFid); w.String(OldName); w.U32(NewDirFid); w.String(NewName); }
    public static bool TryDecode(scoped ref P9Reader r, out Trenameat m) { m = new(r.U32(), r.String(), r.U32(), r.String()); return true; }
}

/// <summary>Rrenameat: empty.</summary>
public readonly record struct Rrenameat : IP9Message<Rrenameat>
{
    public static P9MessageType Type => P9MessageType.Rrenameat;
    public void Encode(ref P9Writer w) { }
    public static bool TryDecode(scoped ref P9Reader r, out Rrenameat m) { m = default; return true; }
}
