namespace Sentry.P9;

/// <summary>
/// Tlock: fid[4] type[1] flags[4] start[8] length[8] proc_id[4] client_id[s]. A POSIX record
/// lock like fcntl(F_SETLK): type is P9_LOCK_TYPE_*, flags P9_LOCK_FLAGS_*, length 0 means to
/// the end of the file. A blocking request is never held by the server: it answers
/// P9_LOCK_BLOCKED and the client retries.
/// </summary>
public readonly ref struct Tlock : IP9Message<Tlock>
{
    public uint Fid { get; }
    public byte LockType { get; }
    public uint Flags { get; }
    public ulong Start { get; }
    public ulong Length { get; }
    public uint ProcId { get; }
    public ReadOnlySpan<byte> ClientId { get; }

    public Tlock(uint fid, byte lockType, uint flags, ulong start, ulong length, uint procId, ReadOnlySpan<byte> clientId)
    { Fid = fid; LockType = lockType; Flags = flags; Start = start; Length = length; ProcId = procId; ClientId = clientId; }

    public static P9MessageType Type => P9MessageType.Tlock;

    public void Encode(ref P9Writer w)
    { w.U32(Fid); w.U8(LockType); w.U32(Flags); w.U64(Start); w.U64(Length); w.U32(ProcId); w.String(ClientId); }

    public static bool TryDecode(scoped ref P9Reader r, out Tlock m)
    { m = new(r.U32(), r.U8(), r.U32(), r.U64(), r.U64(), r.U32(), r.String()); return true; }
}

/// <summary>Rlock: status[1], one of P9_LOCK_SUCCESS, _BLOCKED, _ERROR, _GRACE.</summary>
public readonly record struct Rlock(byte Status) : IP9Message<Rlock>
{
    public static P9MessageType Type => P9MessageType.Rlock;
    public void Encode(ref P9Writer w) => w.U8(Status);
    public static bool TryDecode(scoped ref P9Reader r, out Rlock m) { m = new(r.U8()); return true; }
}
